/**
 * Block parsing (MS-PST 2.2.2.8): the BLOCKTRAILER (2.2.2.8.1), data blocks and their decoding by
 * bCryptMethod, and the internal blocks: XBLOCK/XXBLOCK data trees (2.2.2.8.3.2) and
 * SLBLOCK/SIBLOCK subnode trees (2.2.2.8.3.3). Pure functions over bytes.
 */
import { BLOCK_ALIGN, BTYPE_SLBLOCK, BTYPE_XBLOCK, MAX_BLOCK_SIZE } from './constants';
import { computeCrc } from './crc';
import { cryptBlock, type CryptMethod } from './crypt';
import { PstReadError } from './read-error';
import { computeSignature, readId, viewOf, type Bref, type NdbFormat } from './read-format';

/** BLOCKTRAILER (MS-PST 2.2.2.8.1) plus the CRC computed over the stored payload. */
export interface BlockTrailer {
  /** Payload size in bytes. */
  readonly cb: number;
  readonly wSig: number;
  readonly dwCRC: number;
  readonly bid: bigint;
  readonly crcComputed: number;
}

/** A block as read: where, its trailer, and its payload (decoded for external blocks). */
export interface RawBlock {
  readonly bref: Bref;
  /** Bytes the block occupies on disk: cb + trailer rounded up to 64. */
  readonly sizeOnDisk: number;
  readonly trailer: BlockTrailer;
  /** True when BID bit 0x2 is set: an XBLOCK/XXBLOCK/SLBLOCK/SIBLOCK (never encoded). */
  readonly internal: boolean;
  /** The payload (cb bytes): decoded with bCryptMethod when external. */
  readonly data: Uint8Array;
}

/** Bytes a block with a `cb`-byte payload occupies on disk (MS-PST 2.2.2.8). */
export function blockSizeOnDisk(cb: number, fmt: NdbFormat): number {
  return Math.ceil((cb + fmt.blockTrailerSize) / BLOCK_ALIGN) * BLOCK_ALIGN;
}

/** True when the BID names an internal block (bit 0x2, MS-PST 2.2.2.2). */
export function isInternalBid(bid: bigint): boolean {
  return (bid & 2n) !== 0n;
}

/**
 * Parses and checks a block read from disk (`bytes` = the whole on-disk block).
 * @param cb  the payload size from the block's BBTENTRY
 * @throws PstReadError "BadBlockSize", "BlockCrcMismatch", "BlockBidMismatch", "BlockSignatureMismatch" */
export function parseBlock(bytes: Uint8Array, bref: Bref, cb: number, fmt: NdbFormat, crypt: CryptMethod, verifyCrc = true): RawBlock {
  const d = { offset: Number(bref.ib), bid: bref.bid };
  const size = bytes.length;
  if (size !== blockSizeOnDisk(cb, fmt) || size > MAX_BLOCK_SIZE) throw new PstReadError('BadBlockSize', 'block size does not fit cb', { ...d, cb, size });
  const v = viewOf(bytes);
  const t = size - fmt.blockTrailerSize;
  const tcb = v.getUint16(t, true);
  const wSig = v.getUint16(t + 2, true);
  const dwCRC = fmt.ansi ? v.getUint32(t + 8, true) : v.getUint32(t + 4, true);
  const tbid = fmt.ansi ? BigInt(v.getUint32(t + 4, true)) : v.getBigUint64(t + 8, true);
  const crcComputed = computeCrc(bytes, 0, Math.min(tcb, t));
  const trailer: BlockTrailer = { cb: tcb, wSig, dwCRC, bid: tbid, crcComputed };
  if (tcb !== cb) throw new PstReadError('BadBlockSize', 'BLOCKTRAILER cb differs from the BBT entry', { ...d, cb, trailerCb: tcb });
  if ((tbid & ~1n) !== (bref.bid & ~1n)) throw new PstReadError('BlockBidMismatch', 'BLOCKTRAILER bid differs from the BID looked up', { ...d, trailerBid: tbid });
  if (verifyCrc && dwCRC !== crcComputed) throw new PstReadError('BlockCrcMismatch', 'block dwCRC does not match its bytes', { ...d, stored: dwCRC, computed: crcComputed });
  if (verifyCrc && wSig !== computeSignature(bref.ib, bref.bid)) throw new PstReadError('BlockSignatureMismatch', 'block wSig is not the signature of (ib, bid) (MS-PST 5.5)', { ...d, wSig });
  const internal = isInternalBid(bref.bid);
  const data = bytes.slice(0, cb);
  if (!internal) cryptBlock(data, crypt, bref.bid, false);
  return { bref, sizeOnDisk: size, trailer, internal, data };
}

/** XBLOCK (cLevel 1) or XXBLOCK (cLevel 2) (MS-PST 2.2.2.8.3.2.1-2). lcbTotal is the stream size in bytes. */
export interface XBlock {
  readonly btype: number;
  readonly cLevel: 1 | 2;
  readonly cEnt: number;
  readonly lcbTotal: number;
  readonly rgbid: readonly bigint[];
}

/** SLENTRY (MS-PST 2.2.2.8.3.3.1.1): one subnode; bidSub 0 when it has no subnodes of its own. */
export interface SlEntry {
  readonly nid: number;
  readonly bidData: bigint;
  readonly bidSub: bigint;
}
/** SIENTRY (MS-PST 2.2.2.8.3.3.2.1): points to an SLBLOCK holding NIDs ≥ nid. */
export interface SiEntry {
  readonly nid: number;
  readonly bid: bigint;
}
/** SLBLOCK (cLevel 0) or SIBLOCK (cLevel 1) (MS-PST 2.2.2.8.3.3). */
export type SubnodeBlock =
  | { readonly btype: 2; readonly cLevel: 0; readonly cEnt: number; readonly entries: readonly SlEntry[] }
  | { readonly btype: 2; readonly cLevel: 1; readonly cEnt: number; readonly entries: readonly SiEntry[] };

/** Parses an XBLOCK/XXBLOCK payload. @throws PstReadError "BadInternalBlock" */
export function parseXBlock(data: Uint8Array, bid: bigint, fmt: NdbFormat): XBlock {
  const v = viewOf(data);
  if (data.length < 8) throw new PstReadError('BadInternalBlock', 'XBLOCK shorter than its header', { bid, cb: data.length });
  const btype = data[0], cLevel = data[1], cEnt = v.getUint16(2, true), lcbTotal = v.getUint32(4, true);
  if (btype !== BTYPE_XBLOCK || (cLevel !== 1 && cLevel !== 2)) throw new PstReadError('BadInternalBlock', 'not an XBLOCK/XXBLOCK (btype 0x01, cLevel 1 or 2)', { bid, btype, cLevel });
  if (8 + cEnt * fmt.idSize > data.length) throw new PstReadError('BadInternalBlock', 'XBLOCK cEnt passes the block', { bid, cEnt });
  const rgbid: bigint[] = [];
  for (let i = 0; i < cEnt; i++) rgbid.push(readId(v, 8 + i * fmt.idSize, fmt));
  return { btype, cLevel, cEnt, lcbTotal, rgbid };
}

/** Parses an SLBLOCK/SIBLOCK payload. @throws PstReadError "BadInternalBlock" */
export function parseSubnodeBlock(data: Uint8Array, bid: bigint, fmt: NdbFormat): SubnodeBlock {
  const v = viewOf(data);
  if (data.length < fmt.slHeaderSize) throw new PstReadError('BadInternalBlock', 'SLBLOCK shorter than its header', { bid, cb: data.length });
  const btype = data[0], cLevel = data[1], cEnt = v.getUint16(2, true);
  if (btype !== BTYPE_SLBLOCK || (cLevel !== 0 && cLevel !== 1)) throw new PstReadError('BadInternalBlock', 'not an SLBLOCK/SIBLOCK (btype 0x02, cLevel 0 or 1)', { bid, btype, cLevel });
  const es = cLevel === 0 ? fmt.slEntrySize : fmt.siEntrySize;
  const h = fmt.slHeaderSize;
  if (h + cEnt * es > data.length) throw new PstReadError('BadInternalBlock', 'SLBLOCK cEnt passes the block', { bid, cEnt });
  const id = fmt.idSize;
  if (cLevel === 0) {
    const entries: SlEntry[] = [];
    for (let i = 0; i < cEnt; i++) {
      const o = h + i * es;
      entries.push({ nid: v.getUint32(o, true), bidData: readId(v, o + id, fmt), bidSub: readId(v, o + 2 * id, fmt) });
    }
    return { btype: 2, cLevel: 0, cEnt, entries };
  }
  const entries: SiEntry[] = [];
  for (let i = 0; i < cEnt; i++) {
    const o = h + i * es;
    entries.push({ nid: v.getUint32(o, true), bid: readId(v, o + id, fmt) });
  }
  return { btype: 2, cLevel: 1, cEnt, entries };
}
