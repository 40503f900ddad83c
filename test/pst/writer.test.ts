/**
 * The PST writer's public API: folders of every container class, counts, FAI items, embedded
 * messages three deep, parts at the split size, input validation — read back with our reader,
 * checked with our checker and, where installed, accepted by libpff (pffinfo -a).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newMapiItem, PropertyBag, type MapiItem } from '../../worker-service/src/mapi/item';
import { TAG } from '../../worker-service/src/mapi/tags';
import { NAMED } from '../../worker-service/src/mapi/named';
import { filetimeFromDate } from '../../worker-service/src/mapi/types';
import { PstReader } from '../../worker-service/src/pst/reader';
import { checkPst } from '../../worker-service/src/pst/check';
import { FilePstSink, PstWriter, PstWriterError, partFileName, CryptMethod } from '../../worker-service/src/pst/writer';

const HAVE_PFFINFO = spawnSync('pffinfo', ['-V']).status === 0;
if (!HAVE_PFFINFO && process.env.CI === 'true') throw new Error('pffinfo (Debian pff-tools) is required on CI');
if (!HAVE_PFFINFO) console.warn('SKIPPED pffinfo checks: pffinfo (pff-tools) is not installed');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'outport-writer-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function message(subject: string, opts: { read?: boolean; body?: string; attachBytes?: number } = {}): MapiItem {
  const it = newMapiItem();
  it.properties
    .setTag(TAG.PidTagMessageClass, 'IPM.Note')
    .setTag(TAG.PidTagSubject, subject)
    .setTag(TAG.PidTagBody, opts.body ?? `Body of ${subject}`)
    .setTag(TAG.PidTagMessageFlags, opts.read ? 1 : 0)
    .setTag(TAG.PidTagClientSubmitTime, filetimeFromDate(new Date('2021-05-06T07:08:09Z')))
    .setTag(TAG.PidTagInternetMessageId, `<${subject.replace(/\W/g, '')}@outport.test>`);
  it.properties.setNamedDef(NAMED.PidNameKeywords, ['blue', subject]);
  const r = new PropertyBag()
    .setTag(TAG.PidTagRecipientType, 1)
    .setTag(TAG.PidTagDisplayName, 'Bob')
    .setTag(TAG.PidTagEmailAddress, 'bob@example.com')
    .setTag(TAG.PidTagAddressType, 'SMTP');
  it.recipients.push(r);
  if (opts.attachBytes) {
    const data = Uint8Array.from({ length: opts.attachBytes }, (_, i) => (i * 7 + subject.length) & 0xff);
    it.attachments.push({
      properties: new PropertyBag().setTag(TAG.PidTagAttachMethod, 1).setTag(TAG.PidTagAttachLongFilename, `${subject}.bin`).setTag(TAG.PidTagAttachDataBinary, data),
    });
  }
  return it;
}

async function writeAll(name: string, items: { path: string[]; cls?: string; item: MapiItem }[], split?: number) {
  const w = PstWriter.open({ partName: name, splitSizeBytes: split, openSink: (f) => FilePstSink.create(join(dir, f)) });
  for (const { path, cls, item } of items) await w.addItem(path.map((displayName) => ({ displayName, containerClass: cls })), item);
  return w.close();
}

async function readAll(file: string) {
  const r = await PstReader.open(file);
  const out: { path: string; cls?: string; count: number; unread: number; items: MapiItem[] }[] = [];
  for await (const f of r.folders()) {
    const items: MapiItem[] = [];
    for await (const it of r.items(f)) items.push(it);
    out.push({ path: f.path.join('/'), cls: f.containerClass, count: f.contentCount, unread: f.contentUnreadCount, items });
  }
  await r.close();
  return out;
}

async function expectValid(file: string) {
  const report = await checkPst(file);
  expect(report.findings).toEqual([]);
  if (HAVE_PFFINFO) expect(spawnSync('pffinfo', ['-a', file]).status).toBe(0);
}

test('folders of every container class with counts that match their items', async () => {
  const classes = ['IPF.Note', 'IPF.Contact', 'IPF.Appointment', 'IPF.Task', 'IPF.StickyNote', 'IPF.Journal', 'IPF.Outport.Custom'];
  const items = classes.flatMap((cls, i) => [
    { path: ['Mailbox', `Folder ${i}`], cls, item: message(`${cls} one`, { read: true }) },
    { path: ['Mailbox', `Folder ${i}`], cls, item: message(`${cls} two`) },
  ]);
  const [part] = await writeAll('classes.pst', items);
  const file = join(dir, part.fileName);
  await expectValid(file);
  const folders = await readAll(file);
  for (const [i, cls] of classes.entries()) {
    const f = folders.find((x) => x.path.endsWith(`Mailbox/Folder ${i}`))!;
    expect(f.cls).toBe(cls);
    expect(f.count).toBe(2);
    expect(f.unread).toBe(1);
    expect(f.items.map((it) => it.properties.get(TAG.PidTagSubject.id))).toEqual([`${cls} one`, `${cls} two`]);
    expect(f.items[0].properties.getNamed(NAMED.PidNameKeywords.key)?.value).toEqual(['blue', `${cls} one`]);
  }
});

test('FAI items go to the associated contents table; embedded messages nest three deep', async () => {
  const fai = message('view definition');
  fai.associated = true;
  fai.properties.setTag(TAG.PidTagMessageClass, 'IPM.Microsoft.FolderDesign.NamedView');
  const outer = message('level 0', { attachBytes: 20_000 });
  let cur = outer;
  for (let depth = 1; depth <= 3; depth++) {
    const inner = message(`level ${depth}`, { attachBytes: 100 * depth });
    cur.attachments.push({ properties: new PropertyBag().setTag(TAG.PidTagAttachMethod, 5).setTag(TAG.PidTagDisplayName, `level ${depth}`), embedded: inner });
    cur = inner;
  }
  const [part] = await writeAll('nested.pst', [
    { path: ['Inbox'], item: outer },
    { path: ['Inbox'], item: fai },
  ]);
  const file = join(dir, part.fileName);
  await expectValid(file);
  const inbox = (await readAll(file)).find((f) => f.path.endsWith('Inbox'))!;
  expect(inbox.count).toBe(1);
  expect(inbox.items.map((i) => i.associated)).toEqual([false, true]);
  let m: MapiItem | undefined = inbox.items[0];
  for (let depth = 0; depth <= 3; depth++) {
    expect(m!.properties.get(TAG.PidTagSubject.id)).toBe(`level ${depth}`);
    const att: { embedded?: MapiItem } | undefined = m!.attachments.find((a) => a.embedded);
    const data = m!.attachments.find((a) => !a.embedded)!.properties.get(TAG.PidTagAttachDataBinary.id) as Uint8Array;
    expect(data.length).toBe(depth === 0 ? 20_000 : 100 * depth);
    expect(m!.attachments.every((a) => a.properties.get(TAG.PidTagRenderingPosition.id) === -1)).toBe(true);
    expect(m!.attachments.every((a) => typeof a.properties.get(TAG.PidTagAttachSize.id) === 'number')).toBe(true);
    m = att?.embedded;
  }
  expect(m).toBeUndefined();
});

test('parts split at the split size, named name.pst, name-2.pst …, each complete and within the limit', async () => {
  const split = 2 * 1024 * 1024;
  const items = Array.from({ length: 60 }, (_, i) => ({ path: ['Archive', i % 2 ? 'Odd' : 'Even'], item: message(`item ${i}`, { attachBytes: 100_000 }) }));
  const parts = await writeAll('user1.pst', items, split);
  expect(parts.length).toBeGreaterThanOrEqual(3);
  expect(parts.map((p) => p.fileName)).toEqual(parts.map((_, i) => (i === 0 ? 'user1.pst' : `user1-${i + 1}.pst`)));
  const seen: string[] = [];
  for (const p of parts) {
    const file = join(dir, p.fileName);
    expect(statSync(file).size).toBeLessThanOrEqual(split);
    await expectValid(file);
    for (const f of await readAll(file)) {
      for (const it of f.items) {
        const subject = it.properties.get(TAG.PidTagSubject.id) as string;
        const n = Number(subject.split(' ')[1]);
        expect(f.path.endsWith(`Archive/${n % 2 ? 'Odd' : 'Even'}`)).toBe(true);
        seen.push(subject);
      }
    }
  }
  expect(seen.sort()).toEqual(items.map((i) => i.item.properties.get(TAG.PidTagSubject.id) as string).sort());
});

test('an export with no items is still one valid, empty PST; encoding none is accepted', async () => {
  const w = PstWriter.open({ partName: 'empty.pst', cryptMethod: CryptMethod.None, openSink: (f) => FilePstSink.create(join(dir, f)) });
  await w.ensureFolder([{ displayName: 'Inbox', containerClass: 'IPF.Note' }]);
  const parts = await w.close();
  expect(parts).toHaveLength(1);
  await expectValid(join(dir, 'empty.pst'));
  const folders = await readAll(join(dir, 'empty.pst'));
  expect(folders.some((f) => f.path.endsWith('Inbox'))).toBe(true);
});

test('bad input gets a clear error naming the fix', async () => {
  expect(() => PstWriter.open({ partName: 'x.pst', splitSizeBytes: 1000, openSink: async () => { throw new Error('unused'); } })).toThrow(/split size 1000 bytes is outside/);
  expect(() => partFileName('../x.pst', 1)).toThrow(PstWriterError);
  expect(() => partFileName('mailbox', 1)).toThrow(/must be a file name ending in \.pst/);
  expect(partFileName('user1.pst', 3)).toBe('user1-3.pst');
  const w = PstWriter.open({ partName: 'bad.pst', openSink: (f) => FilePstSink.create(join(dir, f)) });
  await expect(w.addItem([{ displayName: ' ' }], message('x'))).rejects.toThrow(/non-empty displayName/);
  const wrong = message('wrong type');
  wrong.properties.set(TAG.PidTagImportance.id, TAG.PidTagImportance.type, 'high' as unknown as number);
  await expect(w.addItem([{ displayName: 'Inbox' }], wrong)).rejects.toMatchObject({ code: 'PropValueShape' });
  await w.abort();
});

test('NDB_CRYPT_CYCLIC (MS-PST 5.2) round-trips through our reader and libpff', async () => {
  const w = PstWriter.open({ partName: 'cyclic.pst', cryptMethod: CryptMethod.Cyclic, openSink: (f) => FilePstSink.create(join(dir, f)) });
  await w.addItem([{ displayName: 'Inbox' }], message('cyclic one', { attachBytes: 30_000, body: 'x'.repeat(20_000) }));
  await w.close();
  const file = join(dir, 'cyclic.pst');
  await expectValid(file);
  const inbox = (await readAll(file)).find((f) => f.path.endsWith('Inbox'))!;
  expect(inbox.items[0].properties.get(TAG.PidTagBody.id)).toBe('x'.repeat(20_000));
  if (HAVE_PFFINFO) {
    const info = spawnSync('pffinfo', [file], { encoding: 'utf8' });
    expect(info.stdout).toMatch(/Encryption type:\s+high/);
  }
});
