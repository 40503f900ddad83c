/**
 * `outport inventory` spawned as a user runs it (bin/outport.js) against an in-process sandbox tenant
 * through a tenant config file: the folder tree with counts and bytes equal to the sandbox's truth
 * (the auto-expanding archive included), NDJSON with --items, exit codes 0 / 1 / 2, no secret in
 * any output.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mailboxFolders, startSandbox, writeTenantConfig, type SandboxHandle, type SandboxMailbox } from '../../worker-service/src/sandbox';

jest.setTimeout(60_000);

let sb: SandboxHandle;
let dir: string;
let config: string;

beforeAll(async () => {
  sb = await startSandbox({ mailLimit: 150 });
  dir = await mkdtemp(join(tmpdir(), 'outport-inventory-'));
  config = join(dir, 'tenant.json');
  await writeTenantConfig(sb, config);
});
afterAll(async () => {
  await sb?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function outport(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(__dirname, '../../bin/outport.js'), ...args], { maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const user = (given: string) => sb.users.find((u) => u.givenName === given)!;
/** The truth: every folder of the mailbox (and its auxiliary part), in listing order. */
const truthFolders = (mb: SandboxMailbox) => mailboxFolders(mb);

test('text: the folder tree with item counts and bytes equal to the sandbox (auto-expanding archive), exit 0', async () => {
  const megan = user('Megan');
  const r = await outport(['inventory', '--tenant-config', config, '--mailbox', megan.mail, '--archive']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const folders = truthFolders(megan.archive!);
  const items = folders.reduce((a, f) => a + f.items.length, 0);
  const bytes = folders.reduce((a, f) => a + f.items.reduce((b, i) => b + i.size, 0), 0);
  const lines = r.stdout.trimEnd().split('\n');
  expect(lines[0]).toBe(`Mailbox ${megan.mail} (in-place archive) ${megan.archive!.id}`);
  expect(lines[lines.length - 1]).toBe(`Total: ${items.toLocaleString('en-US')} items, ${bytes.toLocaleString('en-US')} bytes in ${folders.length} folders`);
  const rows = lines.slice(1, -1).map((l) => /^(\s*)(.+?)\s+([\d,]+) items\s+([\d,]+) bytes$/.exec(l)!);
  expect(rows.map((m) => [m[2], Number(m[3].replace(/,/g, '')), Number(m[4].replace(/,/g, ''))])).toEqual(
    folders.map((f) => [f.displayName, f.items.length, f.items.reduce((b, i) => b + i.size, 0)]));
  expect(rows.some((m) => m[1].length > 0)).toBe(true); // subfolders are indented
  expect(folders.some((f) => f.home !== megan.archive)).toBe(true); // the auxiliary part was listed (308 followed)
  expect(r.stdout).not.toContain(sb.clientSecret);
});

test('--items: NDJSON of folders and items (ids, types, sizes) equal to the sandbox, and a total', async () => {
  const adele = user('Adele');
  const r = await outport(['inventory', '--tenant-config', config, '--mailbox', adele.mail, '--items']);
  expect(r.code).toBe(0);
  const recs = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const folders = truthFolders(adele.primary!);
  const truthItems = folders.flatMap((f) => f.items);
  const got = recs.filter((x) => x.kind === 'item');
  expect(got.map((x) => [x.id, x.type, x.size])).toEqual(truthItems.map((i) => [i.id, i.messageClass, i.size]));
  expect(recs.filter((x) => x.kind === 'folder').map((x) => x.id)).toEqual(folders.map((f) => f.id));
  expect(recs[recs.length - 1]).toEqual({ kind: 'total', mailbox: adele.mail, mailboxId: adele.primary!.id, archive: false, folders: folders.length, items: truthItems.length, bytes: truthItems.reduce((a, i) => a + i.size, 0), failedFolders: 0 });
});

test('exit 1 for a mailbox Graph cannot read (inactive: MailboxNotEnabledForRESTAPI; no archive: NoArchive); exit 2 for bad usage or config, naming the field', async () => {
  const inactive = sb.users.find((u) => u.inactive)!;
  const r1 = await outport(['inventory', '--tenant-config', config, '--mailbox', inactive.mail]);
  expect(r1.code).toBe(1);
  expect(r1.stderr).toContain('MailboxNotEnabledForRESTAPI');
  const noArchive = sb.users.find((u) => !u.inactive && !u.archive)!;
  const r2 = await outport(['inventory', '--tenant-config', config, '--mailbox', noArchive.mail, '--archive']);
  expect(r2.code).toBe(1);
  expect(r2.stderr).toContain('NoArchive');
  const r3 = await outport(['inventory', '--tenant-config', config]);
  expect(r3.code).toBe(2);
  expect(r3.stderr).toContain('--mailbox');
  const bad = join(dir, 'bad.json');
  await writeFile(bad, JSON.stringify({ cloud: 'custom', graphUrl: sb.graphUrl, authorityUrl: sb.authorityUrl, tenantId: sb.tenantId, clientSecret: sb.clientSecret }));
  const r4 = await outport(['inventory', '--tenant-config', bad, '--mailbox', user('Adele').mail]);
  expect(r4.code).toBe(2);
  expect(r4.stderr).toContain('"clientId" is missing');
  // A wrong secret: the token service refuses (AADSTS7000215), reported without the secret.
  const wrong = join(dir, 'wrong.json');
  await writeFile(wrong, JSON.stringify({ cloud: 'custom', graphUrl: sb.graphUrl, authorityUrl: sb.authorityUrl, tenantId: sb.tenantId, clientId: sb.clientId, clientSecret: 'sbx~not-the-secret-123' }));
  const r5 = await outport(['inventory', '--tenant-config', wrong, '--mailbox', user('Adele').mail]);
  expect(r5.code).not.toBe(0);
  expect(r5.stderr).toContain('InvalidClient');
  expect(r5.stderr + r5.stdout).not.toContain('not-the-secret-123');
  for (const r of [r1, r2, r3, r4]) expect(r.stderr + r.stdout).not.toContain(sb.clientSecret);
});
