/**
 * HEADER and ROOT checks (MS-PST 2.2.2.6 HEADER, 2.2.2.5 ROOT): magic numbers, both CRCs
 * (dwCRCPartial over 471 bytes from offset 8, dwCRCFull over 516 bytes from offset 8, Unicode
 * only), wVer, bSentinel, bCryptMethod, fAMapValid, and the ROOT's file-size fields.
 * The cross-checks that need the B-trees (bidNextB/P, rgnid, cbAMapFree) live with those checks.
 */
import { AMAP_INTERVAL, FIRST_AMAP_OFFSET, HDR, HEADER_CRC_FULL_LENGTH, HEADER_CRC_PARTIAL_LENGTH, HEADER_CRC_START, HEADER_MAGIC, HEADER_SENTINEL, MAGIC_CLIENT_PST } from '../ndb/constants';
import { computeCrc } from '../ndb/crc';
import { PstReadError } from '../ndb/read-error';
import { parseHeader, MAGIC_CLIENT_OST, type PstHeader } from '../ndb/read-header';
import { hex, type FindingSink } from './types';

const ANSI_CRYPT_OFFSET = 461;
const ANSI_SENTINEL_OFFSET = 460;

/**
 * Checks the header bytes (the first 564, or fewer for a short file) and returns the parsed
 * header, or undefined when the file cannot be read as a PST at all (bad magic, unknown wVer,
 * unknown bCryptMethod): then the rest of the check is skipped.
 */
export function checkHeader(bytes: Uint8Array, fileSize: number, sink: FindingSink): PstHeader | undefined {
  if (bytes.length < 512) {
    sink.add('FileUnreadable', `file is ${fileSize} bytes, shorter than a PST header (512/564 bytes, MS-PST 2.2.2.6)`, { offset: 0 });
    return undefined;
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = v.getUint32(0, true);
  if (magic !== HEADER_MAGIC) {
    sink.add('HeaderMagic', `HEADER dwMagic at 0x0 is ${hex(magic)}, expected 0x4e444221 "!BDN" (MS-PST 2.2.2.6)`, { offset: 0 });
    return undefined;
  }
  const client = v.getUint16(HDR.wMagicClient, true);
  if (client !== MAGIC_CLIENT_PST && client !== MAGIC_CLIENT_OST) {
    sink.add('HeaderMagic', `HEADER wMagicClient at 0x8 is ${hex(client)}, expected 0x4d53 "SM" (MS-PST 2.2.2.6)`, { offset: HDR.wMagicClient });
  }
  const wVer = v.getUint16(HDR.wVer, true);
  const ansi = wVer === 14 || wVer === 15;
  if (!ansi && wVer !== 23) {
    sink.add('HeaderVersion', `HEADER wVer at 0xa is ${wVer}; only 14/15 (ANSI) and 23 (Unicode) PSTs are supported (MS-PST 2.2.2.6)`, { offset: HDR.wVer });
    if (wVer < 23 || wVer >= 36) return undefined;
  }
  if (!ansi && bytes.length < 564) {
    sink.add('FileUnreadable', `file is ${fileSize} bytes, shorter than a Unicode header (564 bytes, MS-PST 2.2.2.6)`, { offset: 0 });
    return undefined;
  }
  const partial = computeCrc(bytes, HEADER_CRC_START, HEADER_CRC_START + HEADER_CRC_PARTIAL_LENGTH);
  const storedPartial = v.getUint32(4, true);
  if (partial !== storedPartial) {
    sink.add('HeaderCrcPartial', `HEADER dwCRCPartial at 0x4 is ${hex(storedPartial)}, the CRC of 471 bytes from offset 8 is ${hex(partial)} (MS-PST 2.2.2.6, 5.3)`, { offset: 4 });
  }
  if (!ansi) {
    const full = computeCrc(bytes, HEADER_CRC_START, HEADER_CRC_START + HEADER_CRC_FULL_LENGTH);
    const storedFull = v.getUint32(HDR.dwCRCFull, true);
    if (full !== storedFull) {
      sink.add('HeaderCrcFull', `HEADER dwCRCFull at 0x20c is ${hex(storedFull)}, the CRC of 516 bytes from offset 8 is ${hex(full)} (MS-PST 2.2.2.6, 5.3)`, { offset: HDR.dwCRCFull });
    }
  }
  const sentinelAt = ansi ? ANSI_SENTINEL_OFFSET : HDR.bSentinel;
  if (bytes[sentinelAt] !== HEADER_SENTINEL) {
    sink.add('HeaderSentinel', `HEADER bSentinel at ${hex(sentinelAt)} is ${hex(bytes[sentinelAt])}, expected 0x80 (MS-PST 2.2.2.6)`, { offset: sentinelAt });
  }
  const cryptAt = ansi ? ANSI_CRYPT_OFFSET : HDR.bCryptMethod;
  if (bytes[cryptAt] > 2) {
    sink.add('HeaderCryptMethod', `HEADER bCryptMethod at ${hex(cryptAt)} is ${bytes[cryptAt]}, expected 0 (none), 1 (permute) or 2 (cyclic) (MS-PST 2.2.2.6); blocks cannot be decoded`, { offset: cryptAt });
    return undefined;
  }
  let header: PstHeader;
  try {
    header = parseHeader(bytes, false);
  } catch (err) {
    sink.add('FileUnreadable', `HEADER cannot be parsed: ${err instanceof PstReadError ? err.message : String(err)} (MS-PST 2.2.2.6)`, { offset: 0 });
    return undefined;
  }
  const r = header.root;
  if (r.fAMapValid !== 1 && r.fAMapValid !== 2) {
    sink.add('AMapInvalid', `ROOT fAMapValid at ${hex(r.offset + (ansi ? 36 : 68))} is ${r.fAMapValid}: the allocation maps are marked invalid and Outlook rebuilds them (MS-PST 2.2.2.5); AMap checks skipped`, { offset: r.offset }, r.fAMapValid === 0 ? 'warning' : 'error');
  }
  const eof = Number(r.ibFileEof);
  if (eof > fileSize) {
    sink.add('FileEof', `ROOT ibFileEof is ${eof} but the file has ${fileSize} bytes (MS-PST 2.2.2.5): the file was truncated`, { offset: r.offset });
  } else if (!ansi && (eof < FIRST_AMAP_OFFSET + AMAP_INTERVAL || (eof - FIRST_AMAP_OFFSET) % AMAP_INTERVAL !== 0)) {
    sink.add('FileEof', `ROOT ibFileEof is ${eof}, not 0x4400 + n × 253952 (a whole number of AMap intervals, MS-PST 2.2.2.5, 2.2.2.7.2)`, { offset: r.offset });
  }
  const lastStart = eof <= FIRST_AMAP_OFFSET ? FIRST_AMAP_OFFSET : FIRST_AMAP_OFFSET + Math.floor((eof - FIRST_AMAP_OFFSET - 1) / AMAP_INTERVAL) * AMAP_INTERVAL;
  if (Number(r.ibAMapLast) !== lastStart) {
    sink.add('AMapLast', `ROOT ibAMapLast is ${hex(Number(r.ibAMapLast))}, expected ${hex(lastStart)} (the last AMap page before ibFileEof ${hex(eof)}, MS-PST 2.2.2.5)`, { offset: r.offset });
  }
  return header;
}
