/**
 * Global Object IDs (MS-OXOCAL 2.2.1.27 PidLidGlobalObjectId, 2.2.1.28 PidLidCleanGlobalObjectId) from
 * Graph's iCalUId: Exchange's iCalUId is the hex of the GOID itself; any other UID is wrapped in the
 * "vCal-Uid" form of 2.2.1.27.
 */

/** The GOID's fixed ByteArrayID (MS-OXOCAL 2.2.1.27). */
export const GOID_BYTE_ARRAY_ID = Uint8Array.of(0x04, 0x00, 0x00, 0x00, 0x82, 0x00, 0xe0, 0x00, 0x74, 0xc5, 0xb7, 0x10, 0x1a, 0x82, 0xe0, 0x08);
/** Offset of the instance date (YH, YL, M, D) inside a GOID. */
export const GOID_INSTANCE_DATE_OFFSET = 16;
/** Bytes before the Data field: ByteArrayID 16, date 4, CreationTime 8, X 8, Size 4. */
const GOID_HEADER_BYTES = 40;

/** True when `bytes` start with the GOID ByteArrayID and their Size field matches their length. */
export function isGoid(bytes: Uint8Array): boolean {
  if (bytes.length < GOID_HEADER_BYTES) return false;
  for (let i = 0; i < 16; i++) if (bytes[i] !== GOID_BYTE_ARRAY_ID[i]) return false;
  const size = new DataView(bytes.buffer, bytes.byteOffset + 36, 4).getUint32(0, true);
  return size === bytes.length - GOID_HEADER_BYTES;
}

/**
 * The clean GOID of an iCalUId (instance date zero): the decoded hex when it is a GOID, otherwise a
 * GOID whose Data is "vCal-Uid", 01 00 00 00, the UID's UTF-8 bytes and a 0 byte.
 */
export function goidFromICalUid(uid: string): Uint8Array {
  if (/^[0-9a-f]+$/i.test(uid) && uid.length % 2 === 0) {
    const bytes = Uint8Array.from(Buffer.from(uid, 'hex'));
    if (isGoid(bytes)) return withInstanceDate(bytes, undefined);
  }
  const data = Buffer.concat([Buffer.from('vCal-Uid', 'latin1'), Buffer.of(1, 0, 0, 0), Buffer.from(uid, 'utf8'), Buffer.of(0)]);
  const out = new Uint8Array(GOID_HEADER_BYTES + data.length);
  out.set(GOID_BYTE_ARRAY_ID, 0);
  new DataView(out.buffer).setUint32(36, data.length, true);
  out.set(data, GOID_HEADER_BYTES);
  return out;
}

/** A copy of `goid` with the instance date set (year, month 1-12, day) or cleared (undefined). */
export function withInstanceDate(goid: Uint8Array, date: { year: number; month: number; day: number } | undefined): Uint8Array {
  const out = goid.slice();
  out[16] = date ? (date.year >> 8) & 0xff : 0;
  out[17] = date ? date.year & 0xff : 0;
  out[18] = date ? date.month : 0;
  out[19] = date ? date.day : 0;
  return out;
}
