import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { readMbox, walkEmlTree, MBOX_READ_CHUNK_BYTES } from '../../../worker-service/src/convert/mime';

const made: string[] = [];
const tmp = () => {
  const dir = mkdtempSync(join(tmpdir(), 'outport-mime-'));
  made.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

async function collect<T>(gen: AsyncGenerator<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of gen) out.push(x);
  return out;
}

describe('readMbox', () => {
  test('splits on From lines, unescapes >From (mboxrd), drops the separator blank line', async () => {
    const dir = tmp();
    const file = join(dir, 'in.mbox');
    writeFileSync(file, [
      'preamble ignored',
      'From alice@example.com Tue Aug  6 11:51:02 2002',
      'Subject: one', '', 'line', '>From the start', '>>From deeper', 'From: not a separator? no: "From:" has a colon', '',
      'From bob@example.com Wed Aug  7 11:51:02 2002',
      'Subject: two', '', 'last line', '',
    ].join('\n'));
    const msgs = await collect(readMbox(file));
    expect(msgs.map((m) => m.envelope)).toEqual(['alice@example.com Tue Aug  6 11:51:02 2002', 'bob@example.com Wed Aug  7 11:51:02 2002']);
    expect(Buffer.from(msgs[0].raw).toString()).toBe('Subject: one\n\nline\nFrom the start\n>From deeper\nFrom: not a separator? no: "From:" has a colon\n');
    expect(Buffer.from(msgs[1].raw).toString()).toBe('Subject: two\n\nlast line\n');
    expect(msgs.map((m) => m.index)).toEqual([0, 1]);
    expect(msgs[1].offset).toBeGreaterThan(msgs[0].offset);
  });

  test('messages larger than one read chunk, CRLF files, no trailing newline', async () => {
    const dir = tmp();
    const file = join(dir, 'big.mbox');
    const big = 'x'.repeat(MBOX_READ_CHUNK_BYTES + 12345);
    writeFileSync(file, `From a Tue Aug  6 11:51:02 2002\r\nSubject: big\r\n\r\n${big}\r\n\r\nFrom b Tue Aug  6 11:51:02 2002\r\nSubject: end\r\n\r\nno newline`);
    const msgs = await collect(readMbox(file));
    expect(msgs).toHaveLength(2);
    expect(msgs[0].raw.length).toBe('Subject: big\r\n\r\n'.length + big.length + 2);
    expect(Buffer.from(msgs[1].raw).toString()).toBe('Subject: end\r\n\r\nno newline');
  });

  test('a missing file rejects with the fs error', async () => {
    await expect(collect(readMbox(join(tmp(), 'nope.mbox')))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('walkEmlTree', () => {
  test('every *.eml, files before subfolders, sorted, with folder paths', async () => {
    const root = tmp();
    mkdirSync(join(root, 'b', 'deep'), { recursive: true });
    mkdirSync(join(root, 'a'));
    for (const f of ['z.eml', 'A.EML', 'skip.txt', 'a/2.eml', 'a/10.eml', 'b/deep/x.eml', 'b/y.eml']) writeFileSync(join(root, f), 'Subject: x\n\n');
    const got = (await collect(walkEmlTree(root))).map((e) => [e.relativeFolderPath.join('/'), e.path.slice(root.length + 1)]);
    expect(got).toEqual([
      ['', 'A.EML'], ['', 'z.eml'], ['a', 'a/10.eml'], ['a', 'a/2.eml'], ['b', 'b/y.eml'], ['b/deep', 'b/deep/x.eml'],
    ]);
  });
});
