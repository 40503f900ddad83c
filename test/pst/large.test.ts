/**
 * Large and wide PSTs (issue 2, "Must show c"), each verified by Outport's checker and reader and by
 * an independent reader:
 *  1. one message with a 150 MB attachment (seeded random bytes): clean, `pffinfo -a` accepts it,
 *     SHA-256 equal through our reader and libpff (test/pst/libpff-attachments.py), stored under an
 *     XXBLOCK (150 MB / 8176 bytes a block needs more than the 1021 BIDs one XBLOCK holds);
 *  2. one folder of 100,000 unique messages (copies of the smallest corpus messages with a unique
 *     Message-ID and subject suffix): clean, PidTagContentCount = 100,000, every copy read back once
 *     by our reader and by readpst (libpff is not used here: it needs minutes for a folder this wide,
 *     see docs/benchmarks.md);
 *  3. the corpus at a 20 MB split size: ≥ 3 parts, each clean and ≤ the split size, each item in its
 *     folder path, every item in exactly one part (matched by its Message-ID).
 *
 * Files go to a fresh directory in /dev/shm when it has room, else os.tmpdir(), and are removed.
 * Long checks run in a child process (test/pst/check-child.ts) while this process reads, so the
 * file uses both CI cores. LARGE_WIDE_ITEMS overrides the 100,000 (for trying the test quickly).
 */
import { execFile } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, readdirSync, rmSync, statfsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { AttachMethod, newMapiItem, PropertyBag, TAG, type MapiFolder, type MapiItem } from '../../worker-service/src/mapi';
import { FilePstSink, PstWriter, estimateItemBytes } from '../../worker-service/src/pst/writer';
import { PstReader, type PstFolder } from '../../worker-service/src/pst/reader';
import type { CheckReport } from '../../worker-service/src/pst/check';
import type { NdbReader } from '../../worker-service/src/pst/ndb/read-ndb';
import { parseXBlock } from '../../worker-service/src/pst/ndb/read-block';
import { corpusItems, copyNumberOf, replicaStream, type CorpusItem } from '../../worker-service/src/sandbox/replicate';

const run = promisify(execFile);
const REPO_ROOT = path.resolve(__dirname, '../..');
const PYTHON = '/usr/bin/python3';
const LIBPFF_ATTACHMENTS = path.join(__dirname, 'libpff-attachments.py');

const ATTACHMENT_BYTES = 150 * 1024 * 1024;
const WIDE_ITEMS = Number(process.env.LARGE_WIDE_ITEMS ?? 100_000);
/** Corpus messages the wide folder's copies are made from: the smallest, without attachments. */
const WIDE_SOURCES = 300;
const SPLIT_SIZE_BYTES = 20 * 1024 * 1024;
/** MS-PST 2.2.2.8.3.2: a Unicode data block holds 8176 bytes, an XBLOCK 1021 BIDs. */
const DATA_BLOCK_BYTES = 8176;
const XBLOCK_BIDS = 1021;
/** MS-PST 2.2.2.7.2: bytes an AMap page maps; the writer's parts end on an interval boundary. */
const AMAP_INTERVAL_BYTES = 253_952;

/** /dev/shm when it has room for the largest file and the readpst output, else the OS temp dir. */
function scratchDir(): string {
  const base = (() => {
    try {
      const s = statfsSync('/dev/shm');
      if (s.bavail * s.bsize > 3 * 1024 ** 3) return '/dev/shm';
    } catch { /* no /dev/shm */ }
    return tmpdir();
  })();
  return mkdtempSync(path.join(base, 'outport-large-'));
}

/** `size` bytes of AES-256-CTR keystream keyed by `seed`: random-looking, the same on every run. */
function seededBytes(seed: string, size: number): Buffer {
  const key = createHash('sha256').update(seed).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const out = Buffer.allocUnsafe(size);
  const zeros = Buffer.alloc(4 * 1024 * 1024);
  for (let o = 0; o < size; o += zeros.length) cipher.update(zeros.subarray(0, Math.min(zeros.length, size - o))).copy(out, o);
  return out;
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** checkPst in a child process (another core). */
async function checkInChild(files: string[]): Promise<CheckReport[]> {
  const { stdout } = await run(process.execPath, [path.join(REPO_ROOT, 'bin/run-ts.js'), path.join(__dirname, 'check-child.ts'), ...files], { cwd: REPO_ROOT, maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(stdout) as CheckReport[];
}

/** Writes items into `dir/name` (parts name.pst, name-2.pst …) and returns the part paths. */
async function writePst(dir: string, name: string, items: Iterable<{ folderPath: readonly MapiFolder[]; item: MapiItem; n?: number }>, splitSizeBytes?: number, onPlaced?: (n: number, partIndex: number) => void): Promise<string[]> {
  const writer = PstWriter.open({ partName: name, splitSizeBytes, openSink: (file) => FilePstSink.create(path.join(dir, file)) });
  for (const { folderPath, item, n } of items) {
    const placed = await writer.addItem(folderPath, item);
    if (n !== undefined) onPlaced?.(n, placed.partIndex);
  }
  return (await writer.close()).map((p) => path.join(dir, p.fileName));
}

/** A folder's path below the top of the store ("Top of Outlook data file" left out). */
function ipmPath(f: PstFolder): string {
  return f.path.slice(1).join('/');
}

/** Every data tree top (node and subnode data streams) that is an XBLOCK or XXBLOCK. */
async function dataTrees(ndb: NdbReader): Promise<{ nid: number; cLevel: number; lcbTotal: number; leaves: number }[]> {
  const out: { nid: number; cLevel: number; lcbTotal: number; leaves: number }[] = [];
  const visit = async (nid: number, bidData: bigint, bidSub: bigint): Promise<void> => {
    if (bidData !== 0n) {
      const top = await ndb.readBlock(bidData);
      if (top.internal) {
        const x = parseXBlock(top.data, bidData, ndb.format);
        let leaves = x.cEnt;
        if (x.cLevel === 2) {
          leaves = 0;
          for (const child of x.rgbid) leaves += parseXBlock((await ndb.readBlock(child)).data, child, ndb.format).cEnt;
        }
        out.push({ nid, cLevel: x.cLevel, lcbTotal: x.lcbTotal, leaves });
      }
    }
    if (bidSub !== 0n) for (const sub of (await ndb.readSubnodes(bidSub)).values()) await visit(sub.nid, sub.bidData, sub.bidSub);
  };
  for await (const node of ndb.nodes()) await visit(node.nid, node.bidData, node.bidSub);
  return out;
}

/** Copy numbers in readpst's mbox output (one per message, from its Message-ID header). */
async function readpstCopyNumbers(pst: string, outDir: string): Promise<number[]> {
  await run('readpst', ['-q', '-o', outDir, pst], { maxBuffer: 64 * 1024 * 1024 });
  const numbers: number[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) { await walk(p); continue; }
      const lines = createInterface({ input: createReadStream(p, { encoding: 'latin1' }), crlfDelay: Infinity });
      for await (const line of lines) {
        if (line.length > 12 && (line[0] === 'M' || line[0] === 'm') && /^message-id:/i.test(line)) {
          const n = copyNumberOf(line.slice(11).trim());
          if (n !== undefined) numbers.push(n);
        }
      }
    }
  };
  await walk(outDir);
  return numbers;
}

/** Counts how often each copy number 0..count-1 was seen; returns [missing, duplicated, unexpected]. */
function tally(numbers: Iterable<number>, count: number): { missing: number; duplicated: number; unexpected: number } {
  const seen = new Uint8Array(count);
  let duplicated = 0, unexpected = 0;
  for (const n of numbers) {
    if (!(n >= 0 && n < count)) unexpected++;
    else if (seen[n]++) duplicated++;
  }
  return { missing: seen.reduce((a, s) => a + (s === 0 ? 1 : 0), 0), duplicated, unexpected };
}

function logTimings(name: string, t: Record<string, number>): void {
  console.info(`${name}: ` + Object.entries(t).map(([k, v]) => `${k}=${(v / 1000).toFixed(1)}s`).join(' '));
}

describe('large and wide PSTs (issue 2 "Must show c")', () => {
  let dir: string;
  let corpus: CorpusItem[];

  beforeAll(async () => {
    dir = scratchDir();
    corpus = await corpusItems();
  }, 120_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('stores a 150 MB attachment under an XXBLOCK that our reader and libpff read back intact', async () => {
    const t: Record<string, number> = {};
    let t0 = Date.now();
    const data = seededBytes('outport large.test 150 MB attachment', ATTACHMENT_BYTES);
    const expected = sha256(data);
    const item = newMapiItem();
    item.properties.setTag(TAG.PidTagMessageClass, 'IPM.Note').setTag(TAG.PidTagSubject, '150 MB attachment');
    const att = new PropertyBag()
      .setTag(TAG.PidTagAttachMethod, AttachMethod.ByValue)
      .setTag(TAG.PidTagAttachFilename, 'random.bin')
      .setTag(TAG.PidTagAttachLongFilename, 'random-150MB.bin')
      .setTag(TAG.PidTagAttachDataBinary, data);
    item.attachments.push({ properties: att });
    const [file] = await writePst(dir, 'big.pst', [{ folderPath: [{ displayName: 'Inbox' }], item }]);
    t.write = Date.now() - t0;

    t0 = Date.now();
    const [report] = await checkInChild([file]);
    expect(report.findings).toEqual([]);
    t.check = Date.now() - t0;

    t0 = Date.now();
    await run('pffinfo', ['-a', file], { maxBuffer: 64 * 1024 * 1024 });
    t.pffinfo = Date.now() - t0;

    t0 = Date.now();
    const reader = await PstReader.open(file);
    try {
      const found: { folder: string; size: number; sha256: string }[] = [];
      for await (const f of reader.folders()) {
        for await (const it of reader.items(f)) {
          for (const a of it.attachments) {
            const bytes = a.properties.get(TAG.PidTagAttachDataBinary.id) as Uint8Array;
            found.push({ folder: ipmPath(f), size: bytes.length, sha256: sha256(bytes) });
          }
        }
      }
      expect(found).toEqual([{ folder: 'Inbox', size: ATTACHMENT_BYTES, sha256: expected }]);
      t.reader = Date.now() - t0;

      // MS-PST 2.2.2.8.3.2.2: more than 1021 data blocks need an XXBLOCK (cLevel 2) over XBLOCKs.
      const leaves = Math.ceil(ATTACHMENT_BYTES / DATA_BLOCK_BYTES);
      expect(leaves).toBeGreaterThan(XBLOCK_BIDS);
      const big = (await dataTrees(reader.ndb)).filter((d) => d.lcbTotal === ATTACHMENT_BYTES);
      expect(big).toEqual([{ nid: expect.any(Number), cLevel: 2, lcbTotal: ATTACHMENT_BYTES, leaves }]);
    } finally {
      await reader.close();
    }

    t0 = Date.now();
    const { stdout } = await run(PYTHON, [LIBPFF_ATTACHMENTS, file], { maxBuffer: 64 * 1024 * 1024 });
    const libpff = JSON.parse(stdout) as { messages: { folder: string; subject: string; attachments: { size: number; read: number; sha256: string }[] }[] };
    expect(libpff.messages).toEqual([
      { folder: 'Top of Outlook data file/Inbox', subject: '150 MB attachment', attachments: [{ size: ATTACHMENT_BYTES, read: ATTACHMENT_BYTES, sha256: expected }] },
    ]);
    t.libpff = Date.now() - t0;
    logTimings('150 MB attachment', t);
    rmSync(file);
  }, 300_000);

  it(`writes one folder of ${WIDE_ITEMS.toLocaleString('en')} unique messages that every reader counts`, async () => {
    const t: Record<string, number> = {};
    let t0 = Date.now();
    const sources = corpus
      .filter((c) => c.item.attachments.length === 0)
      .sort((a, b) => estimateItemBytes(a.item) - estimateItemBytes(b.item))
      .slice(0, WIDE_SOURCES);
    const folderPath = [{ displayName: 'Wide' }];
    const stream = (function* () {
      for (const r of replicaStream(sources, WIDE_ITEMS)) yield { folderPath, item: r.item };
    })();
    const [file] = await writePst(dir, 'wide.pst', stream);
    t.write = Date.now() - t0;
    const sizeBytes = statSync(file).size;

    // checker and readpst (child processes) ‖ our reader (this process)
    t0 = Date.now();
    const checked = checkInChild([file]).then((r) => { t.check = Date.now() - t0; return r; });
    const rpDir = mkdtempSync(path.join(dir, 'readpst-'));
    const readpst = readpstCopyNumbers(file, rpDir).then((r) => { t.readpst = Date.now() - t0; return r; });
    const reader = await PstReader.open(file);
    const ours: number[] = [];
    let contentCount = -1, nids = 0;
    try {
      for await (const f of reader.folders()) {
        if (ipmPath(f) !== 'Wide') {
          if (!f.isSearchFolder) expect([ipmPath(f), (await reader.itemNids(f)).length]).toEqual([ipmPath(f), 0]);
          continue;
        }
        contentCount = f.contentCount;
        nids = (await reader.itemNids(f)).length;
        for await (const it of reader.items(f)) ours.push(copyNumberOf(it.properties.get(TAG.PidTagInternetMessageId.id) as string) ?? -1);
      }
    } finally {
      await reader.close();
    }
    t.reader = Date.now() - t0;
    expect(contentCount).toBe(WIDE_ITEMS);
    expect(nids).toBe(WIDE_ITEMS);
    expect(tally(ours, WIDE_ITEMS)).toEqual({ missing: 0, duplicated: 0, unexpected: 0 });
    expect(ours.length).toBe(WIDE_ITEMS);

    const theirs = await readpst;
    rmSync(rpDir, { recursive: true, force: true });
    expect(theirs.length).toBe(WIDE_ITEMS);
    expect(tally(theirs, WIDE_ITEMS)).toEqual({ missing: 0, duplicated: 0, unexpected: 0 });

    const [report] = await checked;
    expect(report.findings).toEqual([]);
    expect(report.stats.messages).toBe(WIDE_ITEMS);
    t.total = Date.now() - t0 + t.write;
    logTimings(`${WIDE_ITEMS} messages, ${(sizeBytes / 1e6).toFixed(0)} MB`, t);
    rmSync(file);
  }, 480_000);

  /** Part sizes of the split test, for the known-bug test after it. */
  const splitPartSizes: number[] = [];

  it('splits the corpus into ≥ 3 parts at 20 MB, each clean and complete, every item exactly once', async () => {
    const t: Record<string, number> = {};
    let t0 = Date.now();
    const count = corpus.length;
    const expectedFolder: string[] = [];
    const placedPart = new Int32Array(count);
    const stream = (function* () {
      for (const r of replicaStream(corpus, count)) {
        expectedFolder[r.n] = r.folderPath.map((f) => f.displayName).join('/');
        yield r;
      }
    })();
    const files = await writePst(dir, 'split.pst', stream, SPLIT_SIZE_BYTES, (n, part) => { placedPart[n] = part; });
    t.write = Date.now() - t0;
    expect(files.length).toBeGreaterThanOrEqual(3);
    expect(files.map((f) => path.basename(f))).toEqual(files.map((_, i) => (i === 0 ? 'split.pst' : `split-${i + 1}.pst`)));

    t0 = Date.now();
    const checked = checkInChild(files).then((r) => { t.check = Date.now() - t0; return r; });
    const seen: number[] = [];
    const problems: string[] = [];
    for (const [i, file] of files.entries()) {
      // Should be ≤ SPLIT_SIZE_BYTES: see the known-bug test below. Here: never more than one AMap interval over.
      splitPartSizes.push(statSync(file).size);
      expect(statSync(file).size).toBeLessThanOrEqual(SPLIT_SIZE_BYTES + AMAP_INTERVAL_BYTES);
      const reader = await PstReader.open(file);
      try {
        for await (const f of reader.folders()) {
          for await (const it of reader.items(f)) {
            const n = copyNumberOf(it.properties.get(TAG.PidTagInternetMessageId.id) as string);
            if (n === undefined || n >= count) { problems.push(`${path.basename(file)}: item ${it.nid} has no copy number`); continue; }
            seen.push(n);
            if (ipmPath(f) !== expectedFolder[n]) problems.push(`copy ${n} is in "${ipmPath(f)}", expected "${expectedFolder[n]}"`);
            if (placedPart[n] !== i + 1) problems.push(`copy ${n} is in part ${i + 1}, the writer said ${placedPart[n]}`);
          }
        }
      } finally {
        await reader.close();
      }
    }
    t.reader = Date.now() - t0;
    expect(problems.slice(0, 10)).toEqual([]);
    expect(tally(seen, count)).toEqual({ missing: 0, duplicated: 0, unexpected: 0 });

    const reports = await checked;
    expect(reports.map((r) => [path.basename(r.file), r.findings])).toEqual(files.map((f) => [path.basename(f), []]));
    logTimings(`corpus in ${files.length} parts of ≤ 20 MB`, t);
    for (const f of files) rmSync(f);
  }, 300_000);

  // a part ends on an AMap interval boundary (0x4400 + k × 253,952): the writer's projection rounds up to it
  it('keeps every part at or under the split size', () => {
    expect(splitPartSizes.length).toBeGreaterThanOrEqual(3);
    for (const size of splitPartSizes) expect(size).toBeLessThanOrEqual(SPLIT_SIZE_BYTES);
  });
});
