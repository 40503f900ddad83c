/**
 * `outport start [--once] [--port 7071] [--data-dir .outport/start] [--mail-limit N] [--user adele]
 * [--split-size SIZE]` — what `npm start` runs (issue 4 part 6): the embedded default on one machine.
 *
 * 1. The sandbox tenant (sandbox/, HTTPS token service so MSAL's On-Behalf-Of works as with Entra),
 *    seeded from the SpamAssassin corpus (`--mail-limit` messages; default 1,000).
 * 2. Azurite's blob service (cli/azurite.ts), in memory.
 * 3. The worker (`outport serve`'s startServer): the HTTP API, a runner, SQLite in the data directory
 *    (emptied at each start: the sandbox and Azurite are new each time, so earlier projects would
 *    point at servers that are gone), and the add-in build at `/` when addin/dist exists.
 * 4. A demo export through the HTTP API, as a sandbox user would do it from the add-in: sign in
 *    (the user's token for the worker API), create a project on the Azurite container `outport`,
 *    add the user's mailbox and archive, start a full export, follow progress, then list the parts
 *    and print each blob's name, size and SHA-256, download it through its read link and run the
 *    checker (pst/check.ts) on it.
 * 5. Keeps serving until Ctrl-C, or with `--once` stops and exits: 0 when every item completed and
 *    every part is clean, 1 otherwise.
 *
 * The old corpus → PST demo stays available as `outport demo`.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { checkPst } from '../pst/check';
import { startSandbox, writeTenantConfig, type SandboxHandle } from '../sandbox';
import { checkTenantConfig } from '../graph/tenant-client';
import { SQLITE_FILE } from '../jobs/sqlite/backend';
import { parseArgs, parseSize, UsageError } from './args';
import { startAzuriteService, type AzuriteService } from './azurite';
import { DEFAULT_PORT, startServer, untilSignal, type ServerHandle } from './serve';

export const START_USAGE = 'outport start [--once] [--port 7071] [--data-dir .outport/start] [--mail-limit 1000] [--user adele] [--split-size 10GB]';

/** Corpus messages the demo tenant holds by default (of 6,046): enough for several folders per user, quick to seed. */
export const DEFAULT_MAIL_LIMIT = 1000;

/** Where `outport start` writes what it says (tests pass collectors). */
export interface StartIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

/** Options of {@link runStart}. */
export interface StartOptions {
  once: boolean;
  port: number;
  dataDir: string;
  mailLimit: number;
  /** Sandbox user by given name or local part (case-insensitive). */
  user: string;
  splitSizeBytes?: number;
  addinDir: string;
}

/** One part as the demo reports it. */
export interface DemoPart {
  item: string;
  name: string;
  sizeBytes: number;
  sha256: string;
  items: number;
  /** The downloaded bytes' SHA-256 equals `sha256`. */
  downloadMatches: boolean;
  /** Checker findings (errors and warnings); 0 = clean. */
  findings: number;
}

const TERMINAL = new Set(['Completed', 'CompletedWithErrors', 'Failed', 'Cancelled', 'WaitingForAuth']);
const fmt = (n: number): string => n.toLocaleString('en-US');

async function api<T>(base: string, token: string, method: string, url: string, body?: unknown): Promise<T> {
  const res = await fetch(`${base}${url}`, {
    method, headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url}: HTTP ${res.status} ${text.slice(0, 500)}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/**
 * The demo export through the HTTP API (step 4 of the module comment).
 * @returns the parts with their verdicts and whether every item completed
 */
export async function demoExport(server: Pick<ServerHandle, 'url'>, sb: SandboxHandle, az: AzuriteService, options: { user: string; splitSizeBytes?: number; downloadDir: string }, io: StartIo): Promise<{ parts: DemoPart[]; completed: boolean }> {
  const want = options.user.toLowerCase();
  const user = sb.users.find((u) => !u.inactive && (u.givenName.toLowerCase() === want || u.mail.toLowerCase().split('@')[0].split('.')[0] === want || u.mail.toLowerCase() === want));
  if (!user) throw new UsageError(`--user ${options.user}: no active sandbox user of that name (try ${sb.users.filter((u) => !u.inactive).map((u) => u.givenName.toLowerCase()).join(', ')})`);
  const token = await sb.userAssertion(user.mail, 4 * 3600);
  const base = server.url;
  io.out(`demo: ${user.displayName} <${user.mail}> signs in and exports ${user.archive ? 'her mailbox and archive' : 'the mailbox'} through the API (delegated: On-Behalf-Of)`);
  const project = await api<{ id: string }>(base, token, 'POST', '/api/v1/projects', {
    name: `Demo: ${user.displayName}`,
    destination: { accountName: az.accountName, accountKey: az.accountKey, storageCloud: 'custom', blobEndpoint: az.blobEndpoint, container: 'outport' },
    ...(options.splitSizeBytes ? { options: { splitSizeBytes: options.splitSizeBytes } } : {}),
  });
  const { value: items } = await api<{ value: { id: string; mailbox: string; pstName: string }[] }>(base, token, 'POST', `/api/v1/projects/${project.id}/items`, { items: [{ source: user.mail, mailbox: user.archive ? 'both' : 'primary' }] });
  await api(base, token, 'POST', `/api/v1/projects/${project.id}/actions/export`, { pass: 'full' });
  const started = Date.now();
  let lastLine = '';
  let states: { id: string; state: string; error?: { code: string; message: string } }[] = [];
  for (;;) {
    states = (await api<{ value: typeof states }>(base, token, 'GET', `/api/v1/projects/${project.id}/items`)).value;
    const progress = (await api<{ value: { itemId: string; itemsDone: number; itemsTotal?: number; partsDone: number }[] }>(base, token, 'GET', `/api/v1/projects/${project.id}/progress`)).value;
    const line = items.map((it) => {
      const p = progress.find((x) => x.itemId === it.id);
      const s = states.find((x) => x.id === it.id);
      return `${it.pstName} ${s?.state ?? '?'} ${p ? `${fmt(p.itemsDone)}${p.itemsTotal !== undefined ? `/${fmt(p.itemsTotal)}` : ''} items` : ''}`.trim();
    }).join(' | ');
    if (line !== lastLine) { io.err(`  ${line}`); lastLine = line; }
    if (states.every((s) => TERMINAL.has(s.state))) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  io.out(`demo: export finished in ${((Date.now() - started) / 1000).toFixed(1)} s: ${states.map((s) => `${items.find((i) => i.id === s.id)?.pstName} ${s.state}${s.error ? ` (${s.error.code}: ${s.error.message})` : ''}`).join(', ')}`);

  mkdirSync(options.downloadDir, { recursive: true });
  const parts: DemoPart[] = [];
  io.out(`demo: blobs in ${az.blobEndpoint}/outport`);
  io.out(`  ${'blob'.padEnd(34)} ${'bytes'.padStart(12)}  ${'items'.padStart(5)}  ${'sha256'.padEnd(64)}  check`);
  for (const it of items) {
    const { value } = await api<{ value: { name: string; sizeBytes: number; sha256: string; items: number; url?: string }[] }>(base, token, 'GET', `/api/v1/projects/${project.id}/items/${it.id}/parts`);
    for (const p of value) {
      const file = path.join(options.downloadDir, p.name);
      let downloadMatches = false;
      let findings = -1;
      if (p.url) {
        const bytes = Buffer.from(await (await fetch(p.url)).arrayBuffer());
        downloadMatches = createHash('sha256').update(bytes).digest('hex') === p.sha256 && bytes.length === p.sizeBytes;
        writeFileSync(file, bytes);
        const report = await checkPst(file);
        findings = report.findings.length;
        rmSync(file, { force: true });
      }
      parts.push({ item: it.pstName, name: p.name, sizeBytes: p.sizeBytes, sha256: p.sha256, items: p.items, downloadMatches, findings });
      const verdict = findings === 0 && downloadMatches ? 'clean' : findings < 0 ? 'not downloaded' : `${findings} finding(s)${downloadMatches ? '' : ', download differs'}`;
      io.out(`  ${p.name.padEnd(34)} ${fmt(p.sizeBytes).padStart(12)}  ${String(p.items).padStart(5)}  ${p.sha256}  ${verdict}`);
    }
  }
  const completed = states.every((s) => s.state === 'Completed');
  return { parts, completed };
}

/** Runs `outport start` with parsed options. @returns the exit code (see the module comment) */
export async function runStart(options: StartOptions, io: StartIo): Promise<number> {
  const t0 = Date.now();
  mkdirSync(options.dataDir, { recursive: true });
  io.err(`outport start: seeding the sandbox tenant (${fmt(options.mailLimit)} corpus messages) and starting Azurite…`);
  let sb: SandboxHandle | undefined;
  let az: AzuriteService | undefined;
  let server: ServerHandle | undefined;
  try {
    [sb, az] = await Promise.all([startSandbox({ https: true, mailLimit: options.mailLimit }), startAzuriteService()]);
    // The sandbox and Azurite are new on every start: projects of an earlier run point at servers that
    // are gone, so the jobs database starts empty too (the secret key file stays).
    for (const f of [SQLITE_FILE, `${SQLITE_FILE}-wal`, `${SQLITE_FILE}-shm`]) rmSync(path.join(options.dataDir, f), { force: true });
    const tenantFile = path.join(options.dataDir, 'tenant.json');
    const tenant = checkTenantConfig(await writeTenantConfig(sb, tenantFile));
    server = await startServer({
      tenant, dataDir: options.dataDir, port: options.port, host: '127.0.0.1', addinDir: options.addinDir, logger: false,
      onNotice: (m) => io.err(`outport start: ${m}`),
    });
    io.out(`outport start: sandbox Graph ${sb.graphUrl}, token service ${sb.authorityUrl}, tenant config ${tenantFile}`);
    io.out(`outport start: Azurite blob service ${az.blobEndpoint} (account ${az.accountName}, Azurite's public development key)`);
    io.out(`outport start: worker API ${server.url}/api/v1 (OpenAPI ${server.url}/api/v1/openapi.json)${server.app.hasRoute({ method: 'GET', url: '/*' }) ? `, add-in ${server.url}/taskpane.html` : ''}`);
    const { parts, completed } = await demoExport(server, sb, az, { user: options.user, splitSizeBytes: options.splitSizeBytes, downloadDir: path.join(options.dataDir, 'downloads') }, io);
    const clean = parts.length > 0 && parts.every((p) => p.findings === 0 && p.downloadMatches);
    io.out(`demo: ${parts.length} part(s), ${fmt(parts.reduce((n, p) => n + p.items, 0))} items, ${fmt(parts.reduce((n, p) => n + p.sizeBytes, 0))} bytes; checker: ${parts.length === 0 ? 'no part to check' : clean ? 'every part clean' : 'FINDINGS (see above)'}; ${completed ? 'all items Completed' : 'NOT all items completed'} (${((Date.now() - t0) / 1000).toFixed(1)} s in all)`);
    const code = clean && completed ? 0 : 1;
    if (options.once) return code;
    io.out('outport start: serving; Ctrl-C stops');
    await untilSignal();
    io.err('outport start: stopping');
    return code;
  } finally {
    await server?.stop().catch(() => undefined);
    await Promise.all([sb?.stop().catch(() => undefined), az?.stop().catch(() => undefined)]);
  }
}

/** `outport start`. */
export async function run(argv: string[]): Promise<number> {
  const { flags, positional } = parseArgs(argv, ['port', 'data-dir', 'mail-limit', 'user', 'split-size', 'addin-dir'], START_USAGE, ['once']);
  if (positional.length) throw new UsageError(`unexpected argument "${positional[0]}"\n${START_USAGE}`);
  const port = flags.has('port') ? Number(flags.get('port')) : DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0..65535, not ${flags.get('port')}`);
  const mailLimit = flags.has('mail-limit') ? Number(flags.get('mail-limit')) : DEFAULT_MAIL_LIMIT;
  if (!Number.isInteger(mailLimit) || mailLimit < 1) throw new UsageError(`--mail-limit must be a positive integer, not ${flags.get('mail-limit')}`);
  return runStart({
    once: flags.get('once') === 'true', port, mailLimit,
    dataDir: path.resolve(flags.get('data-dir') ?? path.join('.outport', 'start')),
    user: flags.get('user') ?? 'adele',
    ...(flags.has('split-size') ? { splitSizeBytes: parseSize(flags.get('split-size')!) } : {}),
    addinDir: path.resolve(flags.get('addin-dir') ?? 'addin/dist'),
  }, { out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`) });
}
