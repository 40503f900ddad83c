/**
 * Property values as the LTP layer stores them (MS-PST 2.3.3.4 "PC BTH Record" value formats,
 * MS-OXCDATA 2.11.1): little-endian fixed-size values, UTF-16LE strings without terminator,
 * PtypString8 in the item's code page, multi-valued fixed types packed, multi-valued variable
 * types as ulCount + rgulDataOffsets + data (MS-PST 2.3.3.4.2).
 */
import iconv from 'iconv-lite';
import { guidToBytes } from '../../mapi/guid';
import { PropType, fixedSize, isMultiValued, baseType, type PropValue } from '../../mapi/types';
import { writeU32 } from '../ndb/bytes';

/** Error for a value whose JavaScript shape does not match its property type. */
export class PropValueError extends Error {
  readonly code = 'PropValueShape';
  constructor(message: string) {
    super(message);
    this.name = 'PropValueError';
  }
}

/** Windows code page number → iconv-lite encoding name (1252 when unknown). */
export function codepageEncoding(codepage: number | undefined): string {
  if (!codepage) return 'windows-1252';
  if (codepage === 65001) return 'utf8';
  if (codepage === 1200) return 'utf16le';
  if (codepage === 20127) return 'ascii';
  if (codepage === 28591) return 'latin1';
  const name = codepage >= 28592 && codepage <= 28605 ? `iso-8859-${codepage - 28590}` : `cp${codepage}`;
  return iconv.encodingExists(name) ? name : 'windows-1252';
}

function shapeError(type: PropType, v: unknown): PropValueError {
  return new PropValueError(`value ${typeof v === 'object' ? Object.prototype.toString.call(v) : typeof v} does not fit property type 0x${type.toString(16)}`);
}

// scratch space for the bytes of floats and 64-bit integers (no allocation per value)
const F32 = new Float32Array(1);
const F64 = new Float64Array(1);
const B64 = new BigUint64Array(1);
const F32_BYTES = new Uint8Array(F32.buffer);
const F64_BYTES = new Uint8Array(F64.buffer);
const B64_BYTES = new Uint8Array(B64.buffer);
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

function copy8(src: Uint8Array, out: Uint8Array, o: number, n: number): void {
  if (LITTLE_ENDIAN) for (let i = 0; i < n; i++) out[o + i] = src[i];
  else for (let i = 0; i < n; i++) out[o + i] = src[n - 1 - i];
}

/**
 * Writes a fixed-size scalar value (MS-OXCDATA 2.11.1: PtypInteger16/32, PtypFloating32/64,
 * PtypFloatingTime, PtypErrorCode, PtypBoolean, PtypCurrency, PtypInteger64, PtypTime) little-endian
 * into `out` at `o`, taking {@link fixedSize} bytes; the same bytes {@link encodePropValue} returns.
 * @throws PropValueError when the value's shape does not match `type` or the type is not fixed-size ≤ 8
 */
export function writeFixedValue(out: Uint8Array, o: number, type: PropType, v: unknown): void {
  switch (type) {
    case PropType.Integer16:
      if (typeof v !== 'number') throw shapeError(type, v);
      out[o] = v & 0xff;
      out[o + 1] = (v >>> 8) & 0xff;
      return;
    case PropType.Integer32:
    case PropType.ErrorCode:
      if (typeof v !== 'number') throw shapeError(type, v);
      writeU32(out, o, v >>> 0);
      return;
    case PropType.Floating32:
      if (typeof v !== 'number') throw shapeError(type, v);
      F32[0] = v;
      copy8(F32_BYTES, out, o, 4);
      return;
    case PropType.Floating64:
    case PropType.FloatingTime:
      if (typeof v !== 'number') throw shapeError(type, v);
      F64[0] = v;
      copy8(F64_BYTES, out, o, 8);
      return;
    case PropType.Currency:
    case PropType.Integer64:
    case PropType.Time:
      if (typeof v !== 'bigint') throw shapeError(type, v);
      B64[0] = v; // stored modulo 2^64, as BigInt.asUintN(64, v)
      copy8(B64_BYTES, out, o, 8);
      return;
    case PropType.Boolean:
      if (typeof v !== 'boolean') throw shapeError(type, v);
      out[o] = v ? 1 : 0;
      return;
    default:
      throw new PropValueError(`property type 0x${type.toString(16)} is not a fixed-size scalar`);
  }
}

/** Strings shorter than this are encoded by a loop; longer ones by Buffer.from (native, but a call costs more). */
const SHORT_STRING = 96;

/** A string as UTF-16LE bytes without terminator (PtypString, MS-OXCDATA 2.11.1). */
export function utf16leBytes(s: string): Uint8Array {
  const n = s.length;
  if (n >= SHORT_STRING) return Buffer.from(s, 'utf16le');
  const out = new Uint8Array(n * 2);
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    out[2 * i] = c;
    out[2 * i + 1] = c >>> 8;
  }
  return out;
}

function scalarBytes(type: PropType, v: unknown, codepage: number | undefined): Uint8Array {
  switch (type) {
    case PropType.Integer16:
    case PropType.Boolean:
    case PropType.Integer32:
    case PropType.ErrorCode:
    case PropType.Floating32:
    case PropType.Floating64:
    case PropType.FloatingTime:
    case PropType.Currency:
    case PropType.Integer64:
    case PropType.Time: {
      const b = new Uint8Array(fixedSize(type));
      writeFixedValue(b, 0, type, v);
      return b;
    }
    case PropType.Guid:
      if (typeof v !== 'string') throw shapeError(type, v);
      return guidToBytes(v);
    case PropType.String:
      if (typeof v !== 'string') throw shapeError(type, v);
      return utf16leBytes(v);
    case PropType.String8:
      if (typeof v !== 'string') throw shapeError(type, v);
      return iconv.encode(v, codepageEncoding(codepage));
    case PropType.Binary:
    case PropType.ServerId:
    case PropType.Restriction:
    case PropType.RuleAction:
    case PropType.Object:
      if (!(v instanceof Uint8Array)) throw shapeError(type, v);
      return v;
    default:
      throw new PropValueError(`property type 0x${type.toString(16)} cannot be stored`);
  }
}

/**
 * Encodes a property value as stored in a PC or TC (MS-PST 2.3.3.4).
 * @param codepage  code page for PtypString8 values (PidTagMessageCodepage); 1252 when absent
 * @throws PropValueError when the value's shape does not match `type`
 */
export function encodePropValue(type: PropType, value: PropValue, codepage?: number): Uint8Array {
  if (!isMultiValued(type)) return scalarBytes(type, value, codepage);
  if (!Array.isArray(value)) throw new PropValueError(`multi-valued type 0x${type.toString(16)} needs an array`);
  const base = baseType(type);
  const parts = (value as unknown[]).map((v) => scalarBytes(base, v, codepage));
  if (fixedSize(base) > 0) return Buffer.concat(parts);
  // variable-size: ulCount, rgulDataOffsets[ulCount], then the values (offsets from the start)
  const head = 4 + 4 * parts.length;
  const out = new Uint8Array(head + parts.reduce((a, p) => a + p.length, 0));
  writeU32(out, 0, parts.length);
  let o = head;
  parts.forEach((p, i) => {
    writeU32(out, 4 + i * 4, o);
    out.set(p, o);
    o += p.length;
  });
  return out;
}

/** True when a PC stores the value inline in dwValueHnid (fixed size ≤ 4 bytes, MS-PST 2.3.3.3). */
export function isInlineInPc(type: PropType): boolean {
  const size = fixedSize(type);
  return size > 0 && size <= 4;
}
