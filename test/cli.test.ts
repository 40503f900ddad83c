/**
 * The `outport` command as users run it (bin/outport.js in a child process): convert from .eml
 * trees, mbox and PST; check's exit codes; dump's JSON; usage errors.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { corpusMessages } from '../worker-service/src/sandbox/corpus';
import { PstReader } from '../worker-service/src/pst/reader';
import { encodeExportItem } from '../worker-service/src/convert/fts/encode';
import { newMapiItem } from '../worker-service/src/mapi/item';
import { TAG } from '../worker-service/src/mapi/tags';

const BIN = resolve(__dirname, '../bin/outport.js');
const run = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000 });

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'outport-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function folderCounts(file: string): Promise<Record<string, number>> {
  const r = await PstReader.open(file);
  const out: Record<string, number> = {};
  for await (const f of r.folders()) out[f.path.join('/')] = (await r.itemNids(f, { associated: false })).length;
  await r.close();
  return out;
}

test('convert: a directory tree of .eml and an mbox become folders; check says clean; dump is JSON', async () => {
  const tree = join(dir, 'Mail');
  mkdirSync(join(tree, 'Projects', 'Alpha'), { recursive: true });
  const mbox: string[] = [];
  let i = 0;
  for await (const m of corpusMessages(30)) {
    const target = i < 10 ? tree : i < 20 ? join(tree, 'Projects', 'Alpha') : undefined;
    if (target) writeFileSync(join(target, `${m.id}.eml`), m.raw);
    else mbox.push(`From sender@example.com Sat Jan  1 00:00:00 2000\n${Buffer.from(m.raw).toString('latin1').replace(/^From /gm, '>From ')}\n`);
    i++;
  }
  writeFileSync(join(dir, 'Old.mbox'), mbox.join(''), 'latin1');
  const out = join(dir, 'out', 'mail.pst');
  const conv = run('convert', tree, join(dir, 'Old.mbox'), '--out', out);
  expect(conv.stderr).toBe('');
  expect(conv.status).toBe(0);
  expect(conv.stdout).toMatch(/converted 30 items into 1 part\(s\); 0 failed/);
  const counts = await folderCounts(out);
  expect(counts['Top of Outlook data file/Mail']).toBe(10);
  expect(counts['Top of Outlook data file/Mail/Projects/Alpha']).toBe(10);
  expect(counts['Top of Outlook data file/Old']).toBe(10);

  const check = run('check', out);
  expect(check.status).toBe(0);
  expect(check.stdout).toContain('clean');

  const dump = run('dump', out);
  expect(dump.status).toBe(0);
  const parsed = JSON.parse(dump.stdout);
  expect(parsed.folders.length).toBeGreaterThan(3);

  // PST → PST keeps folders and items
  const again = join(dir, 'again.pst');
  expect(run('convert', out, '--out', again, '--encoding', 'none').status).toBe(0);
  expect(await folderCounts(again)).toEqual(counts);
});

test('check exits 1 and names the finding when a block is damaged', () => {
  const out = join(dir, 'damaged.pst');
  const tree = join(dir, 'One');
  mkdirSync(tree, { recursive: true });
  writeFileSync(join(tree, 'a.eml'), 'Subject: hello\r\nFrom: a@example.com\r\nTo: b@example.com\r\n\r\n' + 'body line\r\n'.repeat(2000));
  expect(run('convert', tree, '--out', out).status).toBe(0);
  const bytes = readFileSync(out);
  bytes[0x4400 + 512 * 2 + 100] ^= 0xff; // inside the first data block after the AMap and PMap pages
  writeFileSync(out, bytes);
  const check = run('check', out);
  expect(check.status).toBe(1);
  expect(check.stdout).toMatch(/Block/);
});

test('usage errors exit 2 and say what to type', () => {
  const noOut = run('convert', dir);
  expect(noOut.status).toBe(2);
  expect(noOut.stderr).toMatch(/--out FILE\.pst/);
  const badSize = run('convert', dir, '--out', join(dir, 'x.pst'), '--split-size', 'lots');
  expect(badSize.status).toBe(2);
  expect(badSize.stderr).toMatch(/not a size/);
  const missing = run('convert', join(dir, 'nope'), '--out', join(dir, 'x.pst'));
  expect(missing.status).toBe(2);
  expect(missing.stderr).toMatch(/does not exist/);
  expect(run('frobnicate').status).toBe(2);
});

test('inspect-fts: exit 0 for a complete exportItems item, 1 for a cut one, JSON either way', () => {
  const item = newMapiItem();
  item.properties.setTag(TAG.PidTagMessageClass, 'IPM.Note').setTag(TAG.PidTagSubject, 'inspect me').setTag(TAG.PidTagImportance, 2);
  const data = encodeExportItem(item);
  writeFileSync(join(dir, 'item.b64'), Buffer.from(data).toString('base64'));
  const ok = run('inspect-fts', join(dir, 'item.b64'));
  expect(ok.status).toBe(0);
  expect(ok.stdout).toContain('inspect me');
  writeFileSync(join(dir, 'cut.bin'), data.subarray(0, data.length - 5));
  const cut = run('inspect-fts', join(dir, 'cut.bin'));
  expect(cut.status).toBe(1);
  expect(JSON.parse(cut.stdout).truncated).toBe(true);
});
