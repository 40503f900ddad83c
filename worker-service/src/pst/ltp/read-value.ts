/**
 * Property value decoding for PCs and TCs (MS-PST 2.3.3.4 value layouts; MS-OXCDATA 2.11 types):
 * bytes as stored → Outport's value shapes (see mapi/types.ts). PtypString8 is decoded with a
 * Windows code page through iconv-lite.
 */
import * as iconv from 'iconv-lite';
import { guidFromBytes } from '../../mapi/guid';
import { PropType, baseType, fixedSize, isMultiValued, type PropValue, type ScalarValue } from '../../mapi/types';
import { PstReadError } from '../ndb/read-error';
import { viewOf } from '../ndb/read-format';

/** Code page used when an item names none (Outlook's Western European default). */
export const DEFAULT_CODEPAGE = 1252;

/** The iconv-lite encoding name for a Windows code page number (65001 UTF-8, 1200 UTF-16LE…). */
export function encodingForCodepage(codepage: number): string {
  if (codepage === 65001) return 'utf8';
  if (codepage === 1200) return 'utf16le';
  if (codepage === 1201) return 'utf16be';
  if (codepage === 20127) return 'ascii';
  const name = 'cp' + codepage;
  return iconv.encodingExists(name) ? name : 'cp' + DEFAULT_CODEPAGE;
}

/** Decodes PtypString8 bytes with a code page; a trailing NUL is dropped. */
export function decodeString8(bytes: Uint8Array, codepage: number): string {
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  return iconv.decode(Buffer.from(bytes.buffer, bytes.byteOffset, end), encodingForCodepage(codepage));
}

/** Decodes PtypString (UTF-16LE) bytes; trailing NUL characters are dropped. */
export function decodeUtf16(bytes: Uint8Array): string {
  let end = bytes.length & ~1;
  while (end >= 2 && bytes[end - 1] === 0 && bytes[end - 2] === 0) end -= 2;
  return Buffer.from(bytes.buffer, bytes.byteOffset, end).toString('utf16le');
}

function scalar(type: PropType, b: Uint8Array, codepage: number): ScalarValue {
  const v = viewOf(b);
  const need = fixedSize(type);
  if (need > 0 && b.length < need) throw new PstReadError('BadPropertyValue', `value of type 0x${type.toString(16)} needs ${need} bytes`, { length: b.length });
  switch (type) {
    case PropType.Null: case PropType.Unspecified: return null;
    case PropType.Integer16: return v.getInt16(0, true);
    case PropType.Integer32: return v.getInt32(0, true);
    case PropType.Floating32: return v.getFloat32(0, true);
    case PropType.Floating64: case PropType.FloatingTime: return v.getFloat64(0, true);
    case PropType.ErrorCode: return v.getUint32(0, true);
    case PropType.Boolean: return b[0] !== 0;
    case PropType.Currency: case PropType.Integer64: return v.getBigInt64(0, true);
    case PropType.Time: return v.getBigUint64(0, true);
    case PropType.Guid: return guidFromBytes(b, 0);
    case PropType.String: return decodeUtf16(b);
    case PropType.String8: return decodeString8(b, codepage);
    default: return b.slice();
  }
}

/**
 * Decodes the stored bytes of a value of `type` (the bytes the HNID or the inline slot holds).
 * Multi-valued fixed types are packed arrays; multi-valued variable types (MultipleString,
 * MultipleString8, MultipleBinary) start with ulCount and rgulDataOffsets (MS-PST 2.3.3.4.2).
 * @throws PstReadError "BadPropertyValue" when lengths or offsets do not fit */
export function decodeValue(type: number, bytes: Uint8Array, codepage = DEFAULT_CODEPAGE): PropValue {
  if (!isMultiValued(type)) return scalar(type as PropType, bytes, codepage);
  const base = baseType(type);
  const size = fixedSize(base);
  if (size > 0) {
    if (bytes.length % size !== 0) throw new PstReadError('BadPropertyValue', 'multi-valued fixed-size value length is not a multiple of the element size', { type, length: bytes.length });
    const out: ScalarValue[] = [];
    for (let o = 0; o < bytes.length; o += size) out.push(scalar(base, bytes.subarray(o, o + size), codepage));
    return out as PropValue;
  }
  if (bytes.length === 0) return [] as string[];
  if (bytes.length < 4) throw new PstReadError('BadPropertyValue', 'multi-valued value shorter than ulCount', { type, length: bytes.length });
  const v = viewOf(bytes);
  const count = v.getUint32(0, true);
  if (4 + count * 4 > bytes.length) throw new PstReadError('BadPropertyValue', 'multi-valued ulCount passes the value', { type, count, length: bytes.length });
  const out: ScalarValue[] = [];
  for (let i = 0; i < count; i++) {
    const start = v.getUint32(4 + 4 * i, true);
    const end = i + 1 < count ? v.getUint32(8 + 4 * i, true) : bytes.length;
    if (start < 4 + count * 4 || start > end || end > bytes.length) throw new PstReadError('BadPropertyValue', 'multi-valued rgulDataOffsets out of order or range', { type, index: i, start, end });
    out.push(scalar(base, bytes.subarray(start, end), codepage));
  }
  return out as PropValue;
}

/** True when a PC keeps the value in dwValueHnid itself (types of ≤ 4 bytes; MS-PST 2.3.3.3). */
export function isInlineInPc(type: number): boolean {
  const s = fixedSize(type);
  return !isMultiValued(type) && (s > 0 && s <= 4);
}

/** True when a TC cell holds the value itself (fixed types of ≤ 8 bytes; else an HNID; MS-PST 2.3.4.4.1). */
export function isInlineInTc(type: number): boolean {
  const s = fixedSize(type);
  return !isMultiValued(type) && s > 0 && s <= 8;
}
