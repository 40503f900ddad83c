/** `runSandboxCommand`: flag parsing, the tenant config it writes, and a clean stop. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getMailboxIds } from '../../worker-service/src/graph';
import { parseSandboxArgs, runSandboxCommand, type TenantConfig } from '../../worker-service/src/sandbox';
import { sandboxClient } from './helpers';

test('flags map to options; bad flags are usage errors', () => {
  const { options, writeConfig } = parseSandboxArgs(['--port', '0', '--write-config', 'x.json', '--latency-ms', '50', '--fault-429', '0.2', '--fault-503', '0.05', '--fault-reset', '0.01', '--fault-malformed', '0.1', '--page-size', '25', '--max-concurrent', '4', '--messages', 'all', '--retry-after', '0.5']);
  expect(writeConfig).toBe('x.json');
  expect(options).toMatchObject({ port: 0, latencyMs: 50, defaultPageSize: 25, mailLimit: Infinity, faults: { rate429: 0.2, rate503: 0.05, rateReset: 0.01, rateMalformed: 0.1, retryAfterSeconds: 0.5 }, throttle: { maxConcurrent: 4, retryAfterSeconds: 0.5 } });
  expect(() => parseSandboxArgs(['--fault-429', '2'])).toThrow(/\[0, 1\]/);
  expect(() => parseSandboxArgs(['--fault-429', '0.6', '--fault-503', '0.6'])).toThrow(/more than 1/);
  expect(() => parseSandboxArgs(['--bogus'])).toThrow(/unknown option/);
  expect(() => parseSandboxArgs(['--port'])).toThrow(/needs a value/);
});

test('starts, writes the tenant config (which works with our Graph client), prints the URL, stops on the signal; exit 2 on usage errors', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'outport-sandbox-'));
  try {
    const file = join(dir, 'tenant.json');
    const lines: string[] = [];
    let stop!: () => void;
    const until = new Promise<void>((r) => { stop = r; });
    const code = runSandboxCommand(['--port', '0', '--messages', '30', '--write-config', file], { out: (l) => lines.push(l), err: (l) => lines.push(l), until });
    while (!lines.some((l) => /^http:\/\/127\.0\.0\.1:\d+$/.test(l))) await new Promise((r) => setTimeout(r, 50));
    const config = JSON.parse(await readFile(file, 'utf8')) as TenantConfig;
    expect(config).toMatchObject({ cloud: 'custom', graphUrl: lines.find((l) => l.startsWith('http://')) });
    expect(config.users.length).toBeGreaterThanOrEqual(5);
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: config.clientId, client_secret: config.clientSecret, scope: `${config.graphUrl}/.default` });
    const tok = (await (await fetch(`${config.authorityUrl}/${config.tenantId}/oauth2/v2.0/token`, { method: 'POST', body: form })).json()) as { access_token: string };
    const client = sandboxClient({ graphUrl: config.graphUrl, authorityUrl: config.authorityUrl } as never, tok.access_token);
    expect((await getMailboxIds(client, config.users[0].mail)).primaryMailboxId).toMatch(/^MBX:/);
    stop();
    expect(await code).toBe(0);
    expect(await runSandboxCommand(['--nope'], { out: () => undefined, err: () => undefined })).toBe(2);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
