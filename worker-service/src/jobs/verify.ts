/**
 * "Verify credentials" for one item (issue 4 part 3; the MigrationWiz seed's Verify Credentials):
 * the mailbox is reachable, the archive exists (archive items), the export permission works (the
 * mailbox's folder list is readable through the mailbox API), and the destination accepts a write
 * and a delete (a probe blob). Each check records ok or a message naming the cause; nothing stops at
 * the first failure except that permissions need a reachable mailbox. A token that expired or was
 * refused is not a failed check: it is rethrown so the runner moves the item to WaitingForAuth.
 */
import { randomUUID } from 'node:crypto';
import { getMailboxIds, walkFolders } from '../graph/discovery';
import type { GraphClient } from '../graph/client';
import type { SourceMailbox } from '../graph/source-types';
import type { Destination } from '../storage/destination';
import type { Item, Verification } from './contract';
import { isAuthExpired, safeErrorMessage } from './errors';

/** What verify asks of the source side (Graph), injectable for tests. */
export interface VerifySource {
  /**
   * Resolves the mailbox ids of a user (`GET /users/{id}/settings/exchange`, v1.0 and beta for the archive).
   * @throws GraphError (404 MailboxNotEnabledForRESTAPI, 403 for missing permissions) or a token error
   */
  mailboxIds(user: string, signal?: AbortSignal): Promise<{ primaryMailboxId: string; inPlaceArchiveMailboxId?: string }>;
  /** Reads the mailbox's top-level folders through the mailbox API: proves the export permission. @returns folders seen (≥ 0) */
  probeRead(mailboxId: string, signal?: AbortSignal): Promise<number>;
}

/** {@link VerifySource} over a Graph client (graph/discovery.ts). */
export function graphVerifySource(client: GraphClient): VerifySource {
  return {
    mailboxIds: (user, signal) => getMailboxIds(client, user, { includeArchive: true, signal }),
    async probeRead(mailboxId, signal) {
      let n = 0;
      for await (const folder of walkFolders(client, mailboxId, { signal })) {
        if (folder.depth === 0) n++;
        break; // one folder answered is enough: the permission works
      }
      return n;
    },
  };
}

/** Which mailbox an item names: a mailbox id (`MBX:…` or a GUID) as given, else a user and primary/archive. */
export function itemMailbox(item: Pick<Item, 'source' | 'mailbox'>): SourceMailbox {
  return /^(?:MBX:|[0-9a-f]{8}-[0-9a-f]{4}-)/i.test(item.source)
    ? { mailboxId: item.source }
    : { user: item.source, archive: item.mailbox === 'archive' };
}

/** Name of the probe object written and deleted by the storage check. */
export function probeName(): string {
  return `.outport-probe-${randomUUID()}`;
}

/**
 * Runs the checks for `item`: `mailbox`, `archive` (archive items), `permissions`, `storage`.
 * @throws the token error itself when {@link isAuthExpired} (the caller waits for a fresh token); the signal's reason when aborted
 */
export async function verifyItem(item: Pick<Item, 'source' | 'mailbox'>, deps: { source: VerifySource; destination: Destination }, signal?: AbortSignal): Promise<Verification> {
  const checks: Verification['checks'] = [];
  const attempt = async (name: string, fn: () => Promise<string | undefined>): Promise<boolean> => {
    signal?.throwIfAborted();
    try {
      const problem = await fn();
      checks.push(problem ? { name, ok: false, message: problem } : { name, ok: true });
      return !problem;
    } catch (e) {
      if (isAuthExpired(e) || signal?.aborted) throw e;
      checks.push({ name, ok: false, message: safeErrorMessage(e) });
      return false;
    }
  };

  const mb = itemMailbox(item);
  let mailboxId: string | undefined;
  if ('mailboxId' in mb) {
    mailboxId = mb.mailboxId;
    checks.push({ name: 'mailbox', ok: true, message: 'given as a mailbox id' });
  } else {
    let archiveId: string | undefined;
    const reachable = await attempt('mailbox', async () => {
      const ids = await deps.source.mailboxIds(mb.user, signal);
      mailboxId = ids.primaryMailboxId;
      archiveId = ids.inPlaceArchiveMailboxId;
      return undefined;
    });
    if (reachable && item.mailbox === 'archive') {
      await attempt('archive', async () => (archiveId ? undefined : `${mb.user} has no in-place archive: remove the archive item or enable the archive`));
      mailboxId = archiveId;
    }
  }
  if (mailboxId) {
    const id = mailboxId;
    await attempt('permissions', async () => {
      await deps.source.probeRead(id, signal);
      return undefined;
    });
  } else {
    checks.push({ name: 'permissions', ok: false, message: 'not checked: the mailbox was not reached' });
  }
  await attempt('storage', async () => {
    const name = probeName();
    const bytes = new TextEncoder().encode(`outport verify ${new Date().toISOString()}\n`);
    await deps.destination.ensure(signal);
    await deps.destination.putSmall(name, bytes, 'text/plain', signal);
    const back = await deps.destination.getSmall(name, signal);
    await deps.destination.delete(name, signal);
    if (!back || Buffer.compare(Buffer.from(back), Buffer.from(bytes)) !== 0) return 'the probe written to the destination did not read back the same';
    const left = await deps.destination.list(name, signal);
    if (left.some((o) => o.name === name)) return 'the probe could not be deleted from the destination: the credential lacks delete permission';
    return undefined;
  });
  return { ok: checks.every((c) => c.ok), checks };
}
