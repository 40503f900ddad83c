/**
 * Reads every sample PST with Outport's reader and compares with libpff's view
 * (../shared/tools/pst-dump): folder tree, every folder's and message's PC properties, message
 * order, attachment counts, attachment PC properties and attachment bytes (SHA-256), value by value.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { PstReader, type PstFolder } from '../../worker-service/src/pst/reader';
import { LtpNode } from '../../worker-service/src/pst/ltp/read-node';
import { readPcRecords, pcCodepage, decodePcRecord } from '../../worker-service/src/pst/ltp/read-pc';
import { isInlineInPc } from '../../worker-service/src/pst/ltp/read-value';
import type { NodeRef } from '../../worker-service/src/pst/ndb/read-ndb';
import { describeWithShared, PST_DUMP, SAMPLES_DIR, SHARED_PRESENT } from './shared-samples';

interface LibpffAttachment { size: number; sha256: string; records: Record<string, unknown>[] }
interface LibpffMessage { identifier: number; subject: string | null; attachments: LibpffAttachment[]; records: Record<string, unknown>[] }
interface LibpffFolder { path: string; messages: LibpffMessage[]; folders: LibpffFolder[]; records: Record<string, unknown>[] }

function filetimeIso(ticks: bigint): string {
  if (ticks === 0n) return '1601-01-01T00:00:00Z';
  const us = ticks / 10n;
  const ms = Number(us / 1000n) - 11644473600000;
  const d = new Date(ms);
  const frac = (us % 1000000n).toString().padStart(6, '0');
  return d.toISOString().slice(0, 19) + '.' + frac + 'Z';
}

/** Our PC as libpff's pst-dump prints it: { "0xIIIITTTT": value }. */
async function pcAsLibpff(reader: PstReader, node: NodeRef, fallbackCodepage = 1252): Promise<Record<string, unknown>> {
  const ltp = await LtpNode.open(reader.ndb, node);
  const { records } = readPcRecords(ltp);
  const cp = pcCodepage(records, fallbackCodepage);
  const out: Record<string, unknown> = {};
  for (const r of records) {
    const key = '0x' + r.wPropId.toString(16).padStart(4, '0') + r.wPropType.toString(16).padStart(4, '0');
    const t = r.wPropType;
    const p = await decodePcRecord(ltp, r, cp);
    let raw: Uint8Array;
    if (isInlineInPc(t)) { raw = new Uint8Array(4); new DataView(raw.buffer).setUint32(0, r.dwValueHnid, true); } else raw = await ltp.readHnid(r.dwValueHnid);
    if (t === 0x1f || t === 0x1e) out[key] = p.value;
    else if (t === 0x02 || t === 0x03 || t === 0x14) out[key] = typeof p.value === 'bigint' ? p.value : p.value;
    else if (t === 0x0b) out[key] = p.value;
    else if (t === 0x04 || t === 0x05) out[key] = p.value;
    else if (t === 0x40) out[key] = filetimeIso(p.value as bigint);
    else out[key] = Buffer.from(raw).toString('hex');
  }
  return out;
}

/** Compares one PC; returns mismatch descriptions (empty when equal). */
function diff(where: string, ours: Record<string, unknown>, theirs: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const k of new Set([...Object.keys(ours), ...Object.keys(theirs)])) {
    if (!(k in ours)) { out.push(`${where} ${k}: missing in ours`); continue; }
    if (!(k in theirs)) { out.push(`${where} ${k}: missing in libpff's`); continue; }
    const a = ours[k], b = theirs[k];
    if (a === b) continue;
    if (b === null && (a === '' || a === undefined)) continue; // libpff reports empty values as null
    if ((typeof a === 'number' || typeof a === 'bigint') && typeof b === 'number') {
      const t = k.slice(6);
      const bits = t === '0002' ? 16n : t === '0003' ? 32n : 64n;
      const mask = (1n << bits) - 1n;
      if ((BigInt(a) & mask) === (BigInt(b) & mask)) continue; // libpff prints unsigned
      if (typeof a === 'number' && Math.abs(a - b) <= Math.abs(b) * 1e-6) continue; // floats printed by Python
    }
    if (typeof a === 'string' && typeof b === 'string' && a.replace(/\0+$/, '') === b.replace(/\0+$/, '')) continue;
    out.push(`${where} ${k}: ours ${JSON.stringify(String(a)).slice(0, 120)} libpff ${JSON.stringify(String(b)).slice(0, 120)}`);
  }
  return out;
}

const samples = SHARED_PRESENT ? readdirSync(SAMPLES_DIR).filter((f) => f.endsWith('.pst')).sort() : ['(none)'];

describeWithShared('PST reader vs libpff (../shared/samples/pst)', () => {
  for (const name of samples) {
    it(`${name}: folders, messages, attachments and every property agree`, async () => {
      const file = path.join(SAMPLES_DIR, name);
      const libpff = JSON.parse(execFileSync(PST_DUMP, [file], { maxBuffer: 1 << 28 }).toString('utf8')) as { root: LibpffFolder };
      const reader = await PstReader.open(file);
      const problems: string[] = [];
      let folders = 0, messages = 0, attachments = 0, props = 0;
      try {
        const root = await reader.rootFolder();
        const byPath = new Map<string, PstFolder>();
        const index = (f: PstFolder, p: string) => { byPath.set(p, f); for (const c of f.children) index(c, p ? `${p}/${c.displayName}` : c.displayName); };
        index(root, '');
        const walk = async (lf: LibpffFolder) => {
          folders++;
          const f = byPath.get(lf.path);
          if (!f) { problems.push(`folder "${lf.path}": not found in ours`); return; }
          const ours = await pcAsLibpff(reader, await reader.ndb.getNode(f.nid));
          problems.push(...diff(`folder "${lf.path}"`, ours, lf.records[0] ?? {}));
          props += Object.keys(ours).length;
          const nids = (await reader.itemNids(f, { associated: false })).map((x) => x.nid);
          // Ours is row-matrix order (insertion order, MS-PST 2.3.4.4); libpff lists row-index (NID) order.
          const sorted = (a: number[]) => JSON.stringify([...a].sort((x, y) => x - y));
          if (!f.isSearchFolder && sorted(nids) !== sorted(lf.messages.map((m) => m.identifier))) problems.push(`folder "${lf.path}": message NIDs ours ${nids} libpff ${lf.messages.map((m) => m.identifier)}`);
          for (const lm of lf.messages) {
            messages++;
            const node = await reader.ndb.getNode(lm.identifier);
            const ours = await pcAsLibpff(reader, node);
            props += Object.keys(ours).length;
            problems.push(...diff(`message 0x${lm.identifier.toString(16)}`, ours, lm.records[0] ?? {}));
            const item = await reader.readItem(lm.identifier);
            if (item.attachments.length !== lm.attachments.length) problems.push(`message 0x${lm.identifier.toString(16)}: ${item.attachments.length} attachments, libpff ${lm.attachments.length}`);
            const msgLtp = await LtpNode.open(reader.ndb, node);
            const subs = await msgLtp.subnodes();
            const attNids = [...subs.keys()].filter((n) => (n & 0x1f) === 0x05).sort((a, b) => a - b);
            for (let i = 0; i < Math.min(item.attachments.length, lm.attachments.length); i++) {
              attachments++;
              const la = lm.attachments[i];
              const a = item.attachments[i];
              const data = a.properties.get(0x3701);
              if (!a.embedded && data instanceof Uint8Array) {
                const sha = createHash('sha256').update(data).digest('hex');
                if (sha !== la.sha256 || data.length !== la.size) problems.push(`message 0x${lm.identifier.toString(16)} attachment ${i}: data sha ${sha}/${data.length} libpff ${la.sha256}/${la.size}`);
              }
              const attNode = subs.get(attNids[i]);
              if (attNode) {
                const ours = await pcAsLibpff(reader, attNode);
                props += Object.keys(ours).length;
                problems.push(...diff(`message 0x${lm.identifier.toString(16)} attachment ${i}`, ours, la.records[0] ?? {}));
              }
            }
          }
          for (const c of lf.folders) await walk(c);
        };
        await walk(libpff.root);
      } finally {
        await reader.close();
      }
      console.log(`${name}: compared ${folders} folders, ${messages} messages, ${attachments} attachments, ${props} properties; ${problems.length} differences`);
      expect(problems).toEqual([]);
    });
  }
});
