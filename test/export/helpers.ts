/**
 * Helpers of the export tests: the sandbox's truth for a mailbox (the auxiliary part of an
 * auto-expanding archive included), and checks on stored parts (checker clean, read back by our
 * reader, manifest item count equals the PST's).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkPst } from '../../worker-service/src/pst/check';
import { PstReader } from '../../worker-service/src/pst/reader';
import { parseManifest } from '../../worker-service/src/export/manifest';
import type { PartManifest } from '../../worker-service/src/export/types';
import { mailboxFolders, type SandboxMailbox } from '../../worker-service/src/sandbox';
import type { Destination } from '../../worker-service/src/storage/destination';

/** Ids of every item the mailbox's tree lists (an archive's overflow folders included), in folder order. */
export function truthIds(mb: SandboxMailbox): string[] {
  return mailboxFolders(mb).flatMap((f) => f.items.map((i) => i.id));
}

/**
 * Items (non-associated) in a PST (a file path, or bytes: written to a temporary file first, since
 * PstReader.openBytes misreads permute-encoded parts of a few hundred KB), each read back whole.
 */
export async function pstItemCount(input: string | Uint8Array): Promise<number> {
  if (typeof input !== 'string') {
    const dir = mkdtempSync(join(tmpdir(), 'outport-export-count-'));
    try {
      writeFileSync(join(dir, 'part.pst'), input);
      return await pstItemCount(join(dir, 'part.pst'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const r = await PstReader.open(input);
  try {
    let n = 0;
    for await (const f of r.folders()) {
      const nids = await r.itemNids(f, { associated: false });
      for (const x of nids) await r.readItem(x.nid, false); // every item must read back
      n += nids.length;
    }
    return n;
  } finally {
    await r.close();
  }
}

/** Reads a part and its manifest from `dest`, asserts the part is clean and holds the manifest's items. */
export async function verifyPart(dest: Destination, name: string): Promise<PartManifest> {
  const bytes = await dest.getSmall(name);
  if (!bytes) throw new Error(`part ${name} is missing`);
  // checked and read from a file: checkPstSource/PstReader.openBytes on in-memory bytes report false
  // corruption on permute-encoded parts past a few hundred KB (reported; pst/ is not ours)
  const dir = mkdtempSync(join(tmpdir(), 'outport-export-part-'));
  const file = join(dir, name);
  let count: number;
  try {
    writeFileSync(file, bytes);
    const report = await checkPst(file);
    expect(report.findings).toEqual([]);
    count = await pstItemCount(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const m = parseManifest((await dest.getSmall(`${name}.manifest.json`))!);
  if (!m) throw new Error(`manifest of ${name} missing or unreadable`);
  expect(m.part.name).toBe(name);
  expect(m.part.sizeBytes).toBe(bytes.length);
  expect(count).toBe(m.items.length);
  return m;
}

/** Every source id in the manifests of `names`, in order (duplicates kept, so tests can find them). */
export async function manifestIds(dest: Destination, names: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const n of names) out.push(...(await verifyPart(dest, n)).items.map((i) => i.sourceId));
  return out;
}
