/**
 * Reading the sandbox tenant as the worker reads Graph: Outport's GraphClient (customCloud, real
 * HTTP) and its discovery generators. Users ($search with ConsistencyLevel, paging), mailbox ids
 * (v1.0 + beta), the inactive user's 404, folder trees, delta rounds with deltaLink, exportItems
 * decoded with our FTS decoder equal to the seed property for property, the auxiliary archive's 308,
 * REST $value equal to the original MIME, contacts/events/To Do in Graph's shapes.
 */
import { GraphError, getMailboxIds, itemDeltaPages, listUserPages, pages, walkFolders, type GraphClient, type MailboxItem } from '../../worker-service/src/graph';
import { decodeExportItem } from '../../worker-service/src/convert/fts';
import { TAG } from '../../worker-service/src/mapi/tags';
import { mailboxItems, startSandbox, walkTree, type SandboxHandle, type SandboxItem } from '../../worker-service/src/sandbox';
import { appTokenSource, sandboxClient } from './helpers';
import { comparable } from './mapi-compare';

let sb: SandboxHandle;
let client: GraphClient;

beforeAll(async () => {
  sb = await startSandbox({ mailLimit: 400 });
  client = sandboxClient(sb, appTokenSource(sb));
});
afterAll(async () => sb?.stop());

const user = (given: string) => sb.users.find((u) => u.givenName === given)!;

test('the tenant: ≥ 5 users, archives for ≥ 2 (one auto-expanding), one without, one inactive; PIM items with their classes in matching folders', () => {
  expect(sb.users.length).toBeGreaterThanOrEqual(5);
  expect(sb.users.filter((u) => u.archive).length).toBeGreaterThanOrEqual(2);
  expect(sb.users.filter((u) => u.archive?.auxiliary)).toHaveLength(1);
  expect(sb.users.some((u) => !u.inactive && !u.archive)).toBe(true);
  expect(sb.users.filter((u) => u.inactive)).toHaveLength(1);
  const classes = new Map<string, Set<string>>();
  for (const it of sb.tenant.allItems()) {
    const s = classes.get(it.folder.type) ?? new Set<string>();
    s.add(it.messageClass.split('.').slice(0, 2).join('.'));
    classes.set(it.folder.type, s);
    expect(it.size).toBeGreaterThan(0);
  }
  expect([...classes.get('IPF.Contact')!]).toEqual(['IPM.Contact']);
  expect([...classes.get('IPF.Appointment')!]).toEqual(['IPM.Appointment']);
  expect([...classes.get('IPF.Task')!]).toEqual(['IPM.Task']);
  expect([...classes.get('IPF.StickyNote')!]).toEqual(['IPM.StickyNote']);
  expect([...classes.get('IPF.Journal')!]).toEqual(['IPM.Activity']);
  expect(classes.get('IPF.Note')!.has('IPM.Note')).toBe(true);
  // Recurring events carry the recurrence blob and an exception as an embedded message.
  const weekly = [...sb.tenant.allItems()].find((i) => i.messageClass === 'IPM.Appointment' && i.item.attachments.length > 0)!;
  expect(weekly.item.attachments[0].embedded!.properties.get(TAG.PidTagMessageClass.id)).toBe('IPM.OLE.CLASS.{00061055-0000-0000-C000-000000000046}');
});

test('the seed is deterministic: a second build has the same ids, changeKeys and sizes', async () => {
  const { buildTenant } = await import('../../worker-service/src/sandbox');
  const again = await buildTenant({ mailLimit: 400 });
  const a = [...sb.tenant.allItems()].map((i) => [i.id, i.changeKey, i.size, i.folder.id]);
  const b = [...again.allItems()].map((i) => [i.id, i.changeKey, i.size, i.folder.id]);
  expect(b).toEqual(a);
  expect(again.tenantId).toBe(sb.tenantId);
});

test('users: $search needs ConsistencyLevel; listUserPages pages with $top and counts', async () => {
  const res = await fetch(`${sb.graphUrl}/v1.0/users?$search="displayName:meg"`, { headers: { authorization: `Bearer ${(await appTokenSource(sb).getToken([])).token}` } });
  expect(res.status).toBe(400);
  expect(((await res.json()) as { error: { code: string } }).error.code).toBe('Request_UnsupportedQuery');
  const found = [];
  for await (const p of listUserPages(client, { search: 'meg' })) { expect(p.count).toBe(1); found.push(...p.value); }
  expect(found.map((u) => u.mail)).toEqual([user('Megan').mail]);
  const pageSizes = [];
  const all = [];
  for await (const p of listUserPages(client, { top: 2 })) { pageSizes.push(p.value.length); all.push(...p.value); }
  // 7 users (the six test users and the seeded admin): pages of 2, the last one short.
  expect(sb.users).toHaveLength(7);
  expect(pageSizes).toEqual([2, 2, 2, 1]);
  expect(all.map((u) => u.id)).toEqual(sb.users.map((u) => u.id));
  expect(Object.keys(all[0]).sort()).toEqual(['displayName', 'id', 'mail', 'userPrincipalName']);
});

test('settings/exchange: v1.0 primary, beta archive; no archive → none; inactive user → 404 MailboxNotEnabledForRESTAPI', async () => {
  const megan = user('Megan');
  expect(await getMailboxIds(client, megan.mail)).toEqual({ primaryMailboxId: megan.primary!.id, inPlaceArchiveMailboxId: megan.archive!.id });
  expect(megan.primary!.id).toMatch(new RegExp(`^MBX:[0-9a-f-]{36}@${sb.tenantId}$`));
  expect(await getMailboxIds(client, user('Alex').id)).toEqual({ primaryMailboxId: user('Alex').primary!.id });
  const v1 = await client.get<Record<string, unknown>>(`/users/${megan.id}/settings/exchange`);
  expect(v1).not.toHaveProperty('inPlaceArchiveMailboxId');
  const inactive = sb.users.find((u) => u.inactive)!;
  await expect(getMailboxIds(client, inactive.mail)).rejects.toMatchObject({ statusCode: 404, code: 'MailboxNotEnabledForRESTAPI' });
  await expect(client.get(`/users/${inactive.id}/mailFolders`)).rejects.toMatchObject({ statusCode: 404, code: 'MailboxNotEnabledForRESTAPI' });
});

test('folders: walkFolders gives the tree with wellKnownName and container classes; folders/delta pages end in a deltaLink', async () => {
  const adele = user('Adele');
  const tree = [];
  for await (const f of walkFolders(client, adele.primary!.id)) tree.push(f);
  expect(tree.map((f) => f.path.join('/'))).toEqual(expect.arrayContaining(['Inbox', 'Inbox/Lists', 'Inbox/Lists/Vendors', 'Archive/2002', 'Calendar', 'Notes', 'Journal']));
  expect(tree.find((f) => f.displayName === 'Inbox')).toMatchObject({ wellKnownName: 'inbox', type: 'IPF.Note', depth: 0 });
  expect(tree.find((f) => f.displayName === 'Notes')).toMatchObject({ type: 'IPF.StickyNote' });
  expect(tree.find((f) => f.displayName === 'Journal')).toMatchObject({ type: 'IPF.Journal' });
  const counts = [];
  let deltaLink: string | undefined;
  for await (const p of pages(client, `/admin/exchange/mailboxes/${adele.primary!.id}/folders/delta`, { maxPageSize: 5 })) {
    counts.push(p.value.length);
    if (p.deltaLink) deltaLink = p.deltaLink;
    else expect(p.nextLink).toBeDefined();
  }
  expect(counts.reduce((a, b) => a + b, 0)).toBe(tree.length);
  expect(counts[0]).toBe(5);
  expect(deltaLink).toMatch(/\$deltatoken=/);
  const next = [];
  for await (const p of pages(client, deltaLink!)) next.push(...p.value);
  expect(next).toEqual([]);
});

test('items: delta paging with Prefer maxpagesize, deltaLink round after a deletion reports @removed; sizes equal the export data', async () => {
  const megan = user('Megan');
  const inbox = megan.primary!.folders.find((f) => f.wellKnownName === 'inbox')!;
  const seen: MailboxItem[] = [];
  let deltaLink: string | undefined;
  let n = 0;
  for await (const p of itemDeltaPages(client, megan.primary!.id, inbox.id, { maxPageSize: 3 })) {
    n++;
    expect(p.value.length).toBeLessThanOrEqual(3);
    seen.push(...p.value);
    deltaLink = p.deltaLink ?? deltaLink;
  }
  expect(n).toBe(Math.ceil(inbox.items.length / 3));
  expect(seen.map((i) => i.id)).toEqual(inbox.items.map((i) => i.id));
  for (const i of seen) {
    const it = sb.tenant.item(i.id)!;
    expect(i).toMatchObject({ type: it.messageClass, size: it.size, changeKey: it.changeKey, createdDateTime: it.createdDateTime, categories: it.categories });
  }
  const victim = inbox.items[inbox.items.length - 1].id;
  sb.tenant.removeItem(victim);
  const round2 = [];
  for await (const p of itemDeltaPages(client, megan.primary!.id, inbox.id, { deltaLink })) round2.push(...p.value);
  expect(round2).toEqual([{ id: victim, '@removed': { reason: 'deleted' } }]);
});

/** Reads mailbox items through folders/items (follows 308s), and exports them 20 at a time. */
async function exportAll(mailboxId: string, items: SandboxItem[]): Promise<{ hops: number }> {
  let hops = 0;
  for (let i = 0; i < items.length; i += 20) {
    const batch = items.slice(i, i + 20);
    const res = await client.request(`/admin/exchange/mailboxes/${mailboxId}/exportItems`, { method: 'POST', body: { itemIds: batch.map((b) => b.id) } });
    hops += res.hops;
    const { value } = res.json<{ value: { itemId: string; changeKey: string; data: string; error?: unknown }[] }>();
    expect(value.map((v) => v.itemId)).toEqual(batch.map((b) => b.id));
    value.forEach((v, k) => {
      expect(v.error).toBeUndefined();
      expect(v.changeKey).toBe(batch[k].changeKey);
      const decoded = decodeExportItem(v.data);
      expect(decoded.complete).toBe(true);
      expect(Buffer.from(v.data, 'base64').length).toBe(batch[k].size);
      expect(comparable(decoded.item)).toEqual(comparable(batch[k].item));
    });
  }
  return { hops };
}

test('exportItems: 20 ids of mail, contacts, events (recurrence + exception), tasks, notes, journal decode to the seed, property for property', async () => {
  const lynne = user('Lynne');
  const all = mailboxItems(lynne.primary!);
  const pick = [...all.filter((i) => !i.messageClass.startsWith('IPM.Note')).slice(0, 14), ...all.filter((i) => i.messageClass.startsWith('IPM.Note')).slice(0, 6)];
  expect(pick).toHaveLength(20);
  expect(new Set(pick.map((i) => i.messageClass.split('.')[1]))).toEqual(new Set(['Contact', 'Appointment', 'Task', 'StickyNote', 'Activity', 'Note']));
  await exportAll(lynne.primary!.id, pick);
  // 21 ids are refused.
  await expect(client.post(`/admin/exchange/mailboxes/${lynne.primary!.id}/exportItems`, { itemIds: all.slice(0, 21).map((i) => i.id) })).rejects.toMatchObject({ statusCode: 400 });
});

test('auto-expanding archive: items of the auxiliary part answer 308 to /admin/Exchange/Mailboxes/…, which the client follows (listing and export)', async () => {
  const megan = user('Megan');
  const archive = megan.archive!;
  const aux = archive.auxiliary!;
  const raw = await fetch(`${sb.graphUrl}/v1.0/admin/exchange/mailboxes/${archive.id}/folders/${aux.folders[0].id}/items`, { headers: { authorization: `Bearer ${(await appTokenSource(sb).getToken([])).token}` }, redirect: 'manual' });
  expect(raw.status).toBe(308);
  expect(raw.headers.get('location')).toContain(`/v1.0/admin/Exchange/Mailboxes/${aux.id}/folders/`);
  const tree = [];
  for await (const f of walkFolders(client, archive.id)) tree.push(f);
  const overflow = tree.filter((f) => String(f.parentMailboxUrl).includes(aux.id));
  expect(overflow.map((f) => f.path.join('/'))).toEqual(['Older mail', 'Older mail/1999']);
  let listed = 0;
  for (const f of tree) {
    const res = await client.request(`/admin/exchange/mailboxes/${archive.id}/folders/${f.id}/items?$top=1000`);
    expect(res.hops).toBe(overflow.includes(f) ? 1 : 0);
    listed += res.json<{ value: unknown[] }>().value.length;
  }
  expect(listed).toBe(mailboxItems(archive).length + mailboxItems(aux).length);
  expect(mailboxItems(aux).length).toBeGreaterThan(0);
  const { hops } = await exportAll(archive.id, mailboxItems(aux));
  expect(hops).toBeGreaterThan(0);
  await exportAll(archive.id, mailboxItems(archive));
});

test('REST fallback: mailFolders by well-known name, messages, $value returns the original MIME bytes', async () => {
  const diego = user('Diego');
  const inbox = await client.get<{ id: string; totalItemCount: number }>(`/users/${diego.mail}/mailFolders/inbox`);
  const seedInbox = diego.primary!.folders.find((f) => f.wellKnownName === 'inbox')!;
  expect(inbox).toMatchObject({ id: seedInbox.id, totalItemCount: seedInbox.items.length });
  const msgs: { id: string; subject: string; internetMessageId: string }[] = [];
  for await (const p of pages<{ id: string; subject: string; internetMessageId: string }>(client, `/users/${diego.id}/mailFolders/${inbox.id}/messages`, { maxPageSize: 4 })) msgs.push(...p.value);
  expect(msgs.map((m) => m.id)).toEqual(seedInbox.items.map((i) => i.id));
  for (const m of msgs.slice(0, 5)) {
    const it = sb.tenant.item(m.id)!;
    expect(m.subject).toBe(it.item.properties.get(TAG.PidTagSubject.id) ?? '');
    const mime = (await client.request(`/users/${diego.id}/messages/${m.id}/$value`)).bytes();
    expect(Buffer.from(mime).equals(Buffer.from(it.mime!))).toBe(true);
  }
});

test('REST fallback: contacts, events (recurrence, beta exceptions, calendarView), To Do tasks in Graph\'s shapes; notes and journal only via exportItems', async () => {
  const alex = user('Alex');
  const contacts = await client.get<{ value: { displayName: string; emailAddresses: { address: string }[] }[] }>(`/users/${alex.id}/contacts`);
  expect(contacts.value).toHaveLength(4);
  expect(contacts.value[0].emailAddresses[0].address).toMatch(/@/);
  const events = await client.get<{ value: { subject: string; type: string; recurrence: { pattern: { type: string } } | null; exceptionOccurrences?: { subject: string }[]; cancelledOccurrences?: string[] }[] }>(`/users/${alex.id}/events`, { version: 'beta' });
  const weekly = events.value.find((e) => e.subject === 'Weekly sync')!;
  expect(weekly).toMatchObject({ type: 'seriesMaster', recurrence: { pattern: { type: 'weekly' } } });
  expect(weekly.cancelledOccurrences).toHaveLength(1);
  expect(weekly.exceptionOccurrences![0].subject).toBe('Weekly sync (quarter review)');
  const view = await client.get<{ value: { subject: string; type: string }[] }>(`/users/${alex.id}/calendarView?startDateTime=2026-01-01T00:00:00Z&endDateTime=2026-04-01T00:00:00Z&$top=100`);
  const syncs = view.value.filter((e) => e.subject.startsWith('Weekly sync'));
  expect(syncs).toHaveLength(9); // 10 occurrences, 1 deleted
  expect(syncs.filter((e) => e.type === 'exception').map((e) => e.subject)).toEqual(['Weekly sync (quarter review)']);
  const lists = await client.get<{ value: { id: string; wellknownListName: string }[] }>(`/users/${alex.id}/todo/lists`);
  expect(lists.value[0].wellknownListName).toBe('defaultList');
  const tasks = await client.get<{ value: { title: string; status: string }[] }>(`/users/${alex.id}/todo/lists/${lists.value[0].id}/tasks`);
  expect(tasks.value.map((t) => t.status).sort()).toEqual(['completed', 'inProgress', 'notStarted']);
  const err = await client.get(`/users/${alex.id}/mailFolders/notes`).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(GraphError);
  expect(walkTree(alex.primary!.folders).find((f) => f.type === 'IPF.StickyNote')!.items.length).toBe(2);
});
