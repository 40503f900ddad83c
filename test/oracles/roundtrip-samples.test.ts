/**
 * Issue 2, "Must show b": every sample PST in ../shared/samples/pst read and rewritten by
 * `outport convert SAMPLE.pst --out OUT.pst` (the ANSI 32-bit.pst becomes Unicode); libpff's view
 * of input and output (shared/tools/pst-dump, plus recipient tables through
 * test/oracles/helpers/libpff-view.py) must be equal property by property for every folder, item,
 * recipient and attachment, except the properties a new store legitimately changes. Those are
 * listed, each with its reason, in docs/pst-roundtrip.md; ROUNDTRIP_CHANGED below is that list and
 * the test fails on any other difference (and on a listed property that never differs, so the
 * list stays exact).
 *
 * Folders are matched by path below the IPM subtree; items by PidTagSearchKey, else
 * PidTagInternetMessageId, else subject + PidTagCreationTime (NIDs change); attachments and
 * recipients by position.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  describeWhenAvailable, libpffView, missingPrerequisites, pstDump, REPO_ROOT, run, SAMPLES_DIR,
  type LibpffMessage, type PstDumpFolder, type PstDumpMessage,
} from './helpers/tools';

/** Properties that differ between a sample and its rewrite, by where they live; docs/pst-roundtrip.md gives the reasons. */
export const ROUNDTRIP_CHANGED: Record<'folder' | 'message' | 'attachment' | 'recipient', Record<string, string>> = {
  folder: {
    '0x3001': 'PidTagDisplayName of the IPM subtree only: the new store names its own "Top of Outlook data file"',
    '0x3602': 'PidTagContentCount: recomputed from what the new folder holds (search-folder results are not copied)',
    '0x3603': 'PidTagContentUnreadCount: recomputed likewise',
    '0x360a': 'PidTagSubfolders: recomputed from the new hierarchy',
  },
  message: {
    '0x0e08': 'PidTagMessageSize: recomputed for the new layout (MS-PST: equals what is stored)',
  },
  attachment: {
    '0x0e20': 'PidTagAttachSize: recomputed for the new layout',
    '0x0e21': 'PidTagAttachNumber: renumbered 0..n-1 by the writer',
  },
  recipient: {
    '0x3000': 'PidTagRowid: the new recipient table\'s row ids',
    '0x67f2': 'PidTagLtpRowId: the new table\'s row ids (MS-PST 2.3.4.4.1)',
    '0x67f3': 'PidTagLtpRowVer: the new table\'s row versions',
  },
};

const missing = missingPrerequisites({ shared: true, pypff: true });
const samples = missing.length ? ['(none)'] : readdirSync(SAMPLES_DIR).filter((f) => f.endsWith('.pst')).sort();

type Where = keyof typeof ROUNDTRIP_CHANGED;

interface Diff {
  where: Where;
  tag: string;
  text: string;
}

function diffProps(where: Where, label: string, a: Record<string, unknown>, b: Record<string, unknown>, out: Diff[]): void {
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const x = a[k], y = b[k];
    if (JSON.stringify(x) === JSON.stringify(y)) continue;
    const tag = k.slice(0, 6);
    out.push({ where, tag, text: `${label} ${k}: input ${k in a ? JSON.stringify(x).slice(0, 100) : '(absent)'} output ${k in b ? JSON.stringify(y).slice(0, 100) : '(absent)'}` });
  }
}

/** The IPM subtree's folders by path relative to it (the subtree itself is ""). */
function ipmFolders(root: PstDumpFolder): Map<string, PstDumpFolder> {
  const top = root.folders.find((f) => /^Top of /.test(f.path.split('/').pop() ?? '')) ?? root.folders.find((f) => f.folders.length > 0)!;
  const out = new Map<string, PstDumpFolder>();
  const walk = (f: PstDumpFolder, rel: string) => {
    out.set(rel, f);
    for (const c of f.folders) walk(c, rel ? `${rel}/${c.path.split('/').pop()}` : c.path.split('/').pop()!);
  };
  walk(top, '');
  return out;
}

function itemKey(m: PstDumpMessage): string {
  const r = m.records[0] ?? {};
  const sk = r['0x300b0102'];
  if (typeof sk === 'string') return `sk:${sk}`;
  const mid = r['0x1035001f'] ?? r['0x1035001e'];
  if (typeof mid === 'string') return `mid:${mid}`;
  return `sc:${m.subject}|${String(r['0x30070040'])}`;
}

describeWhenAvailable('PST → PST: every sample rewritten, libpff sees the same properties', missing, () => {
  let dir = '';
  const seen: Record<Where, Set<string>> = { folder: new Set(), message: new Set(), attachment: new Set(), recipient: new Set() };
  beforeAll(() => { dir = mkdtempSync(path.join(os.tmpdir(), 'outport-roundtrip-')); });
  afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

  for (const name of samples) {
    it(`${name}: rewritten; libpff's view of folders, items, recipients and attachments unchanged but for the listed properties`, async () => {
      const input = path.join(SAMPLES_DIR, name);
      const output = path.join(dir, name.replace(/\.pst$/, '-rewritten.pst'));
      const conv = await run(process.execPath, [path.join(REPO_ROOT, 'bin/outport.js'), 'convert', input, '--out', output]);
      expect(conv.stderr).toBe('');
      expect(conv.code).toBe(0);
      const [a, b] = [pstDump(input), pstDump(output)];
      const [ra, rb] = await Promise.all([libpffView(input, true), libpffView(output, true)]);
      const recipientsById = (v: LibpffMessage[]) => new Map(v.map((m) => [m.id, m.recipients]));
      const [reca, recb] = [recipientsById(ra), recipientsById(rb)];
      const diffs: Diff[] = [];
      const problems: string[] = [];
      let folders = 0, items = 0, attachments = 0, recipients = 0, props = 0;
      const fa = ipmFolders(a.root), fb = ipmFolders(b.root);
      expect([...fb.keys()].sort()).toEqual([...fa.keys()].sort());
      for (const [rel, f] of fa) {
        const g = fb.get(rel)!;
        folders++;
        props += Object.keys(f.records[0] ?? {}).length;
        diffProps('folder', `folder "${rel}"`, f.records[0] ?? {}, g.records[0] ?? {}, diffs);
        const byKey = new Map(g.messages.map((m) => [itemKey(m), m]));
        if (byKey.size !== g.messages.length) problems.push(`folder "${rel}": output item keys are not unique`);
        if (g.messages.length !== f.messages.length) problems.push(`folder "${rel}": ${f.messages.length} items in, ${g.messages.length} out`);
        for (const m of f.messages) {
          const n = byKey.get(itemKey(m));
          if (!n) { problems.push(`folder "${rel}": item "${m.subject}" (${itemKey(m).slice(0, 60)}) missing in the output`); continue; }
          items++;
          const label = `"${rel}" item "${m.subject}"`;
          props += Object.keys(m.records[0] ?? {}).length;
          diffProps('message', label, m.records[0] ?? {}, n.records[0] ?? {}, diffs);
          if (m.plain_text_body_sha256 !== n.plain_text_body_sha256) problems.push(`${label}: plain text body differs`);
          if (m.html_body_sha256 !== n.html_body_sha256) problems.push(`${label}: HTML body differs`);
          if (m.attachments.length !== n.attachments.length) problems.push(`${label}: ${m.attachments.length} attachments in, ${n.attachments.length} out`);
          m.attachments.forEach((x, i) => {
            const y = n.attachments[i];
            if (!y) return;
            attachments++;
            props += Object.keys(x.records[0] ?? {}).length;
            if (x.sha256 !== y.sha256 || x.size !== y.size) problems.push(`${label} attachment ${i}: data ${x.size}/${x.sha256.slice(0, 12)} in, ${y.size}/${y.sha256.slice(0, 12)} out`);
            diffProps('attachment', `${label} attachment ${i}`, x.records[0] ?? {}, y.records[0] ?? {}, diffs);
          });
          const xr = reca.get(m.identifier) ?? [], yr = recb.get(n.identifier) ?? [];
          if (xr.length !== yr.length) problems.push(`${label}: ${xr.length} recipients in, ${yr.length} out`);
          xr.forEach((x, i) => {
            if (!yr[i]) return;
            recipients++;
            props += Object.keys(x).length;
            diffProps('recipient', `${label} recipient ${i}`, x, yr[i], diffs);
          });
        }
      }
      for (const d of diffs) {
        if (ROUNDTRIP_CHANGED[d.where][d.tag] !== undefined) seen[d.where].add(d.tag);
        else problems.push(`${d.where} ${d.text}`);
      }
      console.log(`${name}: ${folders} folders, ${items} items, ${attachments} attachments, ${recipients} recipients, ${props} properties compared; ${diffs.length} listed changes, ${problems.length} problems\n${problems.slice(0, 60).join('\n')}`);
      expect(problems).toEqual([]);
    }, 180_000);
  }

  it('every property in ROUNDTRIP_CHANGED really changes in some sample (the list is exact)', () => {
    const unused = (Object.keys(ROUNDTRIP_CHANGED) as Where[]).flatMap((w) => Object.keys(ROUNDTRIP_CHANGED[w]).filter((t) => !seen[w].has(t)).map((t) => `${w} ${t}`));
    expect(unused).toEqual([]);
  });
});
