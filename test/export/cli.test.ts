/**
 * `outport export` spawned as a user runs it (bin/outport.js) against an in-process sandbox tenant:
 * into a directory (a primary at a 1 MB split: clean parts, summary SHA-256s equal
 * the files', manifests = truth), the same command again resumes (a part whose manifest is missing
 * is redone, the others untouched), in process a progress line and a cancel then resume, --types, refusals and usage errors with exit 2 and no secret in
 * any output, and the auto-expanding archive into Azurite with --storage-account/--blob-endpoint and the key
 * from the environment.
 */
import { execFile } from 'node:child_process';
import { BlobServiceClient, ContainerSASPermissions, StorageSharedKeyCredential } from '@azure/storage-blob';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseManifest } from '../../worker-service/src/export/manifest';
import { Writable } from 'node:stream';
import { parseExportArgs, run as runExportCommand } from '../../worker-service/src/cli/export';
import { checkPst } from '../../worker-service/src/pst/check';
import { startSandbox, writeTenantConfig, type SandboxHandle } from '../../worker-service/src/sandbox';
import { createDestination, validateDestination } from '../../worker-service/src/storage';
import { describeWhenAvailable } from '../pst/shared-samples';
import { AZURITE_ACCOUNT_KEY, azuriteAvailable, startAzurite } from '../harness/azurite';
import { manifestIds, truthIds } from './helpers';

jest.setTimeout(120_000);

let sb: SandboxHandle;
let dir: string;
let config: string;

beforeAll(async () => {
  sb = await startSandbox({ mailLimit: 800, defaultPageSize: 50 });
  dir = await mkdtemp(join(tmpdir(), 'outport-export-cli-'));
  config = join(dir, 'tenant.json');
  await writeTenantConfig(sb, config);
});
afterAll(async () => {
  await sb?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function outport(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(__dirname, '../../bin/outport.js'), ...args], { maxBuffer: 64 << 20, env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}
const user = (given: string) => sb.users.find((u) => u.givenName === given)!;
const pstFiles = async (d: string) => (await readdir(d)).filter((n) => n.endsWith('.pst')).sort((a, b) => a.length - b.length || a.localeCompare(b));

test('--to DIR: a primary at a 1 MB split; clean parts; summary SHA-256 = the files; rerun resumes', async () => {
  const megan = user('Megan');
  const out = join(dir, 'megan');
  const args = ['export', '--tenant-config', config, '--mailbox', megan.mail, '--to', out, '--split-size', '1MB'];
  const r = await outport(args);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const files = await pstFiles(out);
  expect(files[0]).toBe('megan.bowen.pst');
  expect(files.length).toBeGreaterThanOrEqual(2);
  const truth = truthIds(megan.primary!);
  expect(r.stdout).toMatch(new RegExp(`^Completed: ${truth.length} items exported, 0 errors$`, 'm'));
  for (const f of files) {
    const bytes = await readFile(join(out, f));
    expect(r.stdout).toContain(`  ${f}  ${bytes.length.toLocaleString('en-US')} bytes  sha256 ${createHash('sha256').update(bytes).digest('hex')}`);
    expect((await checkPst(join(out, f))).findings).toEqual([]);
  }
  const destination = createDestination({ kind: 'directory', path: out });
  expect(await manifestIds(destination, files)).toEqual(truth);
  expect(r.stdout + r.stderr).not.toContain(sb.clientSecret);

  // the same command again: everything is in finished parts, nothing new
  const again = await outport(args);
  expect(again.code).toBe(0);
  expect(again.stdout).toContain(`Completed: 0 items exported, ${truth.length} already in earlier parts, 0 errors`);
  expect(again.stdout).toContain('no new part');

  // a crash after the last part's blob but before its manifest: the rerun redoes that part only
  const last = files[files.length - 1];
  const before = await Promise.all(files.slice(0, -1).map(async (f) => (await stat(join(out, f))).mtimeMs));
  await rm(join(out, `${last}.manifest.json`));
  const resumed = await outport(args);
  expect(resumed.code).toBe(0);
  expect(resumed.stdout).toMatch(new RegExp(`^  ${last.replace(/\./g, '\\.')}  `, 'm'));
  expect(await Promise.all(files.slice(0, -1).map(async (f) => (await stat(join(out, f))).mtimeMs))).toEqual(before);
  expect(await pstFiles(out)).toEqual(files);
  expect(await manifestIds(destination, files)).toEqual(truth);

  // nothing failed: retry errors is refused
  const retry = await outport([...args, '--retry-errors']);
  expect(retry.code).toBe(2);
  expect(retry.stderr).toMatch(/RetryNotAllowed/);
});

/** A Writable collecting text; `onText` sees each write. */
function sink(onText: (t: string) => void = () => undefined): Writable & { text: string } {
  const w = new Writable({ write(chunk, _enc, cb) { w.text += String(chunk); onText(String(chunk)); cb(); } }) as Writable & { text: string };
  w.text = '';
  return w;
}

test('in process: a progress line, Ctrl-C (signal) cancels with exit 2 and "run the same command again"; the rerun completes exactly once', async () => {
  const adele = user('Adele');
  const out = join(dir, 'adele-cancel');
  const argv = ['--tenant-config', config, '--mailbox', adele.mail, '--to', out, '--split-size', '1MB'];
  const ac = new AbortController();
  const err = sink((t) => { if (t.startsWith('\r')) ac.abort(); });
  const stdout = sink();
  expect(await runExportCommand(argv, { out: stdout, err, signal: ac.signal, progress: true })).toBe(2);
  expect(err.text).toMatch(/\r[\d,]+(\/[\d,]+)? items .* items\/s .* parts \d+ errors 0/);
  expect(err.text).toContain('cancelled; finished parts are kept: run the same command again to resume');
  expect(stdout.text).toMatch(/^Cancelled: /);
  const again = sink();
  expect(await runExportCommand(argv, { out: again, err: sink(), progress: false })).toBe(0);
  const files = await pstFiles(out);
  const ids = await manifestIds(createDestination({ kind: 'directory', path: out }), files);
  expect(ids.length).toBe(new Set(ids).size);
  expect([...ids].sort()).toEqual([...truthIds(adele.primary!)].sort());
});

test('in process: a mailbox Graph refuses (the inactive user) → exit 2 with Graph\'s code, no part', async () => {
  const isaiah = sb.users.find((u) => u.inactive)!;
  const out = join(dir, 'inactive');
  const err = sink();
  expect(await runExportCommand(['--tenant-config', config, '--mailbox', isaiah.mail, '--to', out], { out: sink(), err, progress: false })).toBe(2);
  expect(err.text).toMatch(/MailboxNotEnabledForRESTAPI/);
  expect(await pstFiles(out)).toEqual([]);
});

test('in process: --types contacts,notes exports only those classes', async () => {
  const alex = user('Alex');
  const out = join(dir, 'alex');
  const stdout = sink();
  expect(await runExportCommand(['--tenant-config', config, '--mailbox', alex.mail, '--to', out, '--types', 'contacts,notes', '--name', 'alex-pim.pst'], { out: stdout, err: sink(), progress: false })).toBe(0);
  const m = parseManifest(await readFile(join(out, 'alex-pim.pst.manifest.json')))!;
  const want = truthIds(alex.primary!).filter((id) => /^IPM\.(Contact|DistList|StickyNote)/i.test(sb.tenant.item(id)!.messageClass));
  expect(want.length).toBeGreaterThan(0);
  expect(m.items.map((i) => i.sourceId)).toEqual(want);
});

test('usage errors name the flag, exit 2, touch nothing and never echo the key', () => {
  const base = ['--tenant-config', config, '--mailbox', 'a@b.test'];
  const key = 'c2VjcmV0LWtleS1zZWNyZXQta2V5LXNlY3JldC1rZXk=';
  const bad: [string[], NodeJS.ProcessEnv, RegExp][] = [
    [[...base, '--storage-account', 'MyAccount', '--storage-key', key], {}, /--storage-account: capital letters are not allowed.*"myaccount"/],
    [[...base, '--storage-account', 'myaccount'], { OUTPORT_STORAGE_KEY: '' }, /--storage-key K or the environment variable OUTPORT_STORAGE_KEY/],
    [[...base, '--to', join(dir, 'x'), '--name', '../x.pst'], {}, /--name "\.\.\/x\.pst": must be a file name without directories/],
    [[...base, '--to', join(dir, 'x'), '--name', 'x.txt'], {}, /--name "x\.txt"/],
    [[...base], {}, /a destination is required/],
    [[...base, '--to', join(dir, 'x'), '--connection-string', 'UseDevelopmentStorage=true'], {}, /give one destination, not --to and --connection-string/],
    [[...base, '--storage-account', 'myaccount', '--container', 'Bad_Name'], { OUTPORT_STORAGE_KEY: key }, /--container: capital letters/],
    [[...base, '--to', join(dir, 'x'), '--types', 'mail,faxes'], {}, /--types: unknown type "faxes"/],
    [[...base, '--to', join(dir, 'x'), '--incremental', '--retry-errors'], {}, /separate passes/],
    [[...base, '--to', join(dir, 'x'), '--split-size', '100KB'], {}, /--split-size must be between 1MB and 50GB/],
    [[...base, '--to', join(dir, 'x'), '--older-than', 'soon'], {}, /--older-than takes a number of days/],
    [['--mailbox', 'a@b.test', '--to', join(dir, 'x')], {}, /--tenant-config FILE is required/],
  ];
  for (const [argv, env, message] of bad) {
    let thrown: Error | undefined;
    try {
      parseExportArgs(argv, env);
    } catch (e) {
      thrown = e as Error;
    }
    expect([argv.join(' '), thrown?.message]).toEqual([argv.join(' '), expect.stringMatching(message)]);
    expect(thrown!.message).not.toContain(key);
  }
  // the mapping of the happy forms
  expect(parseExportArgs([...base, '--storage-account', 'acct1', '--endpoint-suffix', 'core.chinacloudapi.cn', '--container', 'pst-out'], { OUTPORT_STORAGE_KEY: key }).destination)
    .toEqual({ accountName: 'acct1', accountKey: key, storageCloud: 'china', container: 'pst-out' });
  expect(parseExportArgs([...base, '--to', 'https://acct1.blob.core.windows.net/outport?sv=2022-11-02&sig=abc', '--older-than', '30']).request)
    .toMatchObject({ pass: 'prestage', olderThanDays: 30, pstName: 'a.pst', splitSizeBytes: 10 * 1024 ** 3 });
  expect(validateDestination(parseExportArgs([...base, '--to', 'https://acct1.blob.core.windows.net/outport?sv=2022-11-02&sig=abc']).destination).ok).toBe(true);
});

test('a spawned usage error exits 2 without touching storage or echoing the key', async () => {
  const key = 'c2VjcmV0LWtleS1zZWNyZXQta2V5LXNlY3JldC1rZXk=';
  const r = await outport(['export', '--tenant-config', config, '--mailbox', user('Alex').mail, '--storage-account', 'Caps1', '--blob-endpoint', 'http://127.0.0.1:9/caps1'], { OUTPORT_STORAGE_KEY: key });
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/--storage-account: capital letters are not allowed/);
  expect(r.stdout + r.stderr).not.toContain(key);
});

describeWhenAvailable('Azurite', azuriteAvailable() ? [] : ['node_modules/.bin/azurite-blob'], () => {
  test('Azurite: --storage-account with --blob-endpoint and the key from OUTPORT_STORAGE_KEY (the auto-expanding archive), --connection-string, a container SAS URL', async () => {
    const az = await startAzurite();
    try {
      const megan = user('Megan');
      expect(megan.archive!.auxiliary).toBeDefined();
      const r = await outport(['export', '--tenant-config', config, '--mailbox', megan.mail, '--archive', '--storage-account', az.accountName, '--blob-endpoint', az.blobEndpoint, '--container', 'cli-export', '--split-size', '1MB'],
        { OUTPORT_STORAGE_KEY: AZURITE_ACCOUNT_KEY });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout + r.stderr).not.toContain(AZURITE_ACCOUNT_KEY);
      const checked = validateDestination({ accountName: az.accountName, accountKey: AZURITE_ACCOUNT_KEY, blobEndpoint: az.blobEndpoint, container: 'cli-export' });
      if (!checked.ok) throw new Error(JSON.stringify(checked.errors));
      const destination = createDestination(checked.config);
      const names = (await destination.list('megan')).map((o) => o.name).filter((n) => n.endsWith('.pst')).sort((a, b) => a.length - b.length || a.localeCompare(b));
      expect(names[0]).toBe('megan.bowen-archive.pst');
      expect(await manifestIds(destination, names)).toEqual(truthIds(megan.archive!));

      // in process: --connection-string with --container, then --to CONTAINER_SAS_URL into the same container
      const alex = user('Alex');
      const notes = truthIds(alex.primary!).filter((id) => /^IPM\.StickyNote/i.test(sb.tenant.item(id)!.messageClass));
      const viaCs = sink();
      expect(await runExportCommand(['--tenant-config', config, '--mailbox', alex.mail, '--connection-string', az.connectionString, '--container', 'cli-export', '--types', 'notes', '--name', 'alex-cs.pst'],
        { out: viaCs, err: sink(), progress: false })).toBe(0);
      expect(viaCs.text).not.toContain(AZURITE_ACCOUNT_KEY);
      expect(await manifestIds(destination, ['alex-cs.pst'])).toEqual(notes);
      const sasUrl = await new BlobServiceClient(az.blobEndpoint, new StorageSharedKeyCredential(az.accountName, AZURITE_ACCOUNT_KEY))
        .getContainerClient('cli-export').generateSasUrl({ permissions: ContainerSASPermissions.parse('racwdl'), expiresOn: new Date(Date.now() + 3600_000) });
      const viaSas = sink();
      const errSas = sink();
      expect(await runExportCommand(['--tenant-config', config, '--mailbox', alex.mail, '--to', sasUrl, '--types', 'notes', '--name', 'alex-sas.pst'], { out: viaSas, err: errSas, progress: false })).toBe(0);
      expect(viaSas.text + errSas.text).not.toContain(new URL(sasUrl).searchParams.get('sig')!);
      expect(await manifestIds(destination, ['alex-sas.pst'])).toEqual(notes);
    } finally {
      await az.stop();
    }
  });
});
