/**
 * Block checks (MS-PST 2.2.2.8) over every BBT entry, read in file order: placement (inside the
 * file, 64-byte aligned, within one AMap interval), BLOCKTRAILER (2.2.2.8.1: cb as the BBT says,
 * bid, wSig = ComputeSig(ib, bid), dwCRC over the stored — encoded — cb bytes), internal blocks
 * (XBLOCK/XXBLOCK 2.2.2.8.3.2, SLBLOCK/SIBLOCK 2.2.2.8.3.3: btype, cLevel, cEnt, lcbTotal, key
 * order), and the BBT reference counts: cRef = references from NBT entries (bidData, bidSub),
 * XBLOCK/XXBLOCK entries and SLBLOCK/SIBLOCK entries, plus one (MS-PST 2.2.2.7.7.3; Outlook's own
 * files follow this "+1" rule, see docs/pst-format-notes.md).
 */
import { AMAP_INTERVAL, FIRST_AMAP_OFFSET, MAX_BLOCK_SIZE } from '../ndb/constants';
import { computeCrc } from '../ndb/crc';
import { computeSig, readU64 } from '../ndb/bytes';
import { blockSizeOnDisk } from '../ndb/read-block';
import { WindowReader, type CheckContext } from './context';
import { BlockKind } from './tables';
import { hex } from './types';

/** Entries per internal block (Unicode / ANSI), MS-PST 2.2.2.8.3.2-3. */
const XBLOCK_MAX = { unicode: 1021, ansi: 2042 };

function u32(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}
function id(b: Uint8Array, o: number, size: number): number {
  return size === 8 ? readU64(b, o) : u32(b, o);
}

const KIND_NAME: Record<number, string> = { 0: 'unknown', 1: 'data block', 2: 'XBLOCK', 3: 'XXBLOCK', 4: 'SLBLOCK', 5: 'SIBLOCK', 6: 'unreadable block' };

/** Pass over every block in file order; fills kind, lcb and refs of the block table. */
export async function checkBlocks(ctx: CheckContext): Promise<void> {
  const { blocks, fmt, sink, source } = ctx;
  blocks.ensureSorted();
  const order = blocks.byOffset();
  ctx.blocksByOffset = order;
  const reader = new WindowReader(source);
  const ts = fmt.blockTrailerSize;
  const idSize = fmt.idSize;
  let maxBid = 0;
  const ref = (bid: number, from: string, where: { offset?: number; bid?: number; nid?: number }) => {
    if (bid === 0) return -1;
    const j = blocks.find(bid);
    if (j < 0) {
      sink.add('BlockMissing', `${from} names block ${hex(bid)}, which is not in the BBT (MS-PST 2.2.2.7.7.3)`, where);
      return -1;
    }
    blocks.refs[j]++;
    return j;
  };
  for (let n = 0; n < order.length; n++) {
    sink.tick();
    const i = order[n];
    const bid = blocks.bid[i], ib = blocks.ib[i], cb = blocks.cb[i];
    if (bid > maxBid) maxBid = bid;
    const where = { offset: ib, bid };
    if (bid === 0) sink.add('BlockBidZero', `BBT entry at ${hex(ib)} has BID 0 (MS-PST 2.2.2.2)`, where);
    const size = blockSizeOnDisk(cb, fmt);
    if (size > MAX_BLOCK_SIZE) {
      sink.add('BlockTrailer', `block ${hex(bid)}: BBT cb ${cb} makes a block of ${size} bytes, more than 8192 (MS-PST 2.2.2.8)`, where);
      blocks.kind[i] = BlockKind.Bad;
      continue;
    }
    if (!Number.isSafeInteger(ib) || ib < FIRST_AMAP_OFFSET || ib + size > source.size) {
      sink.add('BlockOutOfFile', `block ${hex(bid)} at ${hex(ib)} (${size} bytes) is not inside the file's data area [0x4400, ${source.size}) (MS-PST 2.2.2.8)`, where);
      blocks.kind[i] = BlockKind.Bad;
      continue;
    }
    if (ib % 64 !== 0) sink.add('BlockAlignment', `block ${hex(bid)} at ${hex(ib)} is not 64-byte aligned (MS-PST 2.2.2.8)`, where);
    const k0 = Math.floor((ib - FIRST_AMAP_OFFSET) / AMAP_INTERVAL), k1 = Math.floor((ib + size - 1 - FIRST_AMAP_OFFSET) / AMAP_INTERVAL);
    if (k0 !== k1) sink.add('BlockCrossesInterval', `block ${hex(bid)} at ${hex(ib)} (${size} bytes) crosses the AMap interval boundary at ${hex(FIRST_AMAP_OFFSET + k1 * AMAP_INTERVAL)} (MS-PST 2.2.2.7.2)`, where);
    const bytes = await reader.get(ib, size);
    const t = size - ts;
    const tcb = bytes[t] | (bytes[t + 1] << 8);
    const wSig = bytes[t + 2] | (bytes[t + 3] << 8);
    const dwCRC = fmt.ansi ? u32(bytes, t + 8) : u32(bytes, t + 4);
    const tbid = fmt.ansi ? u32(bytes, t + 4) : readU64(bytes, t + 8);
    if (tcb !== cb) sink.add('BlockTrailer', `block ${hex(bid)} at ${hex(ib)}: BLOCKTRAILER cb ${tcb}, the BBT says ${cb} (MS-PST 2.2.2.8.1)`, where);
    if (tbid !== bid) sink.add('BlockTrailer', `block at ${hex(ib)}: BLOCKTRAILER bid ${hex(tbid)}, the BBT says ${hex(bid)} (MS-PST 2.2.2.8.1)`, where);
    const sig = computeSig(ib, bid);
    if (wSig !== sig) sink.add('BlockSignature', `block ${hex(bid)} at ${hex(ib)}: BLOCKTRAILER wSig ${hex(wSig)}, ComputeSig(ib, bid) is ${hex(sig)} (MS-PST 2.2.2.8.1, 5.5)`, where);
    const crc = computeCrc(bytes, 0, Math.min(cb, t));
    if (crc !== dwCRC) sink.add('BlockCrc', `block ${hex(bid)} at ${hex(ib)}: BLOCKTRAILER dwCRC ${hex(dwCRC)}, the CRC of its ${cb} stored bytes is ${hex(crc)} (MS-PST 2.2.2.8.1, 5.3)`, where);

    if ((bid & 2) === 0) { blocks.kind[i] = BlockKind.Data; continue; }
    // Internal block (MS-PST 2.2.2.8.3): never encoded.
    const btype = bytes[0], cLevel = bytes[1], cEnt = bytes[2] | (bytes[3] << 8);
    if (cb < 8 && !(fmt.ansi && btype === 2 && cb >= 4)) {
      sink.add('InternalBlock', `internal block ${hex(bid)} at ${hex(ib)} has cb ${cb}, shorter than its header (MS-PST 2.2.2.8.3)`, where);
      blocks.kind[i] = BlockKind.Bad;
      continue;
    }
    if (btype === 1 && (cLevel === 1 || cLevel === 2)) {
      const lcbTotal = u32(bytes, 4);
      const max = fmt.ansi ? XBLOCK_MAX.ansi : XBLOCK_MAX.unicode;
      if (8 + cEnt * idSize > cb || cEnt > max || cEnt === 0) {
        sink.add('InternalBlock', `${cLevel === 1 ? 'XBLOCK' : 'XXBLOCK'} ${hex(bid)} at ${hex(ib)}: cEnt ${cEnt} does not fit cb ${cb} (1..${max} entries of ${idSize} bytes after an 8-byte header, MS-PST 2.2.2.8.3.2)`, where);
        blocks.kind[i] = BlockKind.Bad;
        continue;
      }
      blocks.kind[i] = cLevel === 1 ? BlockKind.XBlock : BlockKind.XXBlock;
      blocks.lcb[i] = lcbTotal;
      for (let e = 0; e < cEnt; e++) ref(id(bytes, 8 + e * idSize, idSize), `${cLevel === 1 ? 'XBLOCK' : 'XXBLOCK'} ${hex(bid)} entry ${e}`, where);
    } else if (btype === 2 && (cLevel === 0 || cLevel === 1)) {
      const es = cLevel === 0 ? fmt.slEntrySize : fmt.siEntrySize;
      const h = fmt.slHeaderSize;
      const what = cLevel === 0 ? 'SLBLOCK' : 'SIBLOCK';
      if (h + cEnt * es > cb || cEnt === 0) {
        sink.add('InternalBlock', `${what} ${hex(bid)} at ${hex(ib)}: cEnt ${cEnt} does not fit cb ${cb} (entries of ${es} bytes after a ${h}-byte header, MS-PST 2.2.2.8.3.3)`, where);
        blocks.kind[i] = BlockKind.Bad;
        continue;
      }
      blocks.kind[i] = cLevel === 0 ? BlockKind.SlBlock : BlockKind.SiBlock;
      let prevNid = -1;
      for (let e = 0; e < cEnt; e++) {
        const o = h + e * es;
        const nid = u32(bytes, o);
        if (nid <= prevNid) sink.add('SubnodeKeyOrder', `${what} ${hex(bid)} at ${hex(ib)}: entry ${e} nid ${hex(nid)} is not greater than the previous ${hex(prevNid)} (MS-PST 2.2.2.8.3.3)`, where);
        prevNid = nid;
        if (cLevel === 0) {
          ref(id(bytes, o + idSize, idSize), `SLBLOCK ${hex(bid)} entry ${e} (nid ${hex(nid)}) bidData`, where);
          ref(id(bytes, o + 2 * idSize, idSize), `SLBLOCK ${hex(bid)} entry ${e} (nid ${hex(nid)}) bidSub`, where);
        } else {
          ref(id(bytes, o + idSize, idSize), `SIBLOCK ${hex(bid)} entry ${e}`, where);
        }
      }
    } else {
      sink.add('InternalBlock', `internal block ${hex(bid)} at ${hex(ib)}: btype ${btype} cLevel ${cLevel} is neither an XBLOCK/XXBLOCK (1, 1-2) nor an SLBLOCK/SIBLOCK (2, 0-1) (MS-PST 2.2.2.8.3)`, where);
      blocks.kind[i] = BlockKind.Bad;
    }
  }
  if (ctx.header.bidNextB <= BigInt(maxBid)) {
    sink.add('BidNextB', `HEADER bidNextB ${hex(ctx.header.bidNextB)} is not greater than the highest block BID ${hex(maxBid)} (MS-PST 2.2.2.6)`, { offset: 0 });
  }

  // References from the NBT (MS-PST 2.2.2.7.7.4), with the kind each field must name.
  const { nodes } = ctx;
  for (let n = 0; n < nodes.length; n++) {
    sink.tick();
    const nid = nodes.nid[n];
    const d = ref(nodes.bidData[n], `NBT node ${hex(nid)} bidData`, { nid, bid: nodes.bidData[n] });
    if (d >= 0) {
      const k = blocks.kind[d];
      if (k !== BlockKind.Data && k !== BlockKind.XBlock && k !== BlockKind.XXBlock && k !== BlockKind.Bad) {
        sink.add('NodeBlockType', `NBT node ${hex(nid)} bidData ${hex(nodes.bidData[n])} names an ${KIND_NAME[k]}, expected a data block or XBLOCK/XXBLOCK (MS-PST 2.2.2.7.7.4)`, { nid, bid: nodes.bidData[n] });
      }
    }
    const s = ref(nodes.bidSub[n], `NBT node ${hex(nid)} bidSub`, { nid, bid: nodes.bidSub[n] });
    if (s >= 0) {
      const k = blocks.kind[s];
      if (k !== BlockKind.SlBlock && k !== BlockKind.SiBlock && k !== BlockKind.Bad) {
        sink.add('NodeBlockType', `NBT node ${hex(nid)} bidSub ${hex(nodes.bidSub[n])} names a ${KIND_NAME[k]}, expected an SLBLOCK/SIBLOCK (MS-PST 2.2.2.7.7.4)`, { nid, bid: nodes.bidSub[n] });
      }
    }
  }

  // Second look at XBLOCK/XXBLOCK/SIBLOCK children (few: one per stream > 8 KB or per 340 subnodes).
  for (let i = 0; i < blocks.length; i++) {
    const k = blocks.kind[i];
    if (k !== BlockKind.XBlock && k !== BlockKind.XXBlock && k !== BlockKind.SiBlock) continue;
    sink.tick();
    const bid = blocks.bid[i], ib = blocks.ib[i], cb = blocks.cb[i];
    const bytes = await source.read(ib, cb);
    const cEnt = bytes[2] | (bytes[3] << 8);
    const where = { offset: ib, bid };
    if (k === BlockKind.SiBlock) {
      for (let e = 0; e < cEnt; e++) {
        const child = blocks.find(id(bytes, fmt.slHeaderSize + e * fmt.siEntrySize + idSize, idSize));
        if (child >= 0 && blocks.kind[child] !== BlockKind.SlBlock && blocks.kind[child] !== BlockKind.Bad) {
          sink.add('InternalBlock', `SIBLOCK ${hex(bid)} entry ${e} names a ${KIND_NAME[blocks.kind[child]]}, expected an SLBLOCK (MS-PST 2.2.2.8.3.3.2)`, where);
        }
      }
      continue;
    }
    const want = k === BlockKind.XBlock ? BlockKind.Data : BlockKind.XBlock;
    let total = 0;
    let ok = true;
    for (let e = 0; e < cEnt; e++) {
      const child = blocks.find(id(bytes, 8 + e * idSize, idSize));
      if (child < 0) { ok = false; continue; }
      if (blocks.kind[child] !== want) {
        if (blocks.kind[child] !== BlockKind.Bad) sink.add('InternalBlock', `${KIND_NAME[k]} ${hex(bid)} entry ${e} names a ${KIND_NAME[blocks.kind[child]]}, expected a ${KIND_NAME[want]} (MS-PST 2.2.2.8.3.2)`, where);
        ok = false;
        continue;
      }
      total += want === BlockKind.Data ? blocks.cb[child] : blocks.lcb[child];
    }
    if (ok && total !== blocks.lcb[i]) {
      sink.add('DataTreeSize', `${KIND_NAME[k]} ${hex(bid)} at ${hex(ib)}: lcbTotal ${blocks.lcb[i]}, its entries hold ${total} bytes (MS-PST 2.2.2.8.3.2)`, where);
    }
  }

  // cRef = references + 1 (MS-PST 2.2.2.7.7.3).
  for (let i = 0; i < blocks.length; i++) {
    const want = blocks.refs[i] + 1;
    if (blocks.cRef[i] !== want) {
      sink.add('BbtRefCount', `BBT entry for block ${hex(blocks.bid[i])} at ${hex(blocks.ib[i])}: cRef ${blocks.cRef[i]}, expected ${want} (${blocks.refs[i]} reference(s) from the NBT and internal blocks, plus one; MS-PST 2.2.2.7.7.3)`, { offset: blocks.ib[i], bid: blocks.bid[i] });
    }
  }
}
