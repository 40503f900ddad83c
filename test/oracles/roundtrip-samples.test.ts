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
import { closeSync, mkdtempSync, openSync, readdirSync, readSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  describeWhenAvailable, libpffNameMap, libpffView, missingPrerequisites, pstDump, REPO_ROOT, run, SAMPLES_DIR,
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
    '0x0e1b': 'PidTagHasAttachments: added when the source item lacks it, as true exactly when the item has attachments (checked); kept when present',
    '0x0e08': 'PidTagMessageSize: recomputed for the new layout (MS-PST: equals what is stored)',
  },
  attachment: {
    '0x3701': 'PidTagAttachDataObject (PtypObject) of an embedded message: its value is the subnode NID and size of the embedded message in this file; the message itself is compared property by property',
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
  /** Present on one side only, with its type's zero value (0, false, "", null): a table cell libpff reports without its existence bit. */
  absentZero: boolean;
  inputAbsent: boolean;
  output: unknown;
  /** For messages: how many attachments the item has. */
  attachments?: number;
}

const isZero = (v: unknown) => v === 0 || v === false || v === '' || v === null;

/**
 * A property key of libpff's views ("0xIIIITTTT") in store-independent form: named properties
 * (id 0x8000 and up) become "{GUID}:lid:0x8205:TTTT" or "{GUID}:name:Keywords:TTTT" through the
 * store's own name-to-ID map (libpff-view.py --name-map); PtypString8 (0x001E, multi 0x101E) of an
 * ANSI source becomes PtypString (0x001F/0x101F): the Unicode store the writer makes keeps every
 * string as Unicode, and the text is compared (docs/pst-roundtrip.md).
 */
function normalizeKey(k: string, names: Record<string, string>, ansi: boolean): string {
  const id = k.slice(0, 6), type = k.slice(6);
  const t = ansi && type === '001e' ? '001f' : ansi && type === '101e' ? '101f' : type;
  if (parseInt(id, 16) >= 0x8000) return `${names[id] ?? `unmapped ${id}`}:${t}`;
  return `${id}${t}`;
}

/** The tag ROUNDTRIP_CHANGED lists: "0xIIII" for a fixed tag, the resolved name for a named one. */
function tagOf(key: string): string {
  return key.startsWith('{') || key.startsWith('unmapped') ? key.slice(0, key.lastIndexOf(':')) : key.slice(0, 6);
}

interface Side {
  names: Record<string, string>;
  ansi: boolean;
}

function normalize(props: Record<string, unknown>, side: Side): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(props)) out[normalizeKey(k, side.names, side.ansi)] = v;
  return out;
}

function diffProps(where: Where, label: string, a: Record<string, unknown>, b: Record<string, unknown>, out: Diff[], sa: Side, sb: Side, attachments?: number): void {
  const x0 = normalize(a, sa), y0 = normalize(b, sb);
  for (const k of new Set([...Object.keys(x0), ...Object.keys(y0)])) {
    const x = x0[k], y = y0[k];
    if (JSON.stringify(x) === JSON.stringify(y)) continue;
    const absentZero = (!(k in x0) && isZero(y)) || (!(k in y0) && isZero(x));
    out.push({ where, tag: tagOf(k), absentZero, inputAbsent: !(k in x0), output: y, attachments, text: `${label} ${k}: input ${k in x0 ? JSON.stringify(x).slice(0, 100) : '(absent)'} output ${k in y0 ? JSON.stringify(y).slice(0, 100) : '(absent)'}` });
  }
}

/**
 * An embedded message (attach method 5) compared as a message through libpff-view.py: its
 * properties, body, HTML, recipients and attachments, recursively (its data object's bytes depend
 * on the layout and are not compared).
 */
function diffEmbedded(label: string, x: LibpffMessage, y: LibpffMessage, out: Diff[], problems: string[], sa: Side, sb: Side, counts: { props: number; recipients: number; attachments: number }): void {
  counts.props += Object.keys(x.props).length;
  diffProps('message', label, x.props, y.props, out, sa, sb, x.attachments.length);
  if (JSON.stringify(x.body) !== JSON.stringify(y.body)) problems.push(`${label}: plain text body differs`);
  if (JSON.stringify(x.html) !== JSON.stringify(y.html)) problems.push(`${label}: HTML body differs`);
  if (x.recipients.length !== y.recipients.length) problems.push(`${label}: ${x.recipients.length} recipients in, ${y.recipients.length} out`);
  x.recipients.forEach((r, i) => {
    if (!y.recipients[i]) return;
    counts.recipients++;
    counts.props += Object.keys(r).length;
    diffProps('recipient', `${label} recipient ${i}`, r, y.recipients[i], out, sa, sb);
  });
  if (x.attachments.length !== y.attachments.length) problems.push(`${label}: ${x.attachments.length} attachments in, ${y.attachments.length} out`);
  x.attachments.forEach((a, i) => {
    const b = y.attachments[i];
    if (!b) return;
    counts.attachments++;
    counts.props += Object.keys(a.props).length;
    diffProps('attachment', `${label} attachment ${i}`, a.props, b.props, out, sa, sb);
    if (a.type !== b.type) problems.push(`${label} attachment ${i}: libpff type ${a.type} in, ${b.type} out`);
    else if (a.message && b.message) diffEmbedded(`${label} attachment ${i} (embedded)`, a.message, b.message, out, problems, sa, sb, counts);
    else if (a.sha256 !== b.sha256 || a.size !== b.size) problems.push(`${label} attachment ${i}: data ${a.size}/${a.sha256?.slice(0, 12)} in, ${b.size}/${b.sha256?.slice(0, 12)} out`);
  });
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

/** True when the PST is ANSI (wVer 14 or 15: MS-PST 2.2.2.6). */
function isAnsi(file: string): boolean {
  const h = Buffer.alloc(12);
  const fd = openSync(file, 'r');
  try { readSync(fd, h, 0, 12, 0); } finally { closeSync(fd); }
  return h.readUInt16LE(10) < 23;
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
      const [ra, rb, na, nb] = await Promise.all([libpffView(input, true), libpffView(output, true), libpffNameMap(input), libpffNameMap(output)]);
      const ansi = isAnsi(input);
      const sa: Side = { names: na, ansi }, sb: Side = { names: nb, ansi };
      const byId = (v: LibpffMessage[]) => new Map(v.map((m) => [m.id, m]));
      const [va, vb] = [byId(ra), byId(rb)];
      const diffs: Diff[] = [];
      const problems: string[] = [];
      let folders = 0, items = 0, attachments = 0, embedded = 0, recipients = 0, props = 0;
      const fa = ipmFolders(a.root), fb = ipmFolders(b.root);
      expect([...fb.keys()].sort()).toEqual([...fa.keys()].sort());
      for (const [rel, f] of fa) {
        const g = fb.get(rel)!;
        folders++;
        props += Object.keys(f.records[0] ?? {}).length;
        diffProps('folder', `folder "${rel}"`, f.records[0] ?? {}, g.records[0] ?? {}, diffs, sa, sb);
        const byKey = new Map(g.messages.map((m) => [itemKey(m), m]));
        if (byKey.size !== g.messages.length) problems.push(`folder "${rel}": output item keys are not unique`);
        if (g.messages.length !== f.messages.length) problems.push(`folder "${rel}": ${f.messages.length} items in, ${g.messages.length} out`);
        for (const m of f.messages) {
          const n = byKey.get(itemKey(m));
          if (!n) { problems.push(`folder "${rel}": item "${m.subject}" (${itemKey(m).slice(0, 60)}) missing in the output`); continue; }
          items++;
          const label = `"${rel}" item "${m.subject}"`;
          props += Object.keys(m.records[0] ?? {}).length;
          diffProps('message', label, m.records[0] ?? {}, n.records[0] ?? {}, diffs, sa, sb, m.attachments.length);
          if (m.plain_text_body_sha256 !== n.plain_text_body_sha256) problems.push(`${label}: plain text body differs`);
          if (m.html_body_sha256 !== n.html_body_sha256) problems.push(`${label}: HTML body differs`);
          if (m.attachments.length !== n.attachments.length) problems.push(`${label}: ${m.attachments.length} attachments in, ${n.attachments.length} out`);
          const lx = va.get(m.identifier), ly = vb.get(n.identifier);
          m.attachments.forEach((x, i) => {
            const y = n.attachments[i];
            if (!y) return;
            attachments++;
            props += Object.keys(x.records[0] ?? {}).length;
            diffProps('attachment', `${label} attachment ${i}`, x.records[0] ?? {}, y.records[0] ?? {}, diffs, sa, sb);
            const ex = lx?.attachments[i]?.message, ey = ly?.attachments[i]?.message;
            if (ex || ey) {
              // Attach method 5: the embedded message is compared as a message, not as the bytes of its data object.
              if (!ex || !ey) { problems.push(`${label} attachment ${i}: embedded message ${ex ? 'lost' : 'appeared'}`); return; }
              const counts = { props: 0, recipients: 0, attachments: 0 };
              diffEmbedded(`${label} attachment ${i} (embedded)`, ex, ey, diffs, problems, sa, sb, counts);
              embedded++; props += counts.props; recipients += counts.recipients; attachments += counts.attachments;
            } else if (x.sha256 !== y.sha256 || x.size !== y.size) problems.push(`${label} attachment ${i}: data ${x.size}/${x.sha256.slice(0, 12)} in, ${y.size}/${y.sha256.slice(0, 12)} out`);
          });
          const xr = lx?.recipients ?? [], yr = ly?.recipients ?? [];
          if (xr.length !== yr.length) problems.push(`${label}: ${xr.length} recipients in, ${yr.length} out`);
          xr.forEach((x, i) => {
            if (!yr[i]) return;
            recipients++;
            props += Object.keys(x).length;
            diffProps('recipient', `${label} recipient ${i}`, x, yr[i], diffs, sa, sb);
          });
        }
      }
      let cebCells = 0;
      for (const d of diffs) {
        if (d.where === 'recipient' && d.absentZero) { cebCells++; continue; }
        if (d.where === 'folder' && d.tag === '0x3001' && !d.text.startsWith('folder "" ')) { problems.push(`${d.where} ${d.text}`); continue; }
        if (d.where === 'message' && d.tag === '0x0e1b' && !(d.inputAbsent && d.output === (d.attachments ?? -1) > 0)) { problems.push(`${d.where} ${d.text} (attachments: ${d.attachments})`); continue; }
        if (ROUNDTRIP_CHANGED[d.where][d.tag] !== undefined) seen[d.where].add(d.tag);
        else problems.push(`${d.where} ${d.text}`);
      }
      console.log(`${name}: ${folders} folders, ${items} items, ${attachments} attachments (${embedded} embedded messages), ${recipients} recipients, ${props} properties compared; ${diffs.length - cebCells} listed changes, ${cebCells} recipient cells without existence bit, ${problems.length} problems\n${problems.slice(0, 60).join('\n')}`);
      expect(problems).toEqual([]);
    }, 180_000);
  }

  it('every property in ROUNDTRIP_CHANGED really changes in some sample (the list is exact)', () => {
    const unused = (Object.keys(ROUNDTRIP_CHANGED) as Where[]).flatMap((w) => Object.keys(ROUNDTRIP_CHANGED[w]).filter((t) => !seen[w].has(t)).map((t) => `${w} ${t}`));
    expect(unused).toEqual([]);
  });
});
