/**
 * The Graph source (worker-service/src/graph/source.ts) against the sandbox tenant: full reads of a
 * primary, an archive and the auto-expanding archive through exportItems equal to the seed; the
 * REST fallback; faults with ≤ 4 in flight; malformed items → FtsDecodeFailed → REST; delta passes.
 */
import { createHash } from 'node:crypto';
import { HTTPMessageHandler, type Context } from '@microsoft/microsoft-graph-client';
import { CLOUDS, GraphClient, StaticTokenSource, customCloud, type GraphCloud } from '../../worker-service/src/graph';
import { encodeExportItem } from '../../worker-service/src/convert/fts/encode';
import { GraphSource, olderThanDays, planBatches, type SourceEvent, type SourceItemEvent, type SourceOptions } from '../../worker-service/src/graph/source';
import { TAG } from '../../worker-service/src/mapi/tags';
import { NAMED, type NamedPropertyKey } from '../../worker-service/src/mapi/named';
import { EXPORT_ENCODE_OPTIONS } from '../../worker-service/src/sandbox/seed';
import { buildTenant, mailboxFolders, mailboxItems, startSandbox, type SandboxHandle, type SandboxMailbox, type SandboxTenant } from '../../worker-service/src/sandbox';
import { appToken, sandboxClient } from '../sandbox/helpers';
import { comparable, restAttachments } from '../sandbox/mapi-compare';

jest.setTimeout(60_000);

let tenant: SandboxTenant;
const started: SandboxHandle[] = [];
let sb: SandboxHandle;
let source: GraphSource;

async function start(options: Parameters<typeof startSandbox>[0] = {}): Promise<{ sb: SandboxHandle; source: GraphSource; token: string }> {
  const s = await startSandbox({ port: 0, tenant, ...options });
  started.push(s);
  const token = await appToken(s);
  return { sb: s, source: new GraphSource(sandboxClient(s, token)), token };
}

beforeAll(async () => {
  tenant = await buildTenant({ mailLimit: 150 });
  ({ sb, source } = await start());
});
afterAll(async () => { for (const s of started) await s.stop(); });

const user = (given: string) => tenant.users.find((u) => u.givenName === given)!;

async function collect(gen: AsyncIterable<SourceEvent>): Promise<SourceEvent[]> {
  const out: SourceEvent[] = [];
  for await (const e of gen) out.push(e);
  return out;
}
const itemsOf = (evs: SourceEvent[]) => evs.filter((e): e is SourceItemEvent => e.kind === 'item');

/** Asserts a full-fidelity read equals the mailbox's truth (aux part included), in folder order. */
function expectFullRead(evs: SourceEvent[], mb: SandboxMailbox): { count: number; bytes: number } {
  expect(evs.filter((e) => e.kind === 'error')).toEqual([]);
  const folders = mailboxFolders(mb);
  expect(evs.filter((e) => e.kind === 'folder').map((e) => (e.kind === 'folder' ? e.folder.id : ''))).toEqual(folders.map((f) => f.id));
  const truth = folders.flatMap((f) => f.items);
  const got = itemsOf(evs);
  expect(got.map((i) => i.sourceId)).toEqual(truth.map((t) => t.id));
  let bytes = 0;
  got.forEach((g, k) => {
    expect(g.fidelity).toBe('full');
    expect(g.changeKey).toBe(truth[k].changeKey);
    expect(g.sizeBytes).toBe(truth[k].size);
    expect(g.sourceSha256).toBe(sha256(encodeExportItem(truth[k].item, EXPORT_ENCODE_OPTIONS)));
    expect(g.path.map((p) => p.displayName)).toEqual(pathOf(truth[k].folder));
    expect(comparable(g.item)).toEqual(comparable(truth[k].item));
    bytes += g.sizeBytes;
  });
  expect(bytes).toBe(truth.reduce((a, t) => a + t.size, 0));
  return { count: got.length, bytes };
}
const sha256 = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');
function pathOf(f: { displayName: string; parentFolderId: string }): string[] {
  const parent = tenant.folder(f.parentFolderId);
  return parent ? [...pathOf(parent), f.displayName] : [f.displayName];
}

test('planBatches: ≤ 20 ids and within the byte budget; an oversized item goes alone', () => {
  const sizes = [5, 5, 5, 30, 1, 1, ...Array(25).fill(1)];
  const batches = planBatches(sizes.map((size) => ({ size })), { maxIds: 20, maxBytes: 12 });
  expect(batches.map((b) => b.map((x) => x.size))).toEqual([[5, 5], [5], [30], Array(12).fill(1), Array(12).fill(1), Array(3).fill(1)]);
  expect(planBatches(Array(45).fill({ size: 1 }), { maxIds: 99, maxBytes: 1e9 }).map((b) => b.length)).toEqual([20, 20, 5]);
});

const deltaLinks: Record<string, Record<string, string>> = {};

test('exportItems: every sandbox mailbox (each primary, each archive, the auto-expanding archive with its auxiliary part, and the auxiliary on its own) read completely, counts and bytes equal to the truth, every item equal to the seed property for property', async () => {
  const report: string[] = [];
  const active = tenant.users.filter((u) => !u.inactive);
  const reads: { label: string; mailbox: Parameters<GraphSource['items']>[0]; mb: SandboxMailbox }[] = [];
  for (const u of active) {
    reads.push({ label: `${u.givenName}`, mailbox: { user: u.mail }, mb: u.primary! });
    if (u.archive) reads.push({ label: `${u.givenName} archive`, mailbox: { user: u.mail, archive: true }, mb: u.archive });
    if (u.archive?.auxiliary) reads.push({ label: `${u.givenName} auxiliary`, mailbox: { mailboxId: u.archive.auxiliary.id }, mb: u.archive.auxiliary });
  }
  expect(reads.map((r) => r.mb.kind).sort()).toEqual([...active.map(() => 'primary'), ...active.filter((u) => u.archive).map(() => 'archive'), 'auxiliary'].sort());
  for (const { label, mailbox, mb } of reads) {
    const evs = await collect(source.items(mailbox, { batchSize: 20 }));
    const { count, bytes } = expectFullRead(evs, mb);
    const truth = mailboxFolders(mb).flatMap((f) => f.items);
    expect([label, count, bytes]).toEqual([label, truth.length, truth.reduce((a, t) => a + t.size, 0)]);
    expect(count).toBeGreaterThan(0);
    if (mb.auxiliary) {
      expect(evs.some((e) => e.kind === 'folder' && e.folder.displayName === 'Older mail')).toBe(true);
      expect(count).toBe(mailboxItems(mb).length + mailboxItems(mb.auxiliary).length);
    }
    const ends = evs.filter((e) => e.kind === 'folderEnd');
    expect(ends.every((e) => e.kind === 'folderEnd' && /\$deltatoken=/.test(e.deltaLink ?? ''))).toBe(true);
    deltaLinks[mb.id] = Object.fromEntries(ends.map((e) => (e.kind === 'folderEnd' ? [e.folderId, e.deltaLink!] : ['', ''])));
    report.push(`${label}: ${count} items ${bytes} bytes`);
  }
  // eslint-disable-next-line no-console
  console.log(report.join('; '));
});

test('delta: a second pass with the saved deltaLinks yields folders but no items; a removal shows as removedIds', async () => {
  const u = user('Adele');
  const evs = await collect(source.items({ mailboxId: u.primary!.id, user: u.mail }, { since: deltaLinks[u.primary!.id] }));
  expect(itemsOf(evs)).toEqual([]);
  expect(evs.filter((e) => e.kind === 'error')).toEqual([]);
  expect(evs.filter((e) => e.kind === 'folder')).toHaveLength(mailboxFolders(u.primary!).length);
  expect(evs.every((e) => e.kind !== 'folderEnd' || e.removedIds.length === 0)).toBe(true);
});

test('options: item types, folder include/exclude, and a date range (older than N days)', async () => {
  const u = user('Lynne');
  const mb = u.primary!;
  const only = (o: SourceOptions) => collect(source.items({ user: u.mail }, o));
  const inbox = await only({ includeFolders: ['inbox'], excludeFolders: ['Inbox/Lists/Vendors'] });
  expect(inbox.filter((e) => e.kind === 'folder').map((e) => (e.kind === 'folder' ? e.path.map((p) => p.displayName).join('/') : ''))).toEqual(['Inbox', 'Inbox/Lists']);
  const tasks = itemsOf(await only({ itemTypes: ['IPM.Task', 'ipm.stickynote'] }));
  expect(tasks.map((t) => t.item.properties.get(TAG.PidTagMessageClass.id)).sort()).toEqual(
    mailboxItems(mb).filter((i) => /^IPM\.(Task|StickyNote)/.test(i.messageClass)).map((i) => i.messageClass).sort());
  const range = olderThanDays(30, new Date('2002-10-01T00:00:00Z'));
  expect(range.before).toEqual(new Date('2002-09-01T00:00:00Z'));
  const old = itemsOf(await only({ dateRange: range }));
  const expected = mailboxItems(mb).filter((i) => Date.parse(i.createdDateTime) < range.before!.getTime());
  expect(old.map((i) => i.sourceId).sort()).toEqual(expected.map((i) => i.id).sort());
  expect(expected.length).toBeGreaterThan(0);
  expect(expected.length).toBeLessThan(mailboxItems(mb).length);
});

test.each(['Megan', 'Adele', 'Alex', 'Lynne', 'Diego'])('REST fallback (a cloud without exportItems), %s: mail bodies/attachments and the contact/event/task fields REST carries equal the seed', async (given) => {
  const token = await appToken(sb);
  const client = new GraphClient({ cloud: customCloud({ graphBaseUrl: sb.graphUrl, loginBaseUrl: sb.authorityUrl, exportItemsAvailable: false }), tokenSource: new StaticTokenSource(token), retry: { baseDelayMs: 5, maxDelayMs: 50, maxRetries: 8 } });
  const u = user(given);
  const evs = await collect(new GraphSource(client).items({ user: u.mail }));
  expect(evs.filter((e) => e.kind === 'error')).toEqual([]);
  const got = itemsOf(evs);
  expect(got.every((g) => g.fidelity === 'rest')).toBe(true);
  const truthById = new Map(mailboxItems(u.primary!).map((i) => [i.id, i]));
  const mail = got.filter((g) => String(g.item.properties.get(TAG.PidTagMessageClass.id)).startsWith('IPM.Note'));
  const seedMail = mailboxItems(u.primary!).filter((i) => i.folder.type === 'IPF.Note');
  expect(mail.map((m) => m.sourceId).sort()).toEqual(seedMail.map((i) => i.id).sort());
  let withAttachments = 0;
  for (const m of mail) {
    const t = truthById.get(m.sourceId)!;
    for (const tag of [TAG.PidTagBody, TAG.PidTagHtml, TAG.PidTagSubject, TAG.PidTagInternetMessageId]) {
      expect([m.sourceId, tag.id, m.item.properties.get(tag.id)]).toEqual([m.sourceId, tag.id, t.item.properties.get(tag.id)]);
    }
    expect(m.item.properties.getNamed(NAMED.PidNameKeywords.key)?.value).toEqual(t.item.properties.getNamed(NAMED.PidNameKeywords.key)?.value);
    expect(restAttachments(m.item)).toEqual(restAttachments(t.item));
    if (t.item.attachments.length) withAttachments++;
    expect(m.sizeBytes).toBe(t.mime!.length);
    expect(m.sourceSha256).toBe(sha256(t.mime!));
  }
  const byClass = (cls: string) => got.filter((g) => g.item.properties.get(TAG.PidTagMessageClass.id) === cls);
  const seedOf = (cls: string) => mailboxItems(u.primary!).filter((i) => i.messageClass === cls);
  const same = (cls: string, tags: { id: number }[], named: { key: NamedPropertyKey }[]) => {
    const g = byClass(cls);
    expect(g.map((x) => x.sourceId).sort()).toEqual(seedOf(cls).map((i) => i.id).sort());
    for (const x of g) {
      const t = truthById.get(x.sourceId)!.item.properties;
      for (const tag of tags) expect([cls, tag.id, x.item.properties.get(tag.id)]).toEqual([cls, tag.id, t.get(tag.id)]);
      for (const n of named) expect([cls, n.key, x.item.properties.getNamed(n.key)?.value]).toEqual([cls, n.key, t.getNamed(n.key)?.value]);
    }
    return g.length;
  };
  const contacts = same('IPM.Contact', [TAG.PidTagDisplayName, TAG.PidTagGivenName, TAG.PidTagSurname, TAG.PidTagCompanyName], [NAMED.PidLidEmail1EmailAddress, NAMED.PidLidFileUnder]);
  const events = same('IPM.Appointment', [TAG.PidTagSubject], [NAMED.PidLidAppointmentStartWhole, NAMED.PidLidAppointmentEndWhole, NAMED.PidLidLocation]);
  const tasks = same('IPM.Task', [TAG.PidTagSubject], [NAMED.PidLidTaskStatus, NAMED.PidLidTaskComplete]);
  expect([contacts, events, tasks]).toEqual([4, 3, 3]);
  for (const g of got) expect(g.sourceSha256).toMatch(/^[0-9a-f]{64}$/);
  expect(new Set(got.map((g) => g.sourceSha256)).size).toBe(got.length);
  if (given === 'Megan') expect(withAttachments).toBeGreaterThan(0);
  expect(mail.length).toBeGreaterThan(0);
  // eslint-disable-next-line no-console
  console.log(`REST ${given}: ${mail.length} mail (${withAttachments} with attachments), ${contacts} contacts, ${events} events, ${tasks} tasks`);
});

test('faults: 20 % 429, 2.5 % 503, 2.5 % 504 — full reads complete and no mailbox ever has more than 4 requests in flight', async () => {
  const { sb: faulty, source: src } = await start({ faults: { rate429: 0.2, rate503: 0.025, rate504: 0.025, retryAfterSeconds: 0.01, seed: 7 }, latencyMs: 5 });
  const megan = user('Megan');
  const lynne = user('Lynne');
  const [a, b] = await Promise.all([
    collect(src.items({ user: megan.mail, archive: true }, { batchSize: 4, pageSize: 5 })),
    collect(src.items({ user: lynne.mail }, { batchSize: 4, pageSize: 5 })),
  ]);
  expectFullRead(a, megan.archive!);
  expectFullRead(b, lynne.primary!);
  const stats = faulty.stats();
  expect(stats.faults['429']).toBeGreaterThan(10);
  expect((stats.faults['503'] ?? 0) + (stats.faults['504'] ?? 0)).toBeGreaterThan(0);
  const mbs = Object.values(stats.mailboxes);
  expect(Math.max(...mbs.map((m) => m.maxInFlight))).toBeLessThanOrEqual(4);
  expect(stats.mailboxes[megan.archive!.auxiliary!.id]?.maxInFlight).toBeGreaterThan(0);
  // eslint-disable-next-line no-console
  console.log(`faults: ${stats.requests} requests, faults ${JSON.stringify(stats.faults)}, maxInFlight ${JSON.stringify(Object.fromEntries(Object.entries(stats.mailboxes).map(([k, v]) => [k.slice(0, 12), v.maxInFlight])))}`);
});

test('malformed items: FtsDecodeFailed with the offset, then mail comes back through REST (fidelity rest)', async () => {
  const { source: src } = await start({ faults: { rateMalformed: 0.3, seed: 3 } });
  const alex = user('Alex');
  const evs = await collect(src.items({ user: alex.mail }));
  const errors = evs.filter((e) => e.kind === 'error');
  expect(errors.length).toBeGreaterThan(0);
  const truth = mailboxFolders(alex.primary!).flatMap((f) => f.items);
  const byId = new Map(truth.map((t) => [t.id, t]));
  let mailBack = 0;
  for (const e of errors) {
    if (e.kind !== 'error') continue;
    expect(e.code).toBe('FtsDecodeFailed');
    expect(e.offset).toBeGreaterThan(0);
    expect(e.offset).toBeLessThan(byId.get(e.sourceId)!.size);
    const t = byId.get(e.sourceId)!;
    const next = evs[evs.indexOf(e) + 1];
    if (t.messageClass.startsWith('IPM.Note')) {
      expect(next).toMatchObject({ kind: 'item', sourceId: e.sourceId, fidelity: 'rest' });
      const it = (next as SourceItemEvent).item;
      expect(it.properties.get(TAG.PidTagBody.id)).toEqual(t.item.properties.get(TAG.PidTagBody.id));
      expect(restAttachments(it)).toEqual(restAttachments(t.item));
      mailBack++;
    } else {
      expect(next?.kind === 'item' && next.sourceId === e.sourceId).toBe(false);
    }
  }
  expect(mailBack).toBeGreaterThan(0);
  const items = itemsOf(evs);
  const failedNonMail = errors.filter((e) => e.kind === 'error' && !byId.get(e.sourceId)!.messageClass.startsWith('IPM.Note')).length;
  expect(items.length).toBe(truth.length - failedNonMail);
  expect(items.filter((i) => i.fidelity === 'rest')).toHaveLength(mailBack);
  // eslint-disable-next-line no-console
  console.log(`malformed: ${errors.length} FtsDecodeFailed, ${mailBack} mail re-read via REST, ${items.length - mailBack} full`);
});

test('pipelining: with 30 ms latency, export batches overlap with the listing and the mailbox holds exactly 4 requests in flight (1-id batches)', async () => {
  const { sb: slow, source: src } = await start({ latencyMs: 30 });
  const u = user('Adele');
  const t0 = Date.now();
  const evs = await collect(src.items({ user: u.mail }, { batchSize: 1 }));
  const ms = Date.now() - t0;
  expectFullRead(evs, u.primary!);
  const stats = slow.stats().mailboxes[u.primary!.id];
  expect(stats.maxInFlight).toBe(4);
  expect(stats.rejectedConcurrency).toBe(0);
  // eslint-disable-next-line no-console
  console.log(`pipelining: ${stats.requests} requests in ${ms} ms (serial would be ≥ ${stats.requests * 30} ms)`);
});

let freshOne: Promise<{ fresh: SandboxTenant; own: SandboxHandle; src: GraphSource }> | undefined;
/** A tenant of its own (tests here change it: removals, expired delta tokens) on its own server. */
function freshSandbox(): Promise<{ fresh: SandboxTenant; own: SandboxHandle; src: GraphSource }> {
  freshOne ??= (async () => {
    const fresh = await buildTenant({ mailLimit: 150 });
    const { sb: own, source: src } = await start({ tenant: fresh });
    return { fresh, own, src };
  })();
  return freshOne;
}

test('onlyItemIds: exactly those items, grouped by folder and exported by id; ids no longer present → ErrorItemNotFound; no deltaLink', async () => {
  const { fresh, own, src } = await freshSandbox();
  const u = fresh.users.find((x) => x.givenName === 'Adele')!;
  const folders = mailboxFolders(u.primary!).filter((f) => f.items.length >= 2);
  expect(folders.length).toBeGreaterThanOrEqual(2);
  // Two items of each of two folders, given out of order, plus one removed and one never existing.
  const want = [folders[1].items[1], folders[0].items[0], folders[1].items[0], folders[0].items[1]];
  const gone = folders[0].items[2] ?? folders[1].items[2];
  expect(gone).toBeDefined();
  const goneId = gone.id;
  expect(fresh.removeItem(goneId)).toBe(true);
  own.resetStats();
  const evs = await collect(src.items({ user: u.mail }, { onlyItemIds: [...want.map((w) => w.id), goneId, 'AAMkNoSuchItem='], batchSize: 20, itemTypes: ['IPM.Nothing'], since: { [folders[0].id]: 'http://invalid/' } }));
  const got = itemsOf(evs);
  expect(got.map((g) => g.sourceId).sort()).toEqual(want.map((w) => w.id).sort());
  for (const g of got) {
    const t = want.find((w) => w.id === g.sourceId)!;
    expect(g.fidelity).toBe('full');
    expect(comparable(g.item)).toEqual(comparable(t.item));
    expect(g.path.map((p) => p.displayName)).toEqual(pathOf(t.folder));
  }
  // Only the two folders show, each once, with its items between folder and folderEnd; no deltaLink.
  const shown = evs.filter((e) => e.kind === 'folder').map((e) => (e.kind === 'folder' ? e.folder.id : ''));
  expect(shown.sort()).toEqual([folders[0].id, folders[1].id].sort());
  for (const e of evs) if (e.kind === 'folderEnd') { expect(e.deltaLink).toBeUndefined(); expect(e.listed).toBe(2); }
  for (const f of folders.slice(0, 2)) {
    const start = evs.findIndex((e) => e.kind === 'folder' && e.folder.id === f.id);
    const end = evs.findIndex((e) => e.kind === 'folderEnd' && e.folderId === f.id);
    expect(evs.slice(start + 1, end).map((e) => (e.kind === 'item' ? e.sourceId : e.kind)).sort()).toEqual(f.items.slice(0, 2).map((i) => i.id).sort());
  }
  const errors = evs.filter((e) => e.kind === 'error');
  expect(errors.map((e) => (e.kind === 'error' ? [e.sourceId, e.code] : []))).toEqual([[goneId, 'ErrorItemNotFound'], ['AAMkNoSuchItem=', 'ErrorItemNotFound']]);
  expect(evs[evs.length - 1].kind).toBe('error');
  // The REST path the same way: mail by id from its mail folder, a contact from its contact folder.
  const restClient = new GraphClient({ cloud: customCloud({ graphBaseUrl: own.graphUrl, loginBaseUrl: own.authorityUrl, exportItemsAvailable: false }), tokenSource: new StaticTokenSource(await appToken(own)) });
  const mailIds = want.filter((w) => w.folder.type === 'IPF.Note').map((w) => w.id);
  const contact = mailboxItems(u.primary!).find((i) => i.messageClass === 'IPM.Contact')!;
  const rest = await collect(new GraphSource(restClient).items({ user: u.mail }, { onlyItemIds: [...mailIds, contact.id, goneId] }));
  expect(itemsOf(rest).map((g) => [g.sourceId, g.fidelity]).sort()).toEqual([...mailIds, contact.id].map((id) => [id, 'rest']).sort());
  expect(rest.filter((e) => e.kind === 'error').map((e) => (e.kind === 'error' ? [e.sourceId, e.code] : []))).toEqual([[goneId, 'ErrorItemNotFound']]);
  expect(rest.filter((e) => e.kind === 'folder').length).toBe(new Set([...want.filter((w) => w.folder.type === 'IPF.Note').map((w) => w.folder.id), contact.folder.id]).size);
});

test('onlyItemIds: listing stops once every id is found', async () => {
  const u = user('Lynne');
  const first = mailboxFolders(u.primary!).find((f) => f.items.length > 0)!;
  sb.resetStats();
  const evs = await collect(source.items({ user: u.mail }, { onlyItemIds: [first.items[0].id] }));
  expect(itemsOf(evs).map((i) => i.sourceId)).toEqual([first.items[0].id]);
  expect(evs.filter((e) => e.kind === 'error')).toEqual([]);
  const all = await collect(source.items({ user: u.mail }, { onlyItemIds: ['AAMkNoSuchItem='] }));
  expect(all.map((e) => e.kind)).toEqual(['error']);
  const reqAll = sb.stats().mailboxes[u.primary!.id].requests;
  sb.resetStats();
  await collect(source.items({ user: u.mail }, { onlyItemIds: [first.items[0].id] }));
  expect(sb.stats().mailboxes[u.primary!.id].requests).toBeLessThan(reqAll);
});

test('skipItemIds (resume): known ids are dropped from the listing before export — one exportItems call fewer per skipped id with 1-id batches, one REST $value fewer per skipped message — and counted in folderEnd.skipped', async () => {
  const u = user('Lynne');
  const full = async (options: SourceOptions, client?: GraphClient): Promise<{ evs: SourceEvent[]; requests: number }> => {
    sb.resetStats();
    const evs = await collect((client ? new GraphSource(client) : source).items({ user: u.mail }, options));
    expect(evs.filter((e) => e.kind === 'error')).toEqual([]);
    return { evs, requests: sb.stats().mailboxes[u.primary!.id].requests };
  };
  const first = await full({ batchSize: 1 });
  const all = itemsOf(first.evs).map((i) => i.sourceId);
  expect(all.length).toBeGreaterThan(20);
  // "Finished parts" hold every other item.
  const skip = new Set(all.filter((_, k) => k % 2 === 0));
  const resumed = await full({ batchSize: 1, skipItemIds: skip });
  expect(itemsOf(resumed.evs).map((i) => i.sourceId)).toEqual(all.filter((id) => !skip.has(id)));
  // Same folders, each listed in full (deltaLinks kept); the skipped ids counted per folder.
  const ends = (evs: SourceEvent[]) => evs.filter((e) => e.kind === 'folderEnd').map((e) => (e.kind === 'folderEnd' ? e : undefined)!);
  expect(ends(resumed.evs).map((e) => [e.folderId, typeof e.deltaLink])).toEqual(ends(first.evs).map((e) => [e.folderId, 'string']));
  expect(ends(resumed.evs).reduce((n, e) => n + (e.skipped ?? 0), 0)).toBe(skip.size);
  expect(ends(resumed.evs).reduce((n, e) => n + e.listed, 0)).toBe(all.length - skip.size);
  expect(first.requests - resumed.requests).toBe(skip.size);
  // With the default 20-id batches the calls fall too.
  const batched = await full({});
  const batchedResumed = await full({ skipItemIds: skip });
  expect(batchedResumed.requests).toBeLessThan(batched.requests);
  // REST: each message costs a $value request; a skipped one costs nothing.
  const restClient = new GraphClient({ cloud: customCloud({ graphBaseUrl: sb.graphUrl, loginBaseUrl: sb.authorityUrl, exportItemsAvailable: false }), tokenSource: new StaticTokenSource(await appToken(sb)) });
  const rest = await full({ includeFolders: ['Inbox'] }, restClient);
  const restIds = itemsOf(rest.evs).map((i) => i.sourceId);
  expect(restIds.length).toBeGreaterThan(5);
  const restSkip = new Set(restIds.slice(0, 5));
  const restResumed = await full({ includeFolders: ['Inbox'], skipItemIds: restSkip }, restClient);
  expect(itemsOf(restResumed.evs).map((i) => i.sourceId)).toEqual(restIds.slice(5));
  expect(ends(restResumed.evs).reduce((n, e) => n + (e.skipped ?? 0), 0)).toBe(5);
  expect(rest.requests - restResumed.requests).toBe(5);
  // eslint-disable-next-line no-console
  console.log(`skipItemIds: ${first.requests} → ${resumed.requests} requests (1-id batches, ${skip.size} of ${all.length} skipped); 20-id batches ${batched.requests} → ${batchedResumed.requests}; REST Inbox ${rest.requests} → ${restResumed.requests}`);
});

test('one gate per mailbox across both APIs: exportItems and the REST re-reads of the same primary stay ≤ 4 in flight together', async () => {
  const { sb: both, source: src } = await start({ faults: { rateMalformed: 0.5, seed: 5 }, latencyMs: 15 });
  const u = user('Adele');
  const evs = await collect(src.items({ user: u.mail }, { batchSize: 1, maxAhead: 16 }));
  const reread = itemsOf(evs).filter((i) => i.fidelity === 'rest').length;
  expect(reread).toBeGreaterThan(3);
  const s = both.stats().mailboxes[u.primary!.id];
  expect(s.maxInFlight).toBeLessThanOrEqual(4);
  expect(s.rejectedConcurrency).toBe(0);
  expect(src.client.gate.canonicalKey(`user:${u.mail.toLowerCase()}`)).toBe(`mailbox:${u.primary!.id.toLowerCase()}`);
  // eslint-disable-next-line no-console
  console.log(`shared gate: ${s.requests} requests on the primary (${reread} REST re-reads), maxInFlight ${s.maxInFlight}`);
});

test('delta: a saved deltaLink refused with 410 SyncStateNotFound → a DeltaResync notice and a full re-listing of that folder (exportItems and REST)', async () => {
  const { fresh, own, src } = await freshSandbox();
  const u = fresh.users.find((x) => x.givenName === 'Alex')!;
  const first = await collect(src.items({ user: u.mail }));
  const links = Object.fromEntries(first.flatMap((e) => (e.kind === 'folderEnd' ? [[e.folderId, e.deltaLink!]] : [])));
  const restClient = new GraphClient({ cloud: customCloud({ graphBaseUrl: own.graphUrl, loginBaseUrl: own.authorityUrl, exportItemsAvailable: false }), tokenSource: new StaticTokenSource(await appToken(own)) });
  const restSrc = new GraphSource(restClient);
  const restFirst = await collect(restSrc.items({ user: u.mail }));
  const restLinks = Object.fromEntries(restFirst.flatMap((e) => (e.kind === 'folderEnd' && e.deltaLink ? [[e.folderId, e.deltaLink]] : [])));
  expect(Object.keys(restLinks).length).toBeGreaterThan(2);
  fresh.expireDeltaTokens();

  const again = await collect(src.items({ user: u.mail }, { since: links }));
  const notices = again.filter((e) => e.kind === 'notice');
  const folders = mailboxFolders(u.primary!);
  expect(notices.map((n) => (n.kind === 'notice' ? [n.code, n.folderId, n.statusCode, n.graphCode] : []))).toEqual(folders.map((f) => ['DeltaResync', f.id, 410, 'SyncStateNotFound']));
  // Each notice comes right after its folder event, and the folder is listed in full.
  for (const n of notices) expect(again[again.indexOf(n) - 1]).toMatchObject({ kind: 'folder', folder: { id: (n as { folderId: string }).folderId } });
  expectFullRead(again.filter((e) => e.kind !== 'notice'), u.primary!);
  const ends = again.filter((e) => e.kind === 'folderEnd');
  expect(ends.every((e) => e.kind === 'folderEnd' && e.fullResync === true && /\$deltatoken=/.test(e.deltaLink ?? ''))).toBe(true);
  // The new deltaLinks work: the next pass is quiet.
  const newLinks = Object.fromEntries(ends.map((e) => (e.kind === 'folderEnd' ? [e.folderId, e.deltaLink!] : ['', ''])));
  const third = await collect(src.items({ user: u.mail }, { since: newLinks }));
  expect(third.filter((e) => e.kind === 'item' || e.kind === 'notice' || e.kind === 'error')).toEqual([]);

  const restAgain = await collect(restSrc.items({ user: u.mail }, { since: restLinks }));
  const restNotices = restAgain.filter((e) => e.kind === 'notice' && e.code === 'DeltaResync');
  expect(restNotices.map((n) => (n.kind === 'notice' ? n.folderId : '')).sort()).toEqual(Object.keys(restLinks).sort());
  expect(itemsOf(restAgain).map((i) => i.sourceId).sort()).toEqual(itemsOf(restFirst).map((i) => i.sourceId).sort());
  expect(restAgain.filter((e) => e.kind === 'error')).toEqual([]);
});

describe('clouds: where exportItems is unavailable the source falls back to REST and says why', () => {
  const named = (name: 'global' | 'usgov' | 'dod' | 'china'): GraphCloud => ({ ...CLOUDS[name], graphBaseUrl: sb.graphUrl, loginBaseUrl: sb.authorityUrl, graphScope: `${sb.graphUrl}/.default` });
  test.each([
    ['global', 'auto', 'full', undefined],
    ['global', 'rest', 'rest', 'mode'],
    ['usgov', 'auto', 'rest', 'cloud'],
    ['dod', 'auto', 'rest', 'cloud'],
    ['china', 'auto', 'rest', 'cloud'],
  ] as const)('%s cloud, mode %s → fidelity %s, notice %s', async (cloudName, mode, fidelity, reason) => {
    const client = new GraphClient({ cloud: named(cloudName), tokenSource: new StaticTokenSource(await appToken(sb)), retry: { baseDelayMs: 5, maxDelayMs: 50 } });
    const u = user('Alex');
    const evs = await collect(new GraphSource(client).items({ user: u.mail }, { mode, includeFolders: ['Inbox', 'Contacts'] }));
    expect(evs.filter((e) => e.kind === 'error')).toEqual([]);
    const got = itemsOf(evs);
    expect(got.length).toBeGreaterThan(0);
    expect(new Set(got.map((g) => g.fidelity))).toEqual(new Set([fidelity]));
    const notices = evs.filter((e) => e.kind === 'notice');
    if (reason === undefined) expect(notices).toEqual([]);
    else {
      expect(evs[0]).toMatchObject({ kind: 'notice', code: 'RestFallback', reason });
      expect(notices).toHaveLength(1);
      if (reason === 'cloud') expect((evs[0] as { message: string }).message).toContain(`the ${cloudName} cloud has no exportItems`);
    }
    const truth = mailboxFolders(u.primary!).filter((f) => ['Inbox', 'Contacts'].includes(f.displayName) || pathOf(f)[0] === 'Inbox').flatMap((f) => f.items);
    expect(got.map((g) => g.sourceId).sort()).toEqual(truth.map((t) => t.id).sort());
  });

  test('an archive in a cloud without exportItems → ExportItemsUnavailable (REST reaches only the primary)', async () => {
    const client = new GraphClient({ cloud: named('usgov'), tokenSource: new StaticTokenSource(await appToken(sb)) });
    await expect(collect(new GraphSource(client).items({ user: user('Adele').mail, archive: true }))).rejects.toMatchObject({ code: 'ExportItemsUnavailable' });
    await expect(collect(source.items({ mailboxId: user('Adele').archive!.id, user: user('Adele').mail }, { mode: 'rest' }))).rejects.toMatchObject({ code: 'ExportItemsUnavailable' });
  });
});

test('batches run across folders of the same mailbox (20 ids per call for many small folders), never across an archive and its auxiliary', async () => {
  let exportCalls = 0;
  const http = new HTTPMessageHandler();
  // exportItems calls answered 200 (a 308 hop to the auxiliary is not a call of its own).
  const counting = { execute: async (ctx: Context) => { await http.execute(ctx); if (/\/exportItems$/i.test(String(ctx.request)) && ctx.response?.status === 200) exportCalls++; } };
  const client = sandboxClient(sb, await appToken(sb), { finalHandler: counting });
  for (const [given, archive] of [['Adele', false], ['Megan', true]] as const) {
    const u = user(given);
    const mb = archive ? u.archive! : u.primary!;
    exportCalls = 0;
    const evs = await collect(new GraphSource(client).items({ user: u.mail, archive }));
    expectFullRead(evs, mb);
    // Consecutive folders whose items live in the same mailbox share calls: ⌈items / 20⌉ per run.
    const runs: number[] = [];
    let last: unknown;
    for (const f of mailboxFolders(mb)) {
      if (f.home !== last) runs.push(0);
      last = f.home;
      runs[runs.length - 1] += f.items.length;
    }
    expect(exportCalls).toBe(runs.reduce((a, n) => a + Math.ceil(n / 20), 0));
    expect(exportCalls).toBeLessThan(mailboxFolders(mb).filter((f) => f.items.length > 0).length);
  }
});
