/**
 * Prints every node of a PST (MS-PST 2.2 NBT) with what the LTP layer sees in it: PC properties,
 * TC column sets and rows, the name-to-id map. A tool for learning Outlook's store structure.
 *
 *   node bin/run-ts.js scripts/pst-nodes.ts FILE.pst [--max-rows N]
 */
import { NdbReader, type NodeRef } from '../worker-service/src/pst/ndb/read-ndb';
import { NidType, nidHex, nidType } from '../worker-service/src/pst/ndb/nid';
import { LtpNode } from '../worker-service/src/pst/ltp/read-node';
import { ClientSig } from '../worker-service/src/pst/ltp/constants';
import { readPcProperties } from '../worker-service/src/pst/ltp/read-pc';
import { openTable } from '../worker-service/src/pst/ltp/read-tc';
import { readNameIdMap } from '../worker-service/src/pst/messaging/read-nameid';
import { tagName } from '../worker-service/src/mapi/tags';
import { propTypeName, type PropValue } from '../worker-service/src/mapi/types';
import { HN_SIGNATURE } from '../worker-service/src/pst/ltp/constants';

const hex = (n: number | bigint, w = 8) => '0x' + n.toString(16).padStart(w, '0');
const typeName = (nid: number) => NidType[nidType(nid)] ?? `type${nidType(nid)}`;

function fmtValue(v: PropValue): string {
  if (v instanceof Uint8Array) return `[${v.length}] ${Buffer.from(v.subarray(0, 64)).toString('hex')}${v.length > 64 ? '…' : ''}`;
  if (Array.isArray(v)) return '[' + (v as unknown[]).map((x) => fmtValue(x as PropValue)).join(', ') + ']';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'bigint') return v.toString() + 'n';
  return String(v);
}

function fmtTag(tag: number, named = true): string {
  const id = tag >>> 16, type = tag & 0xffff;
  return `${hex(tag)} ${(named && tagName(id, type)) || ''} ${propTypeName(type)}`.replace(/ +/g, ' ');
}

async function describe(ndb: NdbReader, node: NodeRef, indent: string, maxRows: number, depth = 0): Promise<void> {
  let blocks: Uint8Array[] = [];
  try { blocks = await ndb.readDataBlocks(node.bidData); } catch (e) { console.log(`${indent}data: ERROR ${(e as Error).message}`); }
  const size = blocks.reduce((n, b) => n + b.length, 0);
  const subs = await ndb.readSubnodes(node.bidSub).catch((e) => { console.log(`${indent}subnodes: ERROR ${(e as Error).message}`); return new Map(); });
  console.log(`${indent}data ${size} bytes in ${blocks.length} block(s); subnodes: ${[...subs.keys()].map((n) => nidHex(n)).join(' ') || '-'}`);
  if (blocks.length && blocks[0].length >= 12 && blocks[0][2] === HN_SIGNATURE) {
    const ltp = await LtpNode.open(ndb, node);
    const sig = ltp.heap.bClientSig;
    if (sig === ClientSig.PC) {
      console.log(`${indent}PC:`);
      for (const p of await readPcProperties(ltp)) console.log(`${indent}  ${fmtTag(p.tag, node.nid !== 0x61)} = ${fmtValue(p.value)}${p.object ? ` (object nid ${nidHex(p.object.nid)} size ${p.object.ulSize})` : ''}`);
    } else if (sig === ClientSig.TC || sig === ClientSig.Reserved5) {
      const tc = await openTable(ltp);
      const i = tc.info;
      console.log(`${indent}TC (bType ${hex(i.bType, 2)}): cCols ${i.cCols} rgib [4b ${i.rgib[0]}, 2b ${i.rgib[1]}, 1b ${i.rgib[2]}, bm ${i.rgib[3]}] hidRowIndex ${hex(i.hidRowIndex)} hnidRows ${hex(i.hnidRows)} hidIndex ${hex(i.hidIndex)}; ${tc.rowIndex.length} row(s)`);
      for (const c of i.columns) console.log(`${indent}  col ${fmtTag(c.tag)} ib ${c.ibData} cb ${c.cbData} iBit ${c.iBit}`);
      let n = 0;
      for await (const r of tc.rows()) {
        if (n++ >= maxRows) { console.log(`${indent}  … ${tc.rowIndex.length - maxRows} more rows`); break; }
        console.log(`${indent}  row ${hex(r.dwRowID)}:`);
        for (const [tag, c] of r.cells) console.log(`${indent}    ${fmtTag(tag)} = ${fmtValue(c.value)}`);
      }
    } else console.log(`${indent}heap with bClientSig ${hex(sig, 2)}`);
  } else if (size) {
    console.log(`${indent}raw: ${Buffer.from(blocks[0].subarray(0, 64)).toString('hex')}${size > 64 ? '…' : ''}`);
  }
  if (depth < 4) {
    for (const s of subs.values()) {
      console.log(`${indent}subnode ${nidHex(s.nid)} ${typeName(s.nid)} bidData ${hex(s.bidData, 1)} bidSub ${hex(s.bidSub, 1)}`);
      await describe(ndb, s, indent + '    ', maxRows, depth + 1);
    }
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith('--'));
  const mr = args.indexOf('--max-rows');
  const maxRows = mr >= 0 ? Number(args[mr + 1]) : 50;
  if (!file) { console.error('usage: pst-nodes.ts FILE.pst [--max-rows N]'); process.exit(2); }
  const ndb = await NdbReader.openFile(file);
  try {
    const h = ndb.header;
    console.log(`${file}: wVer ${h.wVer} (${h.format.ansi ? 'ANSI' : 'Unicode'}) bCryptMethod ${h.bCryptMethod} NBT root ${hex(h.root.nbt.ib, 1)} BBT root ${hex(h.root.bbt.ib, 1)}`);
    let count = 0;
    for await (const e of ndb.nodes()) {
      count++;
      console.log(`\nnode ${nidHex(e.nid)} ${typeName(e.nid)} parent ${nidHex(e.nidParent)} bidData ${hex(e.bidData, 1)} bidSub ${hex(e.bidSub, 1)}`);
      try { await describe(ndb, e, '  ', maxRows); } catch (err) { console.log(`  ERROR ${(err as Error).message}`); }
    }
    console.log(`\n${count} nodes`);
    const map = await readNameIdMap(ndb);
    console.log(`\nname-to-id map: ${map.bucketCount} buckets, ${map.guids.length} GUID(s) in the GUID stream, ${map.entries.length} entries`);
    for (const g of map.guids) console.log(`  guid ${g}`);
    for (const e of map.entries) console.log(`  ${hex(e.propId, 4)} <- ${e.key.guid} ${e.key.name !== undefined ? 'name ' + JSON.stringify(e.key.name) : 'lid ' + hex(e.key.lid!, 4)} (wGuid ${e.wGuid})`);
  } finally {
    await ndb.close();
  }
}

main().catch((err) => { console.error(err); process.exit(1); });
