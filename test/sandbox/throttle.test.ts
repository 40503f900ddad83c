/**
 * Graph's rules in the sandbox: a 5th concurrent request on one mailbox gets 429 MailboxConcurrency
 * with Retry-After (raw fetch, bypassing our gate); through Outport's GraphClient the record of
 * requests in flight per mailbox stays ≤ 4; with injected 429/503/504/resets a full read completes;
 * the request budget; `$batch` with inner 429s retried by the client; `/_sandbox/stats`.
 */
import { itemDeltaPages, walkFolders } from '../../worker-service/src/graph';
import { decodeExportItem } from '../../worker-service/src/convert/fts';
import { buildTenant, mailboxItems, startSandbox, type SandboxHandle, type SandboxTenant } from '../../worker-service/src/sandbox';
import { appToken, appTokenSource, sandboxClient } from './helpers';

let tenant: SandboxTenant;
const running: SandboxHandle[] = [];
async function start(options: Parameters<typeof startSandbox>[0]): Promise<SandboxHandle> {
  const sb = await startSandbox({ tenant, ...options });
  running.push(sb);
  return sb;
}

beforeAll(async () => { tenant = await buildTenant({ mailLimit: 250 }); });
afterAll(async () => { await Promise.all(running.map((s) => s.stop())); });

const megan = () => tenant.users.find((u) => u.givenName === 'Megan')!;

test('raw fetch: the 5th concurrent request on a mailbox gets 429 MailboxConcurrency with Retry-After; other mailboxes are not affected', async () => {
  const sb = await start({ latencyMs: 300 });
  const token = await appToken(sb);
  const m = megan();
  const url = (mbx: string) => `${sb.graphUrl}/v1.0/admin/exchange/mailboxes/${mbx}/folders`;
  const res = await Promise.all([...Array(5)].map(() => fetch(url(m.primary!.id), { headers: { authorization: `Bearer ${token}` } })).concat(
    [fetch(url(m.archive!.id), { headers: { authorization: `Bearer ${token}` } })]));
  const statuses = res.map((r) => r.status);
  expect(statuses.slice(0, 5).sort()).toEqual([200, 200, 200, 200, 429]);
  expect(statuses[5]).toBe(200);
  const refused = res.find((r) => r.status === 429)!;
  expect(refused.headers.get('retry-after')).toBe('1');
  const body = await refused.json() as { error: { code: string; innerError: Record<string, string> } };
  expect(body.error.code).toBe('MailboxConcurrency');
  expect(body.error.innerError['request-id']).toBeTruthy();
  const stats = await (await fetch(`${sb.url}/_sandbox/stats`)).json() as { mailboxes: Record<string, { maxInFlight: number; rejectedConcurrency: number }> };
  expect(stats.mailboxes[m.primary!.id]).toMatchObject({ maxInFlight: 5, rejectedConcurrency: 1 });
  expect(stats.mailboxes[m.archive!.id]).toMatchObject({ maxInFlight: 1, rejectedConcurrency: 0 });
});

test('the request budget: past requestsPerWindow the mailbox answers 429 ApplicationThrottled with the wait in Retry-After', async () => {
  const sb = await start({ throttle: { requestsPerWindow: 3, windowMs: 60_000 } });
  const token = await appToken(sb);
  const url = `${sb.graphUrl}/v1.0/admin/exchange/mailboxes/${megan().primary!.id}/folders`;
  const statuses = [];
  for (let i = 0; i < 4; i++) statuses.push((await fetch(url, { headers: { authorization: `Bearer ${token}` } })).status);
  expect(statuses).toEqual([200, 200, 200, 429]);
  const r = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  expect(((await r.json()) as { error: { code: string } }).error.code).toBe('ApplicationThrottled');
  expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(50);
});

test('through our GraphClient, 60 concurrent calls on 3 mailboxes: never more than 4 in flight per mailbox, no 429, the gate kept full', async () => {
  const sb = await start({ latencyMs: 100 });
  const client = sandboxClient(sb, appTokenSource(sb));
  const m = megan();
  const boxes = [m.primary!, m.archive!, tenant.users.find((u) => u.givenName === 'Adele')!.primary!];
  await Promise.all([...Array(60)].map((_, i) => {
    const mb = boxes[i % 3];
    const items = mailboxItems(mb);
    return i % 2 === 0
      ? client.get(`/admin/exchange/mailboxes/${mb.id}/folders`)
      : client.post(`/admin/exchange/mailboxes/${mb.id}/exportItems`, { itemIds: items.slice(0, 20).map((x) => x.id) });
  }));
  const stats = sb.stats();
  for (const mb of boxes) {
    expect(stats.mailboxes[mb.id].maxInFlight).toBe(4);
    expect(stats.mailboxes[mb.id].rejectedConcurrency).toBe(0);
    expect(stats.mailboxes[mb.id].requests).toBe(20);
  }
});

test('with 20 % 429s, 5 % 503/504 and 2 % connection resets, a full read of the auto-expanding archive completes; in flight ≤ 4 per mailbox', async () => {
  const sb = await start({ latencyMs: 5, faults: { rate429: 0.2, rate503: 0.025, rate504: 0.025, rateReset: 0.02, retryAfterSeconds: 0.01, seed: 7 }, defaultPageSize: 5 });
  const client = sandboxClient(sb, appTokenSource(sb), { retry: { baseDelayMs: 5, maxDelayMs: 40, maxRetries: 12 } });
  const archive = megan().archive!;
  const ids: string[] = [];
  const folders = [];
  for await (const f of walkFolders(client, archive.id)) folders.push(f);
  await Promise.all(folders.map(async (f) => {
    for await (const p of itemDeltaPages(client, archive.id, f.id, { maxPageSize: 7 })) ids.push(...p.value.map((i) => i.id));
  }));
  const truth = [...mailboxItems(archive), ...mailboxItems(archive.auxiliary!)];
  expect(new Set(ids)).toEqual(new Set(truth.map((i) => i.id)));
  const auxIds = new Set(mailboxItems(archive.auxiliary!).map((i) => i.id));
  let bytes = 0;
  const batches: string[][] = [];
  for (const group of [ids.filter((i) => !auxIds.has(i)), ids.filter((i) => auxIds.has(i))]) for (let i = 0; i < group.length; i += 20) batches.push(group.slice(i, i + 20));
  await Promise.all(batches.map(async (batch) => {
    const { value } = await client.post<{ value: { itemId: string; data: string }[] }>(`/admin/exchange/mailboxes/${archive.id}/exportItems`, { itemIds: batch });
    for (const v of value) {
      expect(decodeExportItem(v.data).complete).toBe(true);
      bytes += Buffer.from(v.data, 'base64').length;
    }
  }));
  expect(bytes).toBe(truth.reduce((s, i) => s + i.size, 0));
  const stats = sb.stats();
  expect(stats.faults['429']).toBeGreaterThan(0);
  expect((stats.faults['503'] ?? 0) + (stats.faults['504'] ?? 0)).toBeGreaterThan(0);
  for (const mb of [archive, archive.auxiliary!]) expect(stats.mailboxes[mb.id].maxInFlight).toBeLessThanOrEqual(4);
});

test('malformed item knob: the data of an item is cut short and our decoder reports the truncation', async () => {
  const sb = await start({ faults: { rateMalformed: 1 } });
  const client = sandboxClient(sb, appTokenSource(sb));
  const mb = megan().primary!;
  const { value } = await client.post<{ value: { data: string }[] }>(`/admin/exchange/mailboxes/${mb.id}/exportItems`, { itemIds: mailboxItems(mb).slice(0, 3).map((i) => i.id) });
  for (const v of value) expect(decodeExportItem(v.data).complete).toBe(false);
  expect(sb.stats().faults.malformed).toBe(3);
});

test('$batch: ≤ 20 requests; inner 429 MailboxConcurrency answers are retried by our client until all are 200', async () => {
  const sb = await start({ latencyMs: 150, throttle: { retryAfterSeconds: 0.02 } });
  const client = sandboxClient(sb, appTokenSource(sb));
  const mb = megan().primary!;
  const requests = mb.folders.slice(0, 10).map((f, i) => ({ id: String(i + 1), method: 'GET', url: `/admin/exchange/mailboxes/${mb.id}/folders/${f.id}/items` }));
  const raw = await fetch(`${sb.graphUrl}/v1.0/$batch`, { method: 'POST', headers: { authorization: `Bearer ${await appToken(sb)}`, 'content-type': 'application/json' }, body: JSON.stringify({ requests }) });
  const rawBody = await raw.json() as { responses: { status: number; body: { error?: { code: string } } }[] };
  // All 10 run at once on one mailbox: at least 4 pass, the rest (as many as overlap) are refused.
  const refused = rawBody.responses.filter((r) => r.status === 429);
  expect(refused.length).toBeGreaterThanOrEqual(1);
  expect(refused.length).toBeLessThanOrEqual(6);
  expect(rawBody.responses.filter((r) => r.status === 200).length).toBe(10 - refused.length);
  for (const r of refused) expect(r.body.error!.code).toBe('MailboxConcurrency');
  const res = await client.post<{ responses: { id: string; status: number; body: { value: unknown[] } }[] }>('/$batch', { requests });
  expect(res.responses.map((r) => r.status)).toEqual(requests.map(() => 200));
  expect(res.responses.map((r) => r.body.value.length)).toEqual(mb.folders.slice(0, 10).map((f) => Math.min(10, f.items.length)));
  const tooMany = [...Array(21)].map((_, i) => ({ id: String(i), method: 'GET', url: '/users' }));
  await expect(client.post('/$batch', { requests: tooMany })).rejects.toMatchObject({ statusCode: 400 });
});
