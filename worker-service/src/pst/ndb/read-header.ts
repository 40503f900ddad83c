/**
 * HEADER and ROOT parsing (MS-PST 2.2.2.5 ROOT, 2.2.2.6 HEADER), Unicode (wVer 23) and ANSI
 * (wVer 14/15). The header is the first 564 (Unicode) / 512 (ANSI) bytes of the file.
 */
import { HEADER_MAGIC, MAGIC_CLIENT_PST, VER_UNICODE, VER_UNICODE_4K, HEADER_CRC_START, HEADER_CRC_PARTIAL_LENGTH, HEADER_CRC_FULL_LENGTH, HDR, ROOT, HEADER_SIZE_UNICODE } from './constants';
import { computeCrc } from './crc';
import { CryptMethod } from './crypt';
import { PstReadError } from './read-error';
import { ANSI_FORMAT, UNICODE_FORMAT, readBref, readId, viewOf, type Bref, type NdbFormat } from './read-format';

/** wMagicClient of an OST ("SO"); readable with the same layout. */
export const MAGIC_CLIENT_OST = 0x4f53;

/** The ROOT structure (MS-PST 2.2.2.5). Offsets and sizes in bytes. */
export interface PstRoot {
  /** File offset of ROOT inside the header. */
  readonly offset: number;
  readonly ibFileEof: bigint;
  readonly ibAMapLast: bigint;
  readonly cbAMapFree: bigint;
  readonly cbPMapFree: bigint;
  /** Root page of the Node BTree. */
  readonly nbt: Bref;
  /** Root page of the Block BTree. */
  readonly bbt: Bref;
  /** 0 invalid, 1/2 valid (VALID_AMAP1/VALID_AMAP2). */
  readonly fAMapValid: number;
}

/** The HEADER (MS-PST 2.2.2.6) with both CRCs as stored and as computed. */
export interface PstHeader {
  readonly format: NdbFormat;
  readonly wMagicClient: number;
  readonly wVer: number;
  readonly wVerClient: number;
  readonly bPlatformCreate: number;
  readonly bPlatformAccess: number;
  readonly bidNextB: bigint;
  readonly bidNextP: bigint;
  readonly dwUnique: number;
  /** rgnid[32]: next nidIndex per nidType. */
  readonly rgnid: readonly number[];
  readonly root: PstRoot;
  readonly bSentinel: number;
  readonly bCryptMethod: CryptMethod;
  readonly dwCRCPartial: number;
  readonly crcPartialComputed: number;
  /** Unicode only (undefined for ANSI). */
  readonly dwCRCFull?: number;
  readonly crcFullComputed?: number;
}

/** Bytes to read at offset 0 to parse any header. */
export const HEADER_READ_SIZE = HEADER_SIZE_UNICODE;

/** ANSI HEADER offsets (MS-PST 2.2.2.6, ANSI layout). */
const HDR_ANSI = { bidNextB: 24, bidNextP: 28, dwUnique: 32, rgnid: 36, root: 164, bSentinel: 460, bCryptMethod: 461 } as const;
/** ANSI ROOT offsets relative to the ROOT (MS-PST 2.2.2.5, ANSI layout). */
const ROOT_ANSI = { ibFileEof: 4, ibAMapLast: 8, cbAMapFree: 12, cbPMapFree: 16, BREFNBT: 20, BREFBBT: 28, fAMapValid: 36 } as const;

/**
 * Parses the header from the first bytes of a file (at least 512 for ANSI, 564 for Unicode).
 * @param verifyCrc  when true (default), a wrong dwCRCPartial/dwCRCFull throws "HeaderCrcMismatch"
 * @throws PstReadError "Truncated", "BadHeaderMagic", "BadClientMagic", "UnsupportedVersion",
 *   "HeaderCrcMismatch", "UnsupportedCryptMethod" */
export function parseHeader(bytes: Uint8Array, verifyCrc = true): PstHeader {
  if (bytes.length < 512) throw new PstReadError('Truncated', 'file shorter than a PST header', { fileSize: bytes.length });
  const v = viewOf(bytes);
  const magic = v.getUint32(HDR.dwMagic, true);
  if (magic !== HEADER_MAGIC) throw new PstReadError('BadHeaderMagic', 'dwMagic is not "!BDN" (MS-PST 2.2.2.6)', { offset: 0, found: '0x' + magic.toString(16) });
  const wMagicClient = v.getUint16(HDR.wMagicClient, true);
  if (wMagicClient !== MAGIC_CLIENT_PST && wMagicClient !== MAGIC_CLIENT_OST) {
    throw new PstReadError('BadClientMagic', 'wMagicClient is neither "SM" (PST) nor "SO" (OST)', { offset: HDR.wMagicClient, found: wMagicClient });
  }
  const wVer = v.getUint16(HDR.wVer, true);
  let fmt: NdbFormat;
  if (wVer === 14 || wVer === 15) fmt = ANSI_FORMAT;
  else if (wVer >= VER_UNICODE && wVer < VER_UNICODE_4K) fmt = UNICODE_FORMAT;
  else throw new PstReadError('UnsupportedVersion', wVer === VER_UNICODE_4K ? 'wVer 36 (4K pages, OST) is not supported' : 'unknown wVer', { offset: HDR.wVer, wVer });
  if (!fmt.ansi && bytes.length < HEADER_SIZE_UNICODE) throw new PstReadError('Truncated', 'file shorter than a Unicode header', { fileSize: bytes.length });

  const dwCRCPartial = v.getUint32(HDR.dwCRCPartial, true);
  const crcPartialComputed = computeCrc(bytes, HEADER_CRC_START, HEADER_CRC_START + HEADER_CRC_PARTIAL_LENGTH);
  if (verifyCrc && dwCRCPartial !== crcPartialComputed) {
    throw new PstReadError('HeaderCrcMismatch', 'dwCRCPartial does not match the header bytes', { offset: HDR.dwCRCPartial, stored: dwCRCPartial, computed: crcPartialComputed });
  }
  let dwCRCFull: number | undefined;
  let crcFullComputed: number | undefined;
  if (!fmt.ansi) {
    dwCRCFull = v.getUint32(HDR.dwCRCFull, true);
    crcFullComputed = computeCrc(bytes, HEADER_CRC_START, HEADER_CRC_START + HEADER_CRC_FULL_LENGTH);
    if (verifyCrc && dwCRCFull !== crcFullComputed) {
      throw new PstReadError('HeaderCrcMismatch', 'dwCRCFull does not match the header bytes', { offset: HDR.dwCRCFull, stored: dwCRCFull, computed: crcFullComputed });
    }
  }

  const o = fmt.ansi
    ? { bidNextB: HDR_ANSI.bidNextB, bidNextP: HDR_ANSI.bidNextP, dwUnique: HDR_ANSI.dwUnique, rgnid: HDR_ANSI.rgnid, root: HDR_ANSI.root, bSentinel: HDR_ANSI.bSentinel, bCryptMethod: HDR_ANSI.bCryptMethod }
    : { bidNextB: HDR.bidNextB, bidNextP: HDR.bidNextP, dwUnique: HDR.dwUnique, rgnid: HDR.rgnid, root: HDR.root, bSentinel: HDR.bSentinel, bCryptMethod: HDR.bCryptMethod };
  const r = fmt.ansi ? ROOT_ANSI : { ibFileEof: ROOT.ibFileEof, ibAMapLast: ROOT.ibAMapLast, cbAMapFree: ROOT.cbAMapFree, cbPMapFree: ROOT.cbPMapFree, BREFNBT: ROOT.BREFNBT, BREFBBT: ROOT.BREFBBT, fAMapValid: ROOT.fAMapValid };
  const rgnid: number[] = [];
  for (let i = 0; i < 32; i++) rgnid.push(v.getUint32(o.rgnid + 4 * i, true));
  const bCryptMethod = v.getUint8(o.bCryptMethod);
  if (bCryptMethod !== CryptMethod.None && bCryptMethod !== CryptMethod.Permute && bCryptMethod !== CryptMethod.Cyclic) {
    throw new PstReadError('UnsupportedCryptMethod', 'bCryptMethod is not 0, 1 or 2 (MS-PST 2.2.2.6)', { offset: o.bCryptMethod, bCryptMethod });
  }
  const ro = o.root;
  return {
    format: fmt,
    wMagicClient,
    wVer,
    wVerClient: v.getUint16(HDR.wVerClient, true),
    bPlatformCreate: v.getUint8(HDR.bPlatformCreate),
    bPlatformAccess: v.getUint8(HDR.bPlatformAccess),
    bidNextB: readId(v, o.bidNextB, fmt),
    bidNextP: readId(v, o.bidNextP, fmt),
    dwUnique: v.getUint32(o.dwUnique, true),
    rgnid,
    root: {
      offset: ro,
      ibFileEof: readId(v, ro + r.ibFileEof, fmt),
      ibAMapLast: readId(v, ro + r.ibAMapLast, fmt),
      cbAMapFree: readId(v, ro + r.cbAMapFree, fmt),
      cbPMapFree: readId(v, ro + r.cbPMapFree, fmt),
      nbt: readBref(v, ro + r.BREFNBT, fmt),
      bbt: readBref(v, ro + r.BREFBBT, fmt),
      fAMapValid: v.getUint8(ro + r.fAMapValid),
    },
    bSentinel: v.getUint8(o.bSentinel),
    bCryptMethod: bCryptMethod as CryptMethod,
    dwCRCPartial,
    crcPartialComputed,
    dwCRCFull,
    crcFullComputed,
  };
}
