/**
 * DestinationCheckpoint (export/checkpoint-destination.ts): the checkpoint `outport export` keeps in
 * the destination — finished parts from the manifests (a part whose object is missing or of another
 * size counts as unfinished), errors and deltaLinks in the state object across runs, retry errors
 * and incremental through it, another mailbox's export refused; and the manifest's memory per item.
 */
import { createHash } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { SourceEvent, SourceMailbox, SourceOptions } from '../../worker-service/src/graph/source-types';
import { DestinationCheckpoint } from '../../worker-service/src/export/checkpoint-destination';
import { ManifestBuilder, parseManifest, parseManifestIds, readManifestIds } from '../../worker-service/src/export/manifest';
import { runExport, type ExportSource } from '../../worker-service/src/export/run';
import type { ExportRequest } from '../../worker-service/src/export/types';
import { newMapiItem, type MapiItem } from '../../worker-service/src/mapi/item';
import { TAG } from '../../worker-service/src/mapi/tags';
import { PropType } from '../../worker-service/src/mapi/types';
import { MemoryDestination } from './memory-destination';
import { manifestIds, verifyPart } from './helpers';

const mail = (subject: string): MapiItem => {
  const it = newMapiItem();
  it.properties.set(TAG.PidTagMessageClass.id, PropType.String, 'IPM.Note');
  it.properties.set(TAG.PidTagSubject.id, PropType.String, subject);
  it.properties.set(TAG.PidTagBody.id, PropType.String, `body of ${subject} `.repeat(1500));
  return it;
};
const path = [{ displayName: 'Inbox', containerClass: 'IPF.Note' }];

/** A source of `n` mails in one folder; ids in `failing` come as FtsDecodeFailed errors; records what it was asked. */
function fakeSource(ids: string[], failing: Set<string>, asked: SourceOptions[] = []): ExportSource {
  return {
    async *items(_mb: SourceMailbox, options: SourceOptions = {}): AsyncGenerator<SourceEvent> {
      asked.push(options);
      const since = options.since?.f1;
      const from = since ? Number(since.split('=')[1]) : 0;
      yield { kind: 'folder', path, folder: { id: 'f1', displayName: 'Inbox', wellKnownName: 'inbox', type: 'IPF.Note', totalItemCount: ids.length - from } };
      for (const id of ids.slice(from)) {
        if (options.onlyItemIds && !options.onlyItemIds.includes(id)) continue;
        if (failing.has(id)) yield { kind: 'error', code: 'FtsDecodeFailed', sourceId: id, message: 'stream cut short', path };
        else yield { kind: 'item', path, item: mail(id), fidelity: 'full', sourceId: id, sizeBytes: 100, sourceSha256: 'ab'.repeat(32) } as SourceEvent;
      }
      yield { kind: 'folderEnd', path, folderId: 'f1', deltaLink: `https://graph/delta?token=${ids.length}`, removedIds: [], listed: ids.length - from };
    },
  };
}

const mailbox = { user: 'lynne@example.com' };
const request = (extra: Partial<ExportRequest> = {}): ExportRequest => ({ mailbox, pstName: 'lynne.pst', pass: 'full', splitSizeBytes: 1024 * 1024, ...extra });
const open = (dest: MemoryDestination, mb: SourceMailbox = mailbox, pstName = 'lynne.pst') => DestinationCheckpoint.open({ destination: dest, pstName, mailbox: mb });

test('errors, parts and deltaLinks survive in the destination; retry errors and incremental continue from them', async () => {
  const dest = new MemoryDestination();
  const ids = Array.from({ length: 60 }, (_, i) => `id-${String(i).padStart(3, '0')}`);
  const failing = new Set(['id-007', 'id-042']);
  const first = await runExport(request(), { source: fakeSource(ids, failing), destination: dest, checkpoint: await open(dest) });
  expect(first).toMatchObject({ outcome: 'CompletedWithErrors', errors: 2, itemsExported: 58 });
  expect(first.parts.length).toBeGreaterThanOrEqual(2); // 60 mails of ~45 KB body each at a 1 MiB split
  expect(dest.names()).toContain('lynne.pst.state.json');

  // a new process: everything read back from the destination
  const cp = await open(dest);
  expect((await cp.finishedParts()).map((p) => p.name)).toEqual(first.parts.map((p) => p.name));
  expect((await cp.lastPassErrors()).map((e) => [e.code, e.sourceId])).toEqual([['FtsDecodeFailed', 'id-007'], ['FtsDecodeFailed', 'id-042']]);
  expect(await cp.deltaLinks()).toEqual({ f1: 'https://graph/delta?token=60' });

  // retry errors: only the two ids asked of the source, into one extra part
  const asked: SourceOptions[] = [];
  const retry = await runExport(request({ pass: 'retry-errors' }), { source: fakeSource(ids, new Set(), asked), destination: dest, checkpoint: await open(dest) });
  expect(asked[0].onlyItemIds).toEqual(['id-007', 'id-042']);
  expect(retry.parts.map((p) => p.index)).toEqual([first.parts.length + 1]);
  expect(await manifestIds(dest, retry.parts.map((p) => p.name))).toEqual(['id-007', 'id-042']);
  await expect(runExport(request({ pass: 'retry-errors' }), { source: fakeSource(ids, new Set()), destination: dest, checkpoint: await open(dest) }))
    .rejects.toMatchObject({ code: 'RetryNotAllowed' });

  // incremental: the source is asked with the saved deltaLinks and only new items land in a new part
  const more = [...ids, 'id-060', 'id-061'];
  const asked2: SourceOptions[] = [];
  const inc = await runExport(request({ pass: 'incremental' }), { source: fakeSource(more, new Set(), asked2), destination: dest, checkpoint: await open(dest) });
  expect(asked2[0].since).toEqual({ f1: 'https://graph/delta?token=60' });
  expect(await manifestIds(dest, inc.parts.map((p) => p.name))).toEqual(['id-060', 'id-061']);
  expect(await (await open(dest)).deltaLinks()).toEqual({ f1: 'https://graph/delta?token=62' });

  const all = await manifestIds(dest, (await (await open(dest)).finishedParts()).map((p) => p.name));
  expect([...all].sort()).toEqual(more);
});

test('a part whose object is gone or of another size is redone; the others are kept', async () => {
  const dest = new MemoryDestination();
  const ids = Array.from({ length: 60 }, (_, i) => `m${i}`);
  const first = await runExport(request(), { source: fakeSource(ids, new Set()), destination: dest, checkpoint: await open(dest) });
  expect(first.parts.length).toBeGreaterThanOrEqual(2);
  const [p1, p2] = first.parts;
  // part 2 truncated (another size), part 1 kept
  const o2 = dest.objects.get(p2.name)!;
  dest.objects.set(p2.name, { ...o2, bytes: o2.bytes.subarray(0, 1000) });
  expect((await (await open(dest)).finishedParts()).map((p) => p.name)).not.toContain(p2.name);
  const kept1 = dest.objects.get(p1.name);
  const again = await runExport(request(), { source: fakeSource(ids, new Set()), destination: dest, checkpoint: await open(dest) });
  expect(dest.objects.get(p1.name)).toBe(kept1);
  expect(again.itemsSkipped).toBeGreaterThanOrEqual(p1.itemCount);
  const names = (await (await open(dest)).finishedParts()).map((p) => p.name);
  const all = await manifestIds(dest, names);
  expect([...all].sort()).toEqual([...ids].sort());
  // every stored manifest names its part and size
  for (const n of names) expect((await verifyPart(dest, n)).part.name).toBe(n);
});

test('another mailbox\'s export of the same name is refused (DestinationMismatch); another name is independent', async () => {
  const dest = new MemoryDestination();
  await runExport(request(), { source: fakeSource(['a', 'b'], new Set()), destination: dest, checkpoint: await open(dest) });
  await expect(open(dest, { user: 'someone.else@example.com' })).rejects.toMatchObject({ code: 'DestinationMismatch' });
  await expect(open(dest, { user: 'lynne@example.com', archive: true })).rejects.toMatchObject({ code: 'DestinationMismatch' });
  // the archive under its own name: the primary's parts are not taken for its own
  const cp = await open(dest, { user: 'lynne@example.com', archive: true }, 'lynne-archive.pst');
  expect(await cp.finishedParts()).toEqual([]);
  // a manifest without state (state deleted) still refuses a foreign mailbox
  await dest.delete('lynne.pst.state.json');
  await expect((await open(dest, { user: 'someone.else@example.com' })).finishedParts()).rejects.toMatchObject({ code: 'DestinationMismatch' });
});

test('manifest memory: nothing an item while a part is open (lines spilled to a temporary file), read back equal', async () => {
  const n = 50_000;
  // A forced collection makes the figure the live memory, not whatever garbage is still around
  // (without it the figure swung past 400 on a busy machine): expose gc at run time.
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const used = () => { gc?.(); const m = process.memoryUsage(); return m.heapUsed + m.arrayBuffers; };
  // ids as Graph's JSON gives them: flat 150-character strings; SHA-256 hex as digest('hex') gives it
  const ids = Array.from({ length: n }, (_, i) => Buffer.from(`AAMkAGI2TG93AAA=${String(i).padStart(8, '0')}`.padEnd(150, 'x')).toString('latin1'));
  const shas = ids.map((id) => createHash('sha256').update(id).digest('hex'));
  const before = used();
  const b = new ManifestBuilder('x.pst', 1);
  try {
    for (let i = 0; i < n; i++) b.add(ids[i], `Inbox/Sub${i % 20}`, 'IPM.Note', 12345, i % 3 ? 'full' : 'rest', i % 5 ? shas[i] : undefined);
    const perItem = (used() - before) / n;
    // eslint-disable-next-line no-console
    console.log(`manifest builder: ${perItem.toFixed(1)} bytes/item over ${n} items (gc forced; ${b.spilledBytes} bytes spilled)`);
    expect(perItem).toBeLessThan(10); // one 256 KiB buffer whatever n (was 54 B/item in columns, plus the ids)
    const head = { version: 1 as const, part: { name: 'x.pst', index: 1, sizeBytes: 1, sha256: shas[0] }, mailbox: { source: 'a@b', archive: false }, pass: 'full' as const, closedAt: new Date(0).toISOString() };
    const bytes = await b.serialize(head);
    const m = parseManifest(bytes)!;
    expect(m.items.length).toBe(n);
    m.items.forEach((it, i) => {
      const want = { sourceId: ids[i], folderPath: `Inbox/Sub${i % 20}`, messageClass: 'IPM.Note', sizeBytes: 12345, fidelity: i % 3 ? 'full' : 'rest', ...(i % 5 ? { sourceSha256: shas[i] } : {}) };
      if (JSON.stringify(it) !== JSON.stringify(want)) expect([i, it]).toEqual([i, want]);
    });
    expect(await b.sourceIds()).toEqual(ids);
    const light = (await parseManifestIds(bytes))!;
    expect(light.head).toEqual(head);
    expect(light.sourceIds).toEqual(ids);
    // the same bytes a second time (the spill is read, not consumed)
    expect((await b.serialize(head)).equals(bytes)).toBe(true);
  } finally {
    b.dispose();
  }
});

test('manifest: a part of no items; ids with quotes and non-ASCII; a manifest in another layout parses whole', async () => {
  const head = { version: 1 as const, part: { name: 'e.pst', index: 2, sizeBytes: 10, sha256: 'cd'.repeat(32) }, mailbox: { source: 'a@b', archive: true }, pass: 'incremental' as const, closedAt: new Date(0).toISOString() };
  const empty = new ManifestBuilder('e.pst', 2);
  const bytes = await empty.serialize(head);
  empty.dispose();
  expect(parseManifest(bytes)).toEqual({ ...head, items: [] });
  expect(await parseManifestIds(bytes)).toEqual({ head, sourceIds: [] });
  const odd = ['a"b', 'é\\n', 'x\ny', '\u2028'];
  const b = new ManifestBuilder('e.pst', 2);
  odd.forEach((id) => b.add(id, 'Inbox/"Q"', 'IPM.Note', 1, 'full', undefined));
  const ob = await b.serialize(head);
  expect(await b.sourceIds()).toEqual(odd);
  b.dispose();
  expect(parseManifest(ob)!.items.map((i) => i.sourceId)).toEqual(odd);
  expect((await parseManifestIds(ob))!.sourceIds).toEqual(odd);
  const pretty = Buffer.from(JSON.stringify({ ...head, items: odd.map((sourceId) => ({ sourceId, folderPath: 'Inbox', messageClass: 'IPM.Note', sizeBytes: 1, fidelity: 'full' })) }, null, 2));
  expect((await parseManifestIds(pretty))!.sourceIds).toEqual(odd);
  expect(await parseManifestIds(Buffer.from('{"version":1,"items":['))).toBeUndefined();
});

test('manifest read as it streams in: the same head and ids at every chunk size (lines cut anywhere, 1 byte at a time too); cut short, trailing content, another layout or a bad line: undefined', async () => {
  const head = { version: 1 as const, part: { name: 's.pst', index: 3, sizeBytes: 10, sha256: 'ef'.repeat(32) }, mailbox: { source: 'a@b', archive: false }, pass: 'full' as const, closedAt: new Date(0).toISOString() };
  const ids = ['a"b', 'é\\n', 'x\ny', '\u2028', ...Array.from({ length: 300 }, (_, i) => `id-${i}-${'ü'.repeat(i % 7)}`)];
  const b = new ManifestBuilder('s.pst', 3);
  ids.forEach((id) => b.add(id, 'Inbox', 'IPM.Note', 1, 'full', undefined));
  const bytes = await b.serialize(head);
  b.dispose();
  const empty = new ManifestBuilder('s.pst', 3);
  const emptyBytes = await empty.serialize(head);
  empty.dispose();
  async function* chunked(buf: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
    for (let at = 0; at < buf.length; at += size) yield Uint8Array.from(buf.subarray(at, at + size)); // a copy each: no view of the whole
  }
  const streamed = async (buf: Uint8Array, size: number) => {
    const got: string[] = [];
    const r = await readManifestIds(chunked(buf, size), (id) => { got.push(id); });
    return r && { head: r.head, count: r.count, ids: got };
  };
  for (const size of [1, 2, 3, 7, 64, 1000, 4096, bytes.length]) expect(await streamed(bytes, size)).toEqual({ head, count: ids.length, ids });
  expect(await streamed(emptyBytes, 5)).toEqual({ head, count: 0, ids: [] });
  const text = bytes.toString('utf8');
  expect(await streamed(bytes.subarray(0, bytes.length - 4), 100)).toBeUndefined(); // no "]}"
  expect(await streamed(bytes.subarray(0, Math.floor(bytes.length / 2)), 100)).toBeUndefined();
  expect(await streamed(Buffer.from(text + '{"sourceId":"late"}\n'), 100)).toBeUndefined();
  expect(await streamed(Buffer.from(text.replace('"id-5-', '"id-5-\n')), 100)).toBeUndefined();
  expect(await streamed(Buffer.from(JSON.stringify({ ...head, items: [{ sourceId: 'x' }] }, null, 2)), 100)).toBeUndefined();
});

test('a failure mid-manifest: the run fails, no manifest object is visible, the part counts as unfinished, the rerun completes', async () => {
  const dest = new MemoryDestination();
  const ids = Array.from({ length: 120 }, (_, i) => `id-${i}`);
  dest.failStreamOnce = { suffix: '.manifest.json', afterBytes: 2000 };
  await expect(runExport(request(), { source: fakeSource(ids, new Set()), destination: dest, checkpoint: await open(dest) })).rejects.toMatchObject({ code: 'StorageFailed' });
  expect(dest.names().filter((n) => n.endsWith('.manifest.json'))).toEqual([]);
  expect(await (await open(dest)).finishedParts()).toEqual([]);
  const again = await runExport(request(), { source: fakeSource(ids, new Set()), destination: dest, checkpoint: await open(dest) });
  expect(again.outcome).toBe('Completed');
  expect(again.parts.reduce((n, p) => n + p.itemCount, 0)).toBe(ids.length);
  const names = (await (await open(dest)).finishedParts()).map((p) => p.name);
  expect(await manifestIds(dest, names)).toEqual(ids);
});

test('no room for the manifest spill (spillDir missing): the run ends at the first part (no item recorded as failed), its sink aborted, nothing stored', async () => {
  const dest = new MemoryDestination();
  const checkpoint = await open(dest);
  const errors: unknown[] = [];
  const origin = checkpoint.itemError.bind(checkpoint);
  checkpoint.itemError = async (e) => { errors.push(e); await origin(e); };
  await expect(runExport(request(), { source: fakeSource(['a', 'b'], new Set()), destination: dest, checkpoint, spillDir: '/nonexistent/outport-spill' })).rejects.toMatchObject({ code: 'ENOENT' });
  expect(errors).toEqual([]);
  expect(dest.aborted).toEqual(['lynne.pst']);
  expect(dest.names().filter((n) => n.endsWith('.pst') || n.endsWith('.manifest.json'))).toEqual([]);
});
