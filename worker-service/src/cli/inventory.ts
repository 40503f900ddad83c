/**
 * `outport inventory --tenant-config FILE --mailbox SMTP [--archive] [--items]`: what a mailbox (or
 * its in-place archive, auxiliary part included) holds, read through Graph's mailbox API with the
 * tenant config's app (client credentials): the folder tree with each folder's item count and bytes
 * (mailboxItem.size summed), and with `--items` NDJSON records of every folder and item instead.
 *
 * Text output (one line per folder, indented by depth, then a total):
 *   Inbox                                   12 items      123,456 bytes
 * NDJSON output (`--items`), one object per line:
 *   {"kind":"folder","path":"Inbox/Lists","id":"…","type":"IPF.Note","wellKnownName":null,"totalItemCount":3}
 *   {"kind":"item","folder":"Inbox/Lists","id":"…","type":"IPM.Note","size":1234,"createdDateTime":"…","lastModifiedDateTime":"…"}
 *   {"kind":"folderEnd","path":"Inbox/Lists","id":"…","items":3,"bytes":10000}
 *   {"kind":"total","mailbox":"…","mailboxId":"MBX:…","archive":false,"folders":12,"items":38,"bytes":232258,"failedFolders":0}
 * Exit codes: 0 read completely; 1 the mailbox could not be read or a folder's listing failed (the
 * failure is on stderr, with Graph's code); 2 bad usage or an unusable tenant config.
 * Graph calls: settings/exchange (mailbox id), mailbox-list-folders / childFolders, a folder's
 * `items` (mailboxfolder-list-items) with `$select` and `Prefer: odata.maxpagesize=1000`.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { GraphError } from '../graph/errors';
import { idSegment, pages, walkFolders, type MailboxItem } from '../graph/discovery';
import { resolveMailbox } from '../graph/source';
import { graphClientForTenant, readTenantConfig, TenantConfigError } from '../graph/tenant-client';
import { parseArgs, UsageError } from './args';

/** The usage line. */
export const INVENTORY_USAGE = 'outport inventory --tenant-config FILE --mailbox SMTP [--archive] [--items]';

/** Items per listing page asked of Graph (its maximum for mailbox items is 1000). */
const PAGE_SIZE = 1000;

/** Totals of one inventory run. */
export interface InventoryTotals {
  folders: number;
  items: number;
  bytes: number;
  failedFolders: number;
}

async function write(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

const grouped = (n: number): string => n.toLocaleString('en-US');

/**
 * Runs the command. @returns the exit code (0, 1, 2); writes to `out` (default stdout) and
 * `err` (default stderr)
 */
export async function run(argv: string[], out: Writable = process.stdout, err: Writable = process.stderr): Promise<number> {
  let mailbox: string;
  let archive: boolean;
  let items: boolean;
  let configFile: string;
  try {
    const { positional, flags } = parseArgs(argv, ['tenant-config', 'mailbox'], `usage: ${INVENTORY_USAGE}`, ['archive', 'items']);
    if (positional.length > 0) throw new UsageError(`unexpected argument "${positional[0]}"\nusage: ${INVENTORY_USAGE}`);
    configFile = flags.get('tenant-config') ?? '';
    mailbox = flags.get('mailbox') ?? '';
    if (!configFile) throw new UsageError(`--tenant-config FILE is required (a tenant config, e.g. from "outport sandbox --write-config FILE")\nusage: ${INVENTORY_USAGE}`);
    if (!mailbox || !/^[^@\s]+@[^@\s]+$/.test(mailbox)) throw new UsageError(`--mailbox needs the user's SMTP address (user@domain), not "${mailbox}"\nusage: ${INVENTORY_USAGE}`);
    archive = flags.get('archive') === 'true';
    items = flags.get('items') === 'true';
  } catch (e) {
    if (e instanceof UsageError) { await write(err, `outport inventory: ${e.message}\n`); return 2; }
    throw e;
  }
  let client;
  try {
    client = graphClientForTenant(await readTenantConfig(configFile));
  } catch (e) {
    if (e instanceof TenantConfigError || e instanceof TypeError) { await write(err, `outport inventory: ${e.message}\n`); return 2; }
    throw e;
  }

  const totals: InventoryTotals = { folders: 0, items: 0, bytes: 0, failedFolders: 0 };
  let mailboxId: string;
  try {
    mailboxId = (await resolveMailbox(client, { user: mailbox, archive })).mailboxId!;
    if (!items) await write(out, `Mailbox ${mailbox}${archive ? ' (in-place archive)' : ''} ${mailboxId}\n`);
    for await (const f of walkFolders(client, mailboxId, { maxPageSize: PAGE_SIZE })) {
      const path = f.path.join('/');
      totals.folders++;
      if (items) await write(out, JSON.stringify({ kind: 'folder', path, id: f.id, type: f.type ?? null, wellKnownName: f.wellKnownName ?? null, totalItemCount: f.totalItemCount ?? null }) + '\n');
      let count = 0;
      let bytes = 0;
      try {
        const url = `/admin/exchange/mailboxes/${idSegment(mailboxId)}/folders/${idSegment(f.id)}/items?$select=id,type,size,createdDateTime,lastModifiedDateTime`;
        for await (const page of pages<MailboxItem>(client, url, { maxPageSize: PAGE_SIZE })) {
          for (const it of page.value) {
            count++;
            bytes += it.size ?? 0;
            if (items) {
              await write(out, JSON.stringify({ kind: 'item', folder: path, id: it.id, type: it.type ?? null, size: it.size ?? null, createdDateTime: it.createdDateTime ?? null, lastModifiedDateTime: it.lastModifiedDateTime ?? null }) + '\n');
            }
          }
        }
      } catch (e) {
        if (!(e instanceof GraphError)) throw e;
        totals.failedFolders++;
        await write(err, `outport inventory: folder "${path}" could not be listed: ${e.code}: ${e.message}\n`);
      }
      totals.items += count;
      totals.bytes += bytes;
      if (items) await write(out, JSON.stringify({ kind: 'folderEnd', path, id: f.id, items: count, bytes }) + '\n');
      else await write(out, `${`${'  '.repeat(f.depth)}${f.displayName}`.padEnd(40)} ${grouped(count).padStart(9)} items ${grouped(bytes).padStart(15)} bytes\n`);
    }
  } catch (e) {
    if (!(e instanceof GraphError)) throw e;
    await write(err, `outport inventory: ${mailbox}${archive ? ' (archive)' : ''} could not be read: ${e.code}: ${e.message}\n`);
    return 1;
  }
  if (items) await write(out, JSON.stringify({ kind: 'total', mailbox, mailboxId, archive, ...totals }) + '\n');
  else await write(out, `Total: ${grouped(totals.items)} items, ${grouped(totals.bytes)} bytes in ${grouped(totals.folders)} folders${totals.failedFolders ? ` (${totals.failedFolders} could not be listed)` : ''}\n`);
  return totals.failedFolders > 0 ? 1 : 0;
}
