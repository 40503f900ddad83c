/**
 * runExport (worker-service/src/export/run.ts) against the sandbox tenant into an in-memory
 * destination: full exports of a primary, an archive and the auto-expanding archive equal the
 * sandbox's truth exactly once; a 1 MiB split gives several clean parts; resume after a storage
 * failure mid-part and after a cancel; incremental after new items; retry errors after malformed
 * exportItems data; an export of nothing; a writer failure of one item.
 */
import { createHash } from 'node:crypto';
import { GraphSource } from '../../worker-service/src/graph/source';
import type { SourceEvent, SourceMailbox, SourceOptions } from '../../worker-service/src/graph/source-types';
import { encodeExportItem } from '../../worker-service/src/convert/fts/encode';
import { convertMime } from '../../worker-service/src/convert/mime';
import { MemoryCheckpoint } from '../../worker-service/src/export/checkpoint-memory';
import { runExport, PST_WRITE_FAILED, type ExportSource } from '../../worker-service/src/export/run';
import type { ExportProgress, ExportRequest, FinishedPart } from '../../worker-service/src/export/types';
import { newMapiItem } from '../../worker-service/src/mapi/item';
import { TAG } from '../../worker-service/src/mapi/tags';
import { PropType } from '../../worker-service/src/mapi/types';
import { EXPORT_ENCODE_OPTIONS, buildTenant, startSandbox, type SandboxHandle, type SandboxItem, type SandboxTenant } from '../../worker-service/src/sandbox';
import { appToken, sandboxClient } from '../sandbox/helpers';
import { MemoryDestination } from './memory-destination';
import { manifestIds, truthIds, verifyPart } from './helpers';

jest.setTimeout(120_000);

const MiB = 1024 * 1024;
let tenant: SandboxTenant;
const started: SandboxHandle[] = [];
let source: GraphSource;

async function start(options: Parameters<typeof startSandbox>[0] = {}): Promise<GraphSource> {
  const s = await startSandbox({ port: 0, tenant, defaultPageSize: 50, ...options });
  started.push(s);
  return new GraphSource(sandboxClient(s, await appToken(s)));
}

beforeAll(async () => {
  tenant = await buildTenant({ mailLimit: 800 });
  source = await start();
});
afterAll(async () => { for (const s of started) await s.stop(); });

const user = (given: string) => tenant.users.find((u) => u.givenName === given)!;
const mailboxOf = (given: string, archive = false): SourceMailbox => ({ user: user(given).mail, archive });
const request = (given: string, extra: Partial<ExportRequest> = {}): ExportRequest =>
  ({ mailbox: mailboxOf(given), pstName: `${given.toLowerCase()}.pst`, pass: 'full', source: { pageSize: 50 }, ...extra });
const sorted = (a: readonly string[]) => [...a].sort();
const partNames = (parts: readonly { name: string }[]) => parts.map((p) => p.name);

test('full export of a primary at a 1 MiB split: several clean parts, manifests = the sandbox truth exactly once, SHA-256 of each item\'s source data', async () => {
  const dest = new MemoryDestination();
  const checkpoint = new MemoryCheckpoint();
  const progress: ExportProgress[] = [];
  const result = await runExport(request('Adele', { splitSizeBytes: MiB }), { source, destination: dest, checkpoint, onProgress: (p) => progress.push(p) });
  const truth = truthIds(user('Adele').primary!);
  expect(result.outcome).toBe('Completed');
  expect(result.errors).toBe(0);
  expect(result.itemsExported).toBe(truth.length);
  expect(result.parts.length).toBeGreaterThanOrEqual(2);
  expect(partNames(result.parts)).toEqual(result.parts.map((_, i) => (i === 0 ? 'adele.pst' : `adele-${i + 1}.pst`)));
  const ids = await manifestIds(dest, partNames(result.parts));
  expect(ids).toEqual(truth); // folder order, each once
  for (const p of result.parts) {
    expect(p.sizeBytes).toBeLessThanOrEqual(MiB);
    expect(dest.objects.get(p.name)!.metadata.sha256).toBe(p.sha256);
    expect(createHash('sha256').update(dest.objects.get(p.name)!.bytes).digest('hex')).toBe(p.sha256);
  }
  // manifest lines: folder path, class, PST size, fidelity, and the source SHA-256 when the source gives it
  const m = await verifyPart(dest, 'adele.pst');
  for (const it of m.items) {
    const t = tenant.item(it.sourceId)!;
    expect(it.messageClass).toBe(t.messageClass);
    expect(it.fidelity).toBe('full');
    expect(it.sizeBytes).toBeGreaterThan(0);
    expect(it.folderPath.split('/').pop()).toBe(t.folder.displayName);
    if (it.sourceSha256 !== undefined) expect(it.sourceSha256).toBe(createHash('sha256').update(encodeExportItem(t.item, EXPORT_ENCODE_OPTIONS)).digest('hex'));
  }
  // deltaLinks saved for a later incremental pass; the pass is complete
  expect(Object.keys(checkpoint.snapshot().deltaLinks).length).toBeGreaterThan(5);
  expect(checkpoint.completedPasses).toEqual(['full']);
  // progress: the last report is complete, items total from the folders' totalItemCount
  const last = progress[progress.length - 1];
  expect(last).toMatchObject({ itemsDone: truth.length, itemsTotal: truth.length, partsDone: result.parts.length, errors: 0, etaSeconds: 0 });
  expect(last.bytesDone).toBe(result.sourceBytes);
});

test('archives: the in-place archive and the auto-expanding archive (overflow folders in the auxiliary mailbox) exactly once', async () => {
  for (const given of ['Adele', 'Megan']) {
    const dest = new MemoryDestination();
    const r = await runExport({ ...request(given), mailbox: mailboxOf(given, true), pstName: `${given.toLowerCase()}-archive.pst` }, { source, destination: dest, checkpoint: new MemoryCheckpoint() });
    expect(r.outcome).toBe('Completed');
    expect(partNames(r.parts)).toEqual([`${given.toLowerCase()}-archive.pst`]);
    const truth = truthIds(user(given).archive!);
    if (given === 'Megan') expect(user(given).archive!.auxiliary).toBeDefined();
    expect(await manifestIds(dest, partNames(r.parts))).toEqual(truth);
    const m = await verifyPart(dest, `${given.toLowerCase()}-archive.pst`);
    expect(m.mailbox).toEqual({ source: user(given).mail, archive: true });
  }
});

test('resume after a storage failure mid-part: finished parts untouched, the unfinished part redone, union = truth, no duplicates', async () => {
  const dest = new MemoryDestination();
  const checkpoint = new MemoryCheckpoint();
  dest.failAppendOnce = { part: 'adele-2.pst', append: 3 };
  await expect(runExport(request('Adele', { splitSizeBytes: MiB }), { source, destination: dest, checkpoint })).rejects.toMatchObject({ code: 'StorageFailed' });
  const first = await checkpoint.finishedParts();
  expect(partNames(first)).toEqual(['adele.pst']);
  expect(dest.aborted).toEqual(['adele-2.pst']);
  expect(dest.objects.has('adele-2.pst')).toBe(false);
  const part1 = dest.objects.get('adele.pst')!;

  const again = await runExport(request('Adele', { splitSizeBytes: MiB }), { source, destination: dest, checkpoint });
  expect(again.outcome).toBe('Completed');
  expect(again.itemsSkipped).toBe(first[0].sourceIds.length);
  expect(again.parts[0].name).toBe('adele-2.pst');
  expect(dest.objects.get('adele.pst')).toBe(part1); // the finished part was not written again
  const all = await checkpoint.finishedParts();
  const ids = await manifestIds(dest, partNames(all));
  expect(new Set(ids).size).toBe(ids.length);
  expect(sorted(ids)).toEqual(sorted(truthIds(user('Adele').primary!)));
});

test('cancel after the first part: outcome Cancelled, the open part aborted and not recorded; a rerun completes without duplicates', async () => {
  const dest = new MemoryDestination();
  const base = new MemoryCheckpoint();
  const ac = new AbortController();
  const checkpoint = Object.assign(Object.create(base) as MemoryCheckpoint, {
    partFinished: async (p: FinishedPart) => { await base.partFinished(p); if (p.index === 1) setTimeout(() => ac.abort(), 0); },
  });
  const r = await runExport(request('Adele', { splitSizeBytes: MiB }), { source, destination: dest, checkpoint, signal: ac.signal });
  expect(r.outcome).toBe('Cancelled');
  expect(partNames(await base.finishedParts())).toEqual(['adele.pst']);
  expect(dest.names().filter((n) => n.startsWith('adele-2'))).toEqual([]);
  expect(base.completedPasses).toEqual([]);
  expect(base.snapshot().deltaLinks).toEqual({});

  const again = await runExport(request('Adele', { splitSizeBytes: MiB }), { source, destination: dest, checkpoint: base });
  expect(again.outcome).toBe('Completed');
  const ids = await manifestIds(dest, partNames(await base.finishedParts()));
  expect(ids.length).toBe(new Set(ids).size);
  expect(sorted(ids)).toEqual(sorted(truthIds(user('Adele').primary!)));
});

test('an export of nothing is one valid empty PST; a later pass with nothing new adds no part', async () => {
  const dest = new MemoryDestination();
  const checkpoint = new MemoryCheckpoint();
  const r = await runExport(request('Alex', { source: { itemTypes: ['IPM.NoSuchClass'] } }), { source, destination: dest, checkpoint });
  expect(r).toMatchObject({ outcome: 'Completed', itemsExported: 0 });
  expect(partNames(r.parts)).toEqual(['alex.pst']);
  expect((await verifyPart(dest, 'alex.pst')).items).toEqual([]);
  const again = await runExport(request('Alex', { source: { itemTypes: ['IPM.NoSuchClass'] } }), { source, destination: dest, checkpoint });
  expect(again.parts).toEqual([]);
});

test('incremental: after new items arrive, only they go into a new part after the existing ones; after expired deltaLinks (410) too', async () => {
  const dest = new MemoryDestination();
  const checkpoint = new MemoryCheckpoint();
  await expect(runExport(request('Lynne', { pass: 'incremental' }), { source, destination: dest, checkpoint })).rejects.toMatchObject({ code: 'IncrementalNotAllowed' });
  const full = await runExport(request('Lynne'), { source, destination: dest, checkpoint });
  expect(full.outcome).toBe('Completed');
  const linksAfterFull = checkpoint.snapshot().deltaLinks;

  // two new mails arrive in Lynne's Inbox (a change the next delta round lists)
  const inbox = user('Lynne').primary!.folders.find((f) => f.wellKnownName === 'inbox')!;
  const model = inbox.items[0];
  const added: SandboxItem[] = [];
  const addMail = async (k: number): Promise<SandboxItem> => {
    const { item } = await convertMime(model.mime!);
    item.properties.set(TAG.PidTagSubject.id, PropType.String, `new mail ${k}`);
    const it: SandboxItem = {
      ...model, id: `${model.id}-new${k}`, item, changeKey: `new-${k}`,
      size: encodeExportItem(item, EXPORT_ENCODE_OPTIONS).length, modSeq: ++tenant.seq,
    };
    tenant.addItem(it);
    added.push(it);
    return it;
  };
  for (const k of [0, 1]) await addMail(k);
  try {
    const inc = await runExport(request('Lynne', { pass: 'incremental' }), { source, destination: dest, checkpoint });
    expect(inc.outcome).toBe('Completed');
    expect(partNames(inc.parts)).toEqual(['lynne-2.pst']);
    expect(await manifestIds(dest, ['lynne-2.pst'])).toEqual(added.map((a) => a.id));
    expect((await verifyPart(dest, 'lynne-2.pst')).pass).toBe('incremental');
    expect(checkpoint.snapshot().deltaLinks[inbox.id]).not.toBe(linksAfterFull[inbox.id]);
    // nothing new since: no part
    const none = await runExport(request('Lynne', { pass: 'incremental' }), { source, destination: dest, checkpoint });
    expect(none).toMatchObject({ outcome: 'Completed', itemsExported: 0, parts: [] });

    // Exchange dropped the sync state (every saved deltaLink answers 410): the source re-lists the
    // folders in full (DeltaResync notices); items already in parts are skipped, only the new one is written
    tenant.expireDeltaTokens();
    const third = await addMail(2);
    const resync = await runExport(request('Lynne', { pass: 'incremental' }), { source, destination: dest, checkpoint });
    expect(resync).toMatchObject({ outcome: 'Completed', itemsExported: 1, errors: 0 });
    expect(resync.itemsSkipped).toBe(truthIds(user('Lynne').primary!).length - 1);
    expect(partNames(resync.parts)).toEqual(['lynne-3.pst']);
    expect(await manifestIds(dest, ['lynne-3.pst'])).toEqual([third.id]);
    expect(resync.notices!.filter((n) => n.code === 'DeltaResync').map((n) => n.folderPath)).toContain('Inbox');
    const ids = await manifestIds(dest, partNames(await checkpoint.finishedParts()));
    expect([...ids].sort()).toEqual([...truthIds(user('Lynne').primary!)].sort());
  } finally {
    for (const a of added) tenant.removeItem(a.id);
  }
});

test('retry errors: malformed exportItems data → errors recorded with codes; retry (faults off) puts exactly those items into an extra part', async () => {
  const faulty = await start({ faults: { rateMalformed: 0.3, seed: 7 } });
  const dest = new MemoryDestination();
  const checkpoint = new MemoryCheckpoint();
  await expect(runExport(request('Diego', { pass: 'retry-errors' }), { source, destination: dest, checkpoint })).rejects.toMatchObject({ code: 'RetryNotAllowed' });
  const first = await runExport(request('Diego', { logSubjects: false }), { source: faulty, destination: dest, checkpoint });
  expect(first.outcome).toBe('CompletedWithErrors');
  const errors = await checkpoint.lastPassErrors();
  expect(errors.length).toBe(first.errors);
  expect(errors.length).toBeGreaterThan(0);
  for (const e of errors) {
    expect(e.code).toBe('FtsDecodeFailed'); // mail came back through REST; the rest stays an error
    expect(e.subject).toBeUndefined();
    expect(tenant.item(e.sourceId)!.messageClass).not.toMatch(/^IPM\.Note/);
  }
  expect(first.fidelity.rest).toBeGreaterThan(0); // malformed mail re-read through REST, no error recorded

  const retry = await runExport(request('Diego', { pass: 'retry-errors' }), { source, destination: dest, checkpoint });
  expect(retry.outcome).toBe('Completed');
  expect(retry.parts.length).toBe(1);
  expect(sorted(await manifestIds(dest, partNames(retry.parts)))).toEqual(sorted(errors.map((e) => e.sourceId)));
  const all = await manifestIds(dest, partNames(await checkpoint.finishedParts()));
  expect(sorted(all)).toEqual(sorted(truthIds(user('Diego').primary!)));
  // the retry completed without errors: nothing left to retry
  await expect(runExport(request('Diego', { pass: 'retry-errors' }), { source, destination: dest, checkpoint })).rejects.toMatchObject({ code: 'RetryNotAllowed' });
});

test('pre-stage: only items older than N days; a full pass afterwards adds the rest in new parts', async () => {
  const dest = new MemoryDestination();
  const checkpoint = new MemoryCheckpoint();
  const now = Date.parse('2002-10-01T00:00:00Z');
  const pre = await runExport(request('Adele', { pass: 'prestage', olderThanDays: 30 }), { source, destination: dest, checkpoint, now: () => now });
  const cut = now - 30 * 86_400_000;
  const truth = truthIds(user('Adele').primary!);
  const older = truth.filter((id) => Date.parse(tenant.item(id)!.createdDateTime) < cut);
  expect(older.length).toBeGreaterThan(0);
  expect(older.length).toBeLessThan(truth.length);
  expect(await manifestIds(dest, partNames(pre.parts))).toEqual(older);
  expect(checkpoint.snapshot().deltaLinks).toEqual({});
  const full = await runExport(request('Adele'), { source, destination: dest, checkpoint });
  expect(full.itemsSkipped).toBe(older.length);
  expect(partNames(full.parts)).toEqual(['adele-2.pst']);
  expect(sorted(await manifestIds(dest, ['adele.pst', 'adele-2.pst']))).toEqual(sorted(truth));
});

test('a writer failure of one item is recorded (subject only with logSubjects) and the run goes on', async () => {
  const good = newMapiItem();
  good.properties.set(TAG.PidTagMessageClass.id, PropType.String, 'IPM.Note');
  good.properties.set(TAG.PidTagSubject.id, PropType.String, 'fine');
  const bad = newMapiItem();
  bad.properties.set(TAG.PidTagMessageClass.id, PropType.String, 'IPM.Note');
  bad.properties.set(TAG.PidTagSubject.id, PropType.String, 'secret subject');
  const path = [{ displayName: 'Inbox', containerClass: 'IPF.Note' }];
  // the writer refuses the item before writing any of it (a folder without a name: BadFolderPath)
  const badPath = [...path, { displayName: ' ', containerClass: 'IPF.Note' }];
  const fake: ExportSource = {
    async *items(_mb, _o?: SourceOptions): AsyncGenerator<SourceEvent> {
      yield { kind: 'notice', code: 'DeltaResync', message: 'the saved deltaLink was refused (410): re-listed in full', path, folderId: 'f1' } as unknown as SourceEvent;
      yield { kind: 'folder', path, folder: { id: 'f1', displayName: 'Inbox', wellKnownName: 'inbox', type: 'IPF.Note', totalItemCount: 3 } };
      yield { kind: 'item', path, item: good, fidelity: 'full', sourceId: 'a', sizeBytes: 10 } as SourceEvent;
      yield { kind: 'item', path: badPath, item: bad, fidelity: 'full', sourceId: 'b', sizeBytes: 10 } as SourceEvent;
      yield { kind: 'item', path, item: good, fidelity: 'rest', sourceId: 'c', sizeBytes: 10 } as SourceEvent;
      yield { kind: 'folderEnd', path, folderId: 'f1', deltaLink: 'https://graph/delta?$deltatoken=1', removedIds: [], listed: 3 };
    },
  };
  for (const logSubjects of [false, true]) {
    const dest = new MemoryDestination();
    const checkpoint = new MemoryCheckpoint();
    const r = await runExport({ mailbox: { user: 'x@example.com' }, pstName: 'x.pst', pass: 'full', logSubjects }, { source: fake, destination: dest, checkpoint });
    expect(r).toMatchObject({ outcome: 'CompletedWithErrors', itemsExported: 2, errors: 1, fidelity: { full: 1, rest: 1 } });
    const [e] = await checkpoint.lastPassErrors();
    expect(e).toMatchObject({ code: PST_WRITE_FAILED, sourceId: 'b', folderPath: 'Inbox/ ' });
    expect(e.message).toMatch(/^BadFolderPath: /);
    expect(e.subject).toBe(logSubjects ? 'secret subject' : undefined);
    expect((await verifyPart(dest, 'x.pst')).items.map((i) => i.sourceId)).toEqual(['a', 'c']);
    expect(checkpoint.snapshot().deltaLinks).toEqual({ f1: 'https://graph/delta?$deltatoken=1' });
    expect(r.notices).toEqual([{ code: 'DeltaResync', message: 'the saved deltaLink was refused (410): re-listed in full', folderPath: 'Inbox' }]);
  }
});

test('a full pass that starts over with fewer parts removes the earlier run\'s higher-numbered parts of the same mailbox, and no other mailbox\'s', async () => {
  const dest = new MemoryDestination();
  const first = await runExport(request('Adele', { splitSizeBytes: MiB }), { source, destination: dest, checkpoint: new MemoryCheckpoint() });
  expect(first.parts.length).toBeGreaterThanOrEqual(2);
  // A foreign part numbered high under the same name (only possible by hand: validation refuses
  // duplicate names) must survive.
  const foreign = { version: 1, part: { name: 'adele-9.pst', index: 9, sizeBytes: 3, sha256: 'x' }, mailbox: { source: 'someone@else.test', archive: false }, pass: 'full', closedAt: new Date(0).toISOString(), items: [] };
  await dest.putSmall('adele-9.pst', new Uint8Array([1, 2, 3]), 'application/octet-stream');
  await dest.putSmall('adele-9.pst.manifest.json', Buffer.from(JSON.stringify(foreign)), 'application/json');
  // Start over (a fresh checkpoint, as the jobs layer does for a new full pass) with a big split: one part.
  const again = await runExport(request('Adele'), { source, destination: dest, checkpoint: new MemoryCheckpoint() });
  expect(partNames(again.parts)).toEqual(['adele.pst']);
  const stale = first.parts.slice(1).map((p) => p.name);
  for (const name of stale) {
    expect(dest.objects.has(name)).toBe(false);
    expect(dest.objects.has(`${name}.manifest.json`)).toBe(false);
  }
  expect((again.notices ?? []).map((n) => n.code)).toContain('StalePartsRemoved');
  expect(dest.objects.has('adele-9.pst')).toBe(true);
  expect(await manifestIds(dest, ['adele.pst'])).toEqual(truthIds(user('Adele').primary!));
});
