/**
 * DirectoryDestination: a PST written through a part sink equals the writer's output and the file
 * written by FilePstSink; parts appear only at close (atomic rename), an aborted part leaves no .pst;
 * SHA-256 in the sidecar; the ownership marker guards deleteContainer.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkPst } from '../../worker-service/src/pst/check';
import { FilePstSink } from '../../worker-service/src/pst/sink';
import { DIRECTORY_MARKER, PARTIAL_SUFFIX, sidecarName } from '../../worker-service/src/storage/directory';
import { StorageError, createDestination, validateDestination, type DestinationConfig } from '../../worker-service/src/storage';
import { chunked } from './chunks';
import { TeeSink, writePst } from './pst-helpers';
import { PstWriter } from '../../worker-service/src/pst/writer';
import { message } from './pst-helpers';

let root: string;
beforeEach(() => { root = mkdtempSync(join(tmpdir(), 'outport-dir-')); });
afterEach(() => rmSync(root, { recursive: true, force: true }));

function dirConfig(path: string): DestinationConfig {
  const r = validateDestination({ directory: path });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
}
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

test('a PST part: equal to the writer output and to FilePstSink, sha256 in the sidecar, checker clean', async () => {
  const dest = createDestination(dirConfig(join(root, 'out')));
  await dest.ensure();
  expect(existsSync(join(root, 'out', DIRECTORY_MARKER))).toBe(true);
  const { part, expected } = await writePst(dest, 'user1.pst', 12, 150_000);
  const file = join(root, 'out', 'user1.pst');
  const bytes = readFileSync(file);
  expect(bytes.equals(expected)).toBe(true);
  expect(part.stored()).toEqual({ name: 'user1.pst', sizeBytes: bytes.length, sha256: sha256(bytes) });
  expect(JSON.parse(readFileSync(join(root, 'out', sidecarName('user1.pst')), 'utf8'))).toMatchObject({ sha256: sha256(bytes), createdby: 'outport' });
  expect((await checkPst(file)).findings).toEqual([]);
  expect(await dest.list('')).toEqual([{ name: 'user1.pst', sizeBytes: bytes.length, metadata: expect.objectContaining({ sha256: sha256(bytes) }) }]);

  // The same items written by FilePstSink and by the directory sink in one pass (one store record key).
  const viaFile = join(root, 'file.pst');
  let dirPart: Awaited<ReturnType<typeof dest.openPart>> | undefined;
  const w = PstWriter.open({
    partName: 'both.pst',
    openSink: async (name) => { dirPart = await dest.openPart(name); return new TeeSink(dirPart, await FilePstSink.create(viaFile)); },
  });
  for (let i = 0; i < 3; i++) await w.addItem([{ displayName: 'Inbox' }], message(`M${i}`, 50_000));
  await w.close();
  expect(readFileSync(join(root, 'out', 'both.pst')).equals(readFileSync(viaFile))).toBe(true);
  expect(dirPart!.stored().sha256).toBe(sha256(readFileSync(viaFile)));
});

test('the part is invisible until close; an aborted part leaves no .pst and no .partial', async () => {
  const dest = createDestination(dirConfig(root));
  await dest.ensure();
  const sink = await dest.openPart('user2.pst');
  await sink.append(Buffer.alloc(0x4400 + 1000, 3));
  expect(existsSync(join(root, 'user2.pst'))).toBe(false);
  expect(existsSync(join(root, 'user2.pst' + PARTIAL_SUFFIX))).toBe(true);
  expect(await dest.list('')).toEqual([]);
  await sink.abort!();
  expect(readdirSync(root)).toEqual([]);

  // an earlier complete part survives an aborted rewrite
  writeFileSync(join(root, 'kept.pst'), 'old');
  const again = await dest.openPart('kept.pst');
  await again.append(Buffer.alloc(100, 1));
  await again.abort!();
  expect(readFileSync(join(root, 'kept.pst'), 'utf8')).toBe('old');
});

test('writeAt rewrites the header region only', async () => {
  const dest = createDestination(dirConfig(root));
  const sink = await dest.openPart('x.pst');
  await sink.append(Buffer.alloc(0x4400 + 10, 1));
  await expect(sink.writeAt(0x4400, Buffer.alloc(1))).rejects.toThrow(RangeError);
  await sink.writeAt(0, Buffer.alloc(16, 9));
  await sink.close();
  const bytes = readFileSync(join(root, 'x.pst'));
  expect(bytes.subarray(0, 17)).toEqual(Buffer.from([...Array(16).fill(9), 1]));
  expect(sink.stored().sha256).toBe(sha256(bytes));
});

test('small objects, list, delete; names with separators are refused', async () => {
  const dest = createDestination(dirConfig(join(root, 'a', 'b')));
  await dest.ensure();
  await dest.putSmall('p.pst.manifest.json', Buffer.from('{"v":1}'), 'application/json');
  expect(Buffer.from((await dest.getSmall('p.pst.manifest.json'))!).toString()).toBe('{"v":1}');
  expect(await dest.getSmall('nope.json')).toBeUndefined();
  // getStream: a 3.5 MiB object in 1 MiB reads, each chunk consumed before the next (the buffer is reused)
  const big = Buffer.from(Array.from({ length: 3.5 * 1024 * 1024 }, (_, i) => (i * 7 + (i >> 12)) & 0xff));
  await dest.putSmall('big.pst.manifest.json', big, 'application/json');
  const got: Buffer[] = [];
  for await (const c of (await dest.getStream('big.pst.manifest.json'))!) got.push(Buffer.from(c));
  expect(got.length).toBe(4);
  expect(Buffer.concat(got).equals(big)).toBe(true);
  await dest.delete('big.pst.manifest.json');
  expect(await dest.getStream('nope.json')).toBeUndefined();
  expect((await dest.list('p.')).map((o) => o.metadata.contenttype)).toEqual(['application/json']);
  await dest.delete('p.pst.manifest.json');
  await dest.delete('p.pst.manifest.json');
  expect(readdirSync(join(root, 'a', 'b'))).toEqual([DIRECTORY_MARKER]);
  await expect(dest.putSmall('../escape.json', Buffer.from('x'), 'application/json')).rejects.toThrow(StorageError);
  expect(existsSync(join(root, 'a', 'escape.json'))).toBe(false);
  expect(await dest.readUrl('x')).toBeUndefined();
});

test('putStream: a streamed object equals its bytes (sha256 in the sidecar); a failure mid-stream leaves no object and no .partial, an earlier one stays', async () => {
  const dest = createDestination(dirConfig(join(root, 'd')));
  await dest.ensure();
  const bytes = Buffer.from(Array.from({ length: 40_000 }, (_, i) => `{"sourceId":"id-${i}"}`).join(',\n'));
  await dest.putStream('m.pst.manifest.json', chunked(bytes, 65_536), 'application/json');
  expect(Buffer.from((await dest.getSmall('m.pst.manifest.json'))!).equals(bytes)).toBe(true);
  expect((await dest.list('m.'))[0].metadata).toMatchObject({ contenttype: 'application/json', sha256: sha256(bytes) });
  await expect(dest.putStream('m.pst.manifest.json', chunked(Buffer.alloc(300_000, 7), 65_536, 2), 'application/json')).rejects.toThrow('the producer failed');
  await expect(dest.putStream('n.pst.manifest.json', chunked(bytes, 65_536, 3), 'application/json')).rejects.toThrow('the producer failed');
  expect(Buffer.from((await dest.getSmall('m.pst.manifest.json'))!).equals(bytes)).toBe(true);
  expect(readdirSync(join(root, 'd')).filter((n) => n.endsWith(PARTIAL_SUFFIX) || n.startsWith('n.'))).toEqual([]);
  await dest.putStream('empty.json', chunked(Buffer.alloc(0), 10), 'application/json');
  expect((await dest.getSmall('empty.json'))!.length).toBe(0);
});

test('deleteContainer refuses a directory Outport did not create, and deletes one it did', async () => {
  const theirs = join(root, 'theirs');
  mkdirSync(theirs);
  writeFileSync(join(theirs, 'keep.txt'), 'keep');
  const foreign = createDestination(dirConfig(theirs));
  await foreign.ensure();
  expect(existsSync(join(theirs, DIRECTORY_MARKER))).toBe(false);
  const err = await foreign.deleteContainer().catch((e: unknown) => e) as StorageError;
  expect(err.code).toBe('ContainerNotOurs');
  expect(readFileSync(join(theirs, 'keep.txt'), 'utf8')).toBe('keep');

  const ours = createDestination(dirConfig(join(root, 'ours')));
  await ours.ensure();
  await ours.putSmall('m.json', Buffer.from('{}'), 'application/json');
  await ours.deleteContainer();
  expect(existsSync(join(root, 'ours'))).toBe(false);
  await expect(ours.deleteContainer()).rejects.toMatchObject({ code: 'ContainerNotFound' });
});
