/**
 * Stale parts: when a full pass starts over (the jobs layer clears an item's finished parts, e.g.
 * a new full export after an earlier one) and writes fewer parts than before, the earlier run's
 * higher-numbered parts would stay in the destination, and a reader of the container would see
 * their items twice. Likewise a part committed by a run that crashed before recording it. After a
 * pass completes, parts of the same PST name numbered above the last recorded part, whose manifest
 * names the same mailbox, are removed (blob, then manifest). Parts of another mailbox — which
 * validation (duplicate destination names) keeps from sharing a name — are never touched.
 */
import type { SourceMailbox } from '../graph/source-types';
import type { Destination } from '../storage/destination';
import { manifestMailbox, manifestName, parseManifest, MANIFEST_SUFFIX } from './manifest';

/** The 1-based part index of `name` among the parts of `firstName` ("user1.pst" → 1, "user1-3.pst" → 3), or undefined. */
export function partIndexOf(firstName: string, name: string): number | undefined {
  const base = firstName.replace(/\.pst$/i, '');
  if (!name.toLowerCase().startsWith(base.toLowerCase())) return undefined;
  const rest = name.slice(base.length);
  if (/^\.pst$/i.test(rest)) return 1;
  const m = /^-(\d{1,6})\.pst$/i.exec(rest);
  if (!m || m[1].startsWith('0')) return undefined;
  const index = Number(m[1]);
  return index >= 2 ? index : undefined;
}

/**
 * Removes the parts of `firstName` numbered above `lastIndex` that belong to `mailbox` (their
 * manifest says so), and manifests of such parts whose blob is gone.
 * @returns the object names removed (parts and manifests), sorted
 * @throws StorageError from the destination (listing or deleting)
 */
export async function removeStaleParts(destination: Destination, firstName: string, lastIndex: number, mailbox: SourceMailbox, signal?: AbortSignal): Promise<string[]> {
  const base = firstName.replace(/\.pst$/i, '');
  const objects = await destination.list(base, signal);
  const names = new Set(objects.map((o) => o.name));
  const mine = manifestMailbox(mailbox);
  const removed: string[] = [];
  const candidates = new Set<string>();
  for (const name of names) {
    const part = name.endsWith(MANIFEST_SUFFIX) ? name.slice(0, -MANIFEST_SUFFIX.length) : name;
    const index = partIndexOf(firstName, part);
    if (index !== undefined && index > lastIndex) candidates.add(part);
  }
  for (const part of [...candidates].sort()) {
    const bytes = await destination.getSmall(manifestName(part), signal);
    const manifest = bytes ? parseManifest(bytes) : undefined;
    // Without a readable manifest the part's owner is unknown: leave it (and say nothing of it).
    if (!manifest) continue;
    const same = manifest.mailbox.source.toLowerCase() === mine.source.toLowerCase() && manifest.mailbox.archive === mine.archive;
    if (!same) continue;
    if (names.has(part)) {
      await destination.delete(part, signal);
      removed.push(part);
    }
    await destination.delete(manifestName(part), signal);
    removed.push(manifestName(part));
  }
  return removed.sort();
}
