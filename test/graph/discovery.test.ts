/**
 * Discovery against Microsoft's published example payloads (../shared/samples/graph, see its
 * INDEX.md): users with $search and nextLink, mailbox ids from settings/exchange (v1.0 + beta),
 * the folder tree with childFolders, item delta rounds keeping the deltaLink, and the throttling
 * page's 429. Skips visibly when ../shared is absent; fails on CI.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  CLOUDS, getMailboxIds, GraphClient, GraphError, itemDeltaPages, listUserPages, listUsers, pages, StaticTokenSource, walkFolders, idSegment,
  MailboxItem, ODataPage,
} from '../../worker-service/src/graph';
import { describeWithShared, SHARED_DIR } from '../pst/shared-samples';
import { FakeGraph, json } from './fake-graph';

const GRAPH_SAMPLES = path.join(SHARED_DIR, 'samples/graph');

const sample = (rel: string): string => readFileSync(path.join(GRAPH_SAMPLES, rel), 'utf8');
const answer = (rel: string, status = 200): Response => new Response(sample(rel), { status, headers: { 'content-type': 'application/json' } });
const ROOT = 'https://graph.microsoft.com';

function client(fake: FakeGraph, retry = {}): GraphClient {
  return new GraphClient({ cloud: CLOUDS.global, tokenSource: new StaticTokenSource('t'), finalHandler: fake, retry });
}

async function collect<T>(gen: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of gen) out.push(x);
  return out;
}

describe('idSegment', () => {
  it.each([
    ['MBX:e0643f21@a7809c93', 'MBX:e0643f21@a7809c93'],
    ['NJWt2LeVEAAAIBDAAAAA==', 'NJWt2LeVEAAAIBDAAAAA=='],
    ['AAMk/a+b?c#d', 'AAMk%2Fa%2Bb%3Fc%23d'],
    ['megan@contoso.com', 'megan@contoso.com'],
  ])('%s → %s', (id, seg) => expect(idSegment(id)).toBe(seg));
});

describeWithShared('discovery on Microsoft\'s example payloads', () => {
  it('users: $search with ConsistencyLevel eventual, nextLink followed as given, count kept', async () => {
    const fake = new FakeGraph().enqueue(answer('v1.0/user-get.example5-filter-count-nextlink.response.json'), answer('v1.0/user-list.example8-search-count.response.json'));
    const got = await collect(listUserPages(client(fake), { search: 'wa' }));
    expect(got.map((p) => p.count)).toEqual([1350, 7]);
    expect(got.flatMap((p) => p.value.map((u) => u.displayName))).toEqual(['Phantom Space', 'Oscar Ward']);
    const first = new URL(fake.seen[0].url);
    expect(first.pathname).toBe('/v1.0/users');
    expect(first.searchParams.get('$search')).toBe('"displayName:wa"');
    expect(first.searchParams.get('$count')).toBe('true');
    expect(fake.seen[1].url).toBe(JSON.parse(sample('v1.0/user-get.example5-filter-count-nextlink.response.json'))['@odata.nextLink']);
    expect(fake.seen.map((r) => r.headers.get('consistencylevel'))).toEqual(['eventual', 'eventual']);
  });

  it('users: a plain list sends no ConsistencyLevel', async () => {
    const fake = new FakeGraph().enqueue(answer('v1.0/user-list.example1.response.json'));
    const users = await collect(listUsers(client(fake)));
    expect(users).toHaveLength(1);
    expect(users[0].userPrincipalName).toContain('#EXT#');
    expect(fake.seen[0].headers.get('consistencylevel')).toBeNull();
  });

  it('mailbox ids: primary from v1.0, in-place archive from beta', async () => {
    const fake = new FakeGraph().enqueue(answer('v1.0/usersettings-list-exchange.response.json'), answer('beta/usersettings-list-exchange.response.json'));
    await expect(getMailboxIds(client(fake), 'megan@contoso.com')).resolves.toEqual({ primaryMailboxId: 'MBX:e0643f21@a7809c93', inPlaceArchiveMailboxId: 'MBX:4eba5149@a7809c93' });
    expect(fake.seen.map((r) => r.url)).toEqual([`${ROOT}/v1.0/users/megan@contoso.com/settings/exchange`, `${ROOT}/beta/users/megan@contoso.com/settings/exchange`]);
  });

  it('mailbox ids: no archive when beta has none; no beta call when not asked', async () => {
    const noArchive = new FakeGraph().enqueue(answer('v1.0/usersettings-list-exchange.response.json'), answer('v1.0/usersettings-list-exchange.response.json'));
    await expect(getMailboxIds(client(noArchive), 'megan@contoso.com')).resolves.toEqual({ primaryMailboxId: 'MBX:e0643f21@a7809c93' });
    const primaryOnly = new FakeGraph().enqueue(answer('v1.0/usersettings-list-exchange.response.json'));
    await getMailboxIds(client(primaryOnly), 'megan@contoso.com', { includeArchive: false });
    expect(primaryOnly.seen).toHaveLength(1);
  });

  it('mailbox ids: an inactive mailbox is GraphError MailboxNotEnabledForRESTAPI', async () => {
    const fake = new FakeGraph().enqueue(json(404, { error: { code: 'MailboxNotEnabledForRESTAPI', message: 'The mailbox is either inactive, soft-deleted, or is hosted on-premise.' } }));
    const err = await getMailboxIds(client(fake), 'gone@contoso.com').catch((e: unknown) => e) as GraphError;
    expect(err).toMatchObject({ code: 'MailboxNotEnabledForRESTAPI', statusCode: 404, path: '/v1.0/users/gone@contoso.com/settings/exchange' });
  });

  it('folders: top level (two pages), then childFolders where childFolderCount > 0, parents first', async () => {
    const mbx = 'MBX:e0643f21@a7809c93';
    const listing = JSON.parse(sample('v1.0/mailbox-list-folders.example1.response.json'));
    const fake = new FakeGraph((req) => {
      if (req.url === listing['@odata.nextLink']) return json(200, { value: [] });
      if (req.url.endsWith('/childFolders')) return answer('v1.0/mailboxfolder-list-childfolders.response.json');
      return answer('v1.0/mailbox-list-folders.example1.response.json');
    });
    // The walk descends into Project Calendar before it asks for the second top-level page.
    const order: string[] = [];
    const c = client(fake);
    const folders = await collect(walkFolders(c, mbx));
    for (const r of fake.seen) order.push(new URL(r.url).pathname + new URL(r.url).search);
    expect(folders.map((f) => [f.path.join('/'), f.depth, f.type, f.wellKnownName ?? null])).toEqual([
      ['Archive', 0, 'IPF.Note', 'archive'],
      ['Project Calendar', 0, 'IPF.Appointment', null],
      ['Project Calendar/Folder_1', 1, 'IPF.Note', null],
      ['Project Calendar/Folder_2', 1, 'IPF.Note', null],
    ]);
    expect(order).toEqual([
      `/v1.0/admin/exchange/mailboxes/${mbx}/folders`,
      `/v1.0/admin/exchange/mailboxes/${mbx}/folders/NJWt2LeVEAAAIBDQAAAA==/childFolders`,
      `/v1.0/admin/exchange/mailboxes/${mbx}/folders?%24skip=10`,
    ]);
  });

  it('items delta: nextLink, then the deltaLink kept; Prefer odata.maxpagesize sent', async () => {
    const first = JSON.parse(sample('v1.0/mailboxitem-delta.response.json'));
    const deltaLink = `${ROOT}/v1.0/admin/exchange/mailboxes/MBX:e0643f21@a7809c93/folders/AAMkAGUwNjQ4ZyTAAA=/items/delta?$deltatoken=abc`;
    const fake = new FakeGraph().enqueue(answer('v1.0/mailboxitem-delta.response.json'), json(200, { value: [], '@odata.deltaLink': deltaLink }));
    const got: ODataPage<MailboxItem>[] = await collect(itemDeltaPages(client(fake), 'MBX:e0643f21@a7809c93', 'AAMkAGUwNjQ4ZyTAAA=', { maxPageSize: 2 }));
    expect(got[0].value).toEqual([expect.objectContaining({ type: 'IPM.Note', size: 75329, changeKey: 'CQAAABYAAACQ2fKdhq8oSKEDSVrdi3lRAAFR+6ZT' })]);
    expect(got.at(-1)!.deltaLink).toBe(deltaLink);
    expect(fake.seen[0].url).toBe(`${ROOT}/v1.0/admin/exchange/mailboxes/MBX:e0643f21@a7809c93/folders/AAMkAGUwNjQ4ZyTAAA=/items/delta`);
    expect(fake.seen[1].url).toBe(first['@odata.nextLink']);
    expect(fake.seen.map((r) => r.headers.get('prefer'))).toEqual(['odata.maxpagesize=2', 'odata.maxpagesize=2']);
    // next pass starts from the saved deltaLink
    const again = new FakeGraph().enqueue(json(200, { value: [], '@odata.deltaLink': deltaLink + '2' }));
    await collect(itemDeltaPages(client(again), 'x', 'y', { deltaLink }));
    expect(again.seen[0].url).toBe(deltaLink);
  });

  it('a published delta round: three pages to a deltaLink, then the next round with @removed', async () => {
    const dir = 'concepts/delta-query-messages.';
    const fake = new FakeGraph().enqueue(answer(`${dir}round1-page1.response.json`), answer(`${dir}round1-page2.response.json`), answer(`${dir}round1-page3-final.response.json`));
    const round1 = await collect(pages<MailboxItem>(client(fake), '/me/mailfolders/AQMkADNkNAAAgEMAAAA/messages/delta?$select=subject,sender,isRead', { maxPageSize: 2 }));
    expect(round1.map((p) => [p.value.length, !!p.nextLink, !!p.deltaLink])).toEqual([[2, true, false], [2, true, false], [1, false, true]]);
    expect(fake.seen.slice(1).map((r) => r.url)).toEqual(round1.slice(0, 2).map((p) => p.nextLink));
    const fake2 = new FakeGraph().enqueue(answer(`${dir}round2-removed.response.json`));
    const round2 = await collect(pages<MailboxItem>(client(fake2), round1[2].deltaLink!));
    expect(fake2.seen[0].url).toBe(round1[2].deltaLink);
    expect(round2[0].value.filter((i) => i['@removed']).map((i) => i['@removed']!.reason)).toEqual(['deleted']);
    expect(round2[0].deltaLink).toBeDefined();
  });

  it('the throttling page\'s 429 (Retry-After 2.128) becomes GraphError TooManyRequests with retryAfterMs 2128', async () => {
    const raw = sample('concepts/throttling.429.response.http');
    const [head, body] = raw.split(/\r?\n\r?\n/, 2);
    const lines = head.split(/\r?\n/);
    const status = Number(/^HTTP\/\S+ (\d{3})/.exec(lines[0])![1]);
    const headers = Object.fromEntries(lines.slice(1).map((l) => [l.slice(0, l.indexOf(':')).trim(), l.slice(l.indexOf(':') + 1).trim()]));
    const fake = new FakeGraph().enqueue(new Response(body, { status, headers }));
    const err = await client(fake, { maxRetries: 0 }).get('/users/a/messages').catch((e: unknown) => e) as GraphError;
    expect(err).toBeInstanceOf(GraphError);
    expect(err).toMatchObject({ code: 'TooManyRequests', statusCode: 429, retryAfterMs: 2128 });
    expect(err.requestId).toBe(JSON.parse(body).error.innerError['request-id']);
  });

  it('a page without value is InvalidResponse', async () => {
    const fake = new FakeGraph().enqueue(answer('v1.0/usersettings-list-exchange.response.json'));
    const err = await collect(pages(client(fake), '/users')).catch((e: unknown) => e) as GraphError;
    expect(err.code).toBe('InvalidResponse');
  });
});
