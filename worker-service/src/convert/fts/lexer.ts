/**
 * The lexical layer of FastTransfer streams (MS-OXCFXICS 2.2.4.1): a stream is a sequence of
 * elements, each a marker (a bare 32-bit tag, 2.2.4.1.4) or a propValue (2.2.4.1.1):
 *
 *   propValue  = propTag [namedPropInfo] value
 *   propTag    = uint32 LE (type in the low 16 bits, written first; id in the high 16 bits)
 *   namedPropInfo (id ≥ 0x8000) = GUID (16 bytes) (%x00 dispid:uint32 / %x01 name:UTF-16LE 00 00)
 *   fixed types: the value in its size (PtypBoolean takes 2 bytes here, not 1)
 *   variable types (strings, binaries, PtypServerId, PtypObject, code-page strings):
 *       length:uint32 bytes (strings include their terminating NUL)
 *   multi-valued: count:uint32, then each value (variable-size ones with their own length)
 *   code-page strings: type 0x8000 | code page (0x84B0 = UTF-16LE, 0x84E4 = Windows-1252)
 *
 * This layer knows no grammar: decode.ts assembles elements into a MapiItem.
 */
import type { NamedPropertyKey } from '../../mapi/named';
import { tagName } from '../../mapi/tags';
import { PropType, type PropValue, type ScalarValue } from '../../mapi/types';
import { CODEPAGE_UTF16LE, DEFAULT_CODEPAGE, decodeCodepageString } from './codepage';
import { FtsDecodeError } from './errors';
import { Marker, hexTag, markerName, metaTagName } from './markers';

/** A marker element. `offset` is its stream offset. */
export interface FtsMarker {
  readonly kind: 'marker';
  readonly offset: number;
  readonly tag: number;
  /** "StartRecip", "EndAttach"… */
  readonly name: string;
}

/** A propValue element. */
export interface FtsPropValue {
  readonly kind: 'prop';
  /** Stream offset of the tag; `end` is the offset just past the value. */
  readonly offset: number;
  readonly end: number;
  /** The tag as written (for code-page strings the type is 0x8000 | code page). */
  readonly tag: number;
  readonly id: number;
  /** Set for ids ≥ 0x8000 (named properties; the id itself is local to the stream). */
  readonly named?: NamedPropertyKey;
  /** The property's type in the MapiItem model: code-page strings become PtypString. */
  readonly type: PropType;
  /** The code page of a code-page string type (1200 for 0x84B0). */
  readonly codepage?: number;
  /** The value in Outport's shapes (mapi/types.ts). For PtypString8 and PtypMultipleString8 this is
   *  a provisional Windows-1252 reading; `string8Bytes` holds the bytes for the message's code page. */
  readonly value: PropValue;
  /** Raw bytes (terminator included) of PtypString8 / PtypMultipleString8 values. */
  readonly string8Bytes?: Uint8Array | Uint8Array[];
  /** The meta-property's name ("MetaTagFXDelProp"…) when the tag is one (MS-OXCFXICS 2.2.4.1.5). */
  readonly meta?: string;
}

/** A stream element. */
export type FtsElement = FtsMarker | FtsPropValue;

/** What the stream held of the element it ended in. Offsets are stream offsets. */
export interface FtsPartialElement {
  /** Where the element started. */
  readonly offset: number;
  /** The tag, when its 4 bytes were there. */
  readonly tag?: number;
  /** The canonical name of the tag or marker when known ("PidTagMessageClass"). */
  readonly tagName?: string;
  /** The named property's identity when it was complete. */
  readonly named?: NamedPropertyKey;
  /** The code page of a code-page string type. */
  readonly codepage?: number;
  /** Declared byte length of a variable-size value, when read. */
  readonly declaredLength?: number;
  /** The value bytes that were there. */
  readonly valueBytes?: Uint8Array;
  /** For strings: the whole characters among `valueBytes`. */
  readonly textPrefix?: string;
}

/** Thrown by the lexer when the stream ends inside an element; decode.ts turns it into a partial
 *  result. `streamOffset` is the stream length (where the data ran out). */
export class FtsTruncation extends Error {
  constructor(readonly streamOffset: number, readonly partial: FtsPartialElement) {
    super(`FastTransfer stream ends at offset ${streamOffset} inside the element at offset ${partial.offset}`);
    this.name = 'FtsTruncation';
  }
}

/** Internal: not enough bytes for the next read. */
class NeedMore {
  static readonly instance = new NeedMore();
}

/** Size in bytes of a fixed-size value inside a FastTransfer stream (PtypBoolean: 2). */
export function ftsFixedSize(type: number): number | undefined {
  switch (type) {
    case PropType.Null: return 0;
    case PropType.Integer16: case PropType.Boolean: return 2;
    case PropType.Integer32: case PropType.Floating32: case PropType.ErrorCode: return 4;
    case PropType.Floating64: case PropType.Currency: case PropType.FloatingTime: case PropType.Integer64: case PropType.Time: return 8;
    case PropType.Guid: return 16;
    default: return undefined;
  }
}

/** True for the variable-size types (MS-OXCFXICS 2.2.4.1.3 varPropType). PtypRestriction and
 *  PtypRuleAction are not listed there; Outport accepts them as length-prefixed bytes. */
export function isFtsVarType(type: number): boolean {
  switch (type) {
    case PropType.String: case PropType.String8: case PropType.Binary: case PropType.ServerId:
    case PropType.Object: case PropType.Restriction: case PropType.RuleAction:
      return true;
    default:
      return false;
  }
}

/** True for the multi-valued types FastTransfer streams carry (mvPropType). */
export function isFtsMvType(type: number): boolean {
  return (type & 0x1000) !== 0 && (type & 0x8000) === 0 && PropType[type as PropType] !== undefined;
}

/** Reads of code-page / UTF-16 string values, for FtsTruncation's text prefix. */
const enum StrKind { None = 0, Utf16 = 1, Codepage = 2 }

/** Strings of at most this many UTF-16 code units are built with String.fromCharCode (cheaper than
 *  a Buffer slice for short values); longer ones through Buffer's UTF-16LE decoder. */
const SHORT_UTF16_UNITS = 24;

/** Two hex digits for each byte value (GUID text without per-byte padStart calls). */
const HEX2: readonly string[] = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

/** A canonical GUID string from 16 wire bytes at `o` (the same text as mapi/guid.ts guidFromBytes,
 *  MS-DTYP 2.3.4.2: Data1-3 little-endian, Data4 as is), through a hex table. */
function guidText(b: Uint8Array, o: number): string {
  return HEX2[b[o + 3]] + HEX2[b[o + 2]] + HEX2[b[o + 1]] + HEX2[b[o]] + '-' + HEX2[b[o + 5]] + HEX2[b[o + 4]] + '-' +
    HEX2[b[o + 7]] + HEX2[b[o + 6]] + '-' + HEX2[b[o + 8]] + HEX2[b[o + 9]] + '-' +
    HEX2[b[o + 10]] + HEX2[b[o + 11]] + HEX2[b[o + 12]] + HEX2[b[o + 13]] + HEX2[b[o + 14]] + HEX2[b[o + 15]];
}

/** True when `tag` may be a marker or meta-property: all of them have ids 0x4000-0x40FF
 *  (MS-OXCFXICS 2.2.4.1.4/5), so other tags skip the name lookups. */
const inMarkerRange = (tag: number): boolean => (tag >>> 24) === 0x40;

/**
 * Reads elements one at a time from a joined FastTransfer stream.
 *
 * Two interfaces: {@link next} returns each element as an object; {@link read} (used by the message
 * decoder) leaves the element in the lexer's `el…` fields and allocates nothing but the value, so a
 * ~10 KB message of ~50 elements costs ~50 values, not ~50 element objects and their spreads.
 */
export class FtsLexer {
  pos = 0;
  private readonly view: DataView;
  /** The same bytes as a Buffer, for UTF-16LE and Latin-1 slices without a Buffer per value. */
  private readonly buf: Buffer;
  private afterGroupInfo = false;

  // The element just read by read(): valid until the next read().
  /** Stream offset of the element's tag. */
  elOffset = 0;
  /** Offset just past the element. */
  elEnd = 0;
  /** The tag as written. */
  elTag = 0;
  /** The marker's name when read() returned true. */
  elMarker: string | undefined;
  /** The property id (high 16 bits of the tag). */
  elId = 0;
  /** The property's type in the MapiItem model (code-page strings: PtypString). */
  elType: PropType = PropType.Null;
  /** Set for named properties (ids ≥ 0x8000). */
  elNamed: NamedPropertyKey | undefined;
  /** The code page of a code-page string type, else -1. */
  elCodepage = -1;
  /** The value (PtypString8: a provisional Windows-1252 reading, see `elString8Bytes`). */
  elValue: PropValue = null;
  /** Raw bytes (terminator included) of PtypString8 / PtypMultipleString8 values. */
  elString8Bytes: Uint8Array | Uint8Array[] | undefined;
  /** The meta-property's name when the tag is one. */
  elMeta: string | undefined;

  // State of the element being read, for FtsTruncation (no object per element).
  private cTag = -1;
  private cNamed: NamedPropertyKey | undefined;
  private cCodepage = -1;
  private cDeclared = -1;
  private cValueStart = -1;
  private cString: StrKind = StrKind.None;

  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** True when every byte has been read. */
  get atEnd(): boolean {
    return this.pos >= this.bytes.length;
  }

  /** The next element's tag without consuming it; undefined at the end of the stream.
   *  @throws FtsTruncation when 1-3 bytes remain */
  peekTag(): number | undefined {
    const left = this.bytes.length - this.pos;
    if (left <= 0) return undefined;
    if (left < 4) throw new FtsTruncation(this.bytes.length, { offset: this.pos });
    return this.view.getUint32(this.pos, true);
  }

  /** True when `tag` at the current position is read as a marker (not the propValue that follows
   *  an IncrSyncGroupInfo marker). */
  isMarkerHere(tag: number): boolean {
    return inMarkerRange(tag) && !this.afterGroupInfo && markerName(tag) !== undefined;
  }

  /** Reads the next element as an object.
   *  @throws FtsTruncation when the stream ends inside it; FtsDecodeError "BadPropType",
   *    "BadNamedPropKind", "BadValue" */
  next(): FtsElement {
    if (this.read()) return { kind: 'marker', offset: this.elOffset, tag: this.elTag, name: this.elMarker! };
    const p: { -readonly [K in keyof FtsPropValue]: FtsPropValue[K] } = { kind: 'prop', offset: this.elOffset, end: this.elEnd, tag: this.elTag, id: this.elId, type: this.elType, value: this.elValue };
    if (this.elNamed) p.named = this.elNamed;
    if (this.elMeta) p.meta = this.elMeta;
    if (this.elCodepage >= 0) p.codepage = this.elCodepage;
    if (this.elString8Bytes) p.string8Bytes = this.elString8Bytes;
    return p;
  }

  /**
   * Reads the next element into the `el…` fields.
   * @returns true for a marker (`elMarker` set), false for a propValue
   * @throws as {@link next}
   */
  read(): boolean {
    const offset = this.pos;
    this.elOffset = offset;
    this.cTag = -1; this.cNamed = undefined; this.cCodepage = -1; this.cDeclared = -1; this.cValueStart = -1; this.cString = StrKind.None;
    try {
      const tag = this.u32();
      this.cTag = tag;
      this.elTag = tag;
      if (inMarkerRange(tag)) {
        const mName = markerName(tag);
        if (mName !== undefined && !this.afterGroupInfo) {
          this.afterGroupInfo = tag === Marker.IncrSyncGroupInfo;
          this.elMarker = mName;
          this.elEnd = this.pos;
          return true;
        }
        this.elMeta = metaTagName(tag);
      } else {
        this.elMeta = undefined;
      }
      this.afterGroupInfo = false;
      this.elMarker = undefined;
      this.propValue(offset, tag);
      this.elEnd = this.pos;
      return false;
    } catch (e) {
      if (e === NeedMore.instance) throw new FtsTruncation(this.bytes.length, this.partial(offset));
      throw e;
    }
  }

  private partial(offset: number): FtsPartialElement {
    const p: { -readonly [K in keyof FtsPartialElement]: FtsPartialElement[K] } = { offset };
    if (this.cTag >= 0) {
      const tag = this.cTag;
      p.tag = tag;
      p.tagName = markerName(tag) ?? metaTagName(tag) ?? (tag >>> 16 < 0x8000 ? tagName(tag >>> 16, tag & 0x8000 ? PropType.String : tag & 0xffff) : undefined);
    }
    if (this.cNamed) p.named = this.cNamed;
    if (this.cCodepage >= 0) p.codepage = this.cCodepage;
    if (this.cDeclared >= 0) p.declaredLength = this.cDeclared;
    if (this.cValueStart >= 0) {
      const start = this.cValueStart;
      const bytes = this.bytes.slice(start, Math.min(this.bytes.length, this.cDeclared >= 0 ? start + this.cDeclared : this.bytes.length));
      p.valueBytes = bytes;
      if (this.cString === StrKind.Utf16) p.textPrefix = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length & ~1).toString('utf16le');
      else if (this.cString === StrKind.Codepage) p.textPrefix = decodeCodepageString(bytes, this.cCodepage >= 0 ? this.cCodepage : DEFAULT_CODEPAGE) ?? undefined;
    }
    return p;
  }

  private err(reason: 'BadPropType' | 'BadNamedPropKind' | 'BadValue', message: string, at: number, tag?: number): FtsDecodeError {
    return new FtsDecodeError(reason, message, { offset: at, streamOffset: at }, { tag });
  }

  private u32(): number {
    const o = this.pos;
    if (this.bytes.length - o < 4) throw NeedMore.instance;
    this.pos = o + 4;
    return this.view.getUint32(o, true);
  }

  /** Reads a value's uint32 length and checks the value is all there; returns its start. */
  private varStart(): number {
    const len = this.u32();
    this.cDeclared = len;
    const start = this.pos;
    this.cValueStart = start;
    if (this.bytes.length - start < len) throw NeedMore.instance;
    this.pos = start + len;
    return start;
  }

  /** UTF-16LE text of [start, end), without one terminating NUL (FastTransfer lengths include it). */
  private utf16(start: number, end: number): string {
    end = start + ((end - start) & ~1);
    const b = this.bytes;
    if (end - start >= 2 && b[end - 1] === 0 && b[end - 2] === 0) end -= 2;
    const units = (end - start) >> 1;
    if (units <= SHORT_UTF16_UNITS) {
      let s = '';
      for (let o = start; o < end; o += 2) s += String.fromCharCode(b[o] | (b[o + 1] << 8));
      return s;
    }
    return this.buf.toString('utf16le', start, end);
  }

  /** A copy of [start, end) (values must not share the caller's buffer). */
  private copy(start: number, end: number): Uint8Array {
    return this.bytes.slice(start, end);
  }

  /** Reads the propValue after `tag` into the `el…` fields. */
  private propValue(offset: number, tag: number): void {
    const type = tag & 0xffff;
    const id = tag >>> 16;
    this.elId = id;
    this.elCodepage = -1;
    this.elString8Bytes = undefined;
    if (id >= 0x8000) {
      this.elNamed = this.namedPropInfo(tag);
      this.cNamed = this.elNamed;
    } else {
      this.elNamed = undefined;
    }
    // Code-page string: 0x8000 | code page (MS-OXCFXICS 2.2.4.1.3).
    if (type & 0x8000) {
      const codepage = type & 0x7fff;
      this.cCodepage = codepage;
      this.cString = codepage === CODEPAGE_UTF16LE ? StrKind.Utf16 : StrKind.Codepage;
      const start = this.varStart();
      const text = codepage === CODEPAGE_UTF16LE ? this.utf16(start, this.pos) : decodeCodepageString(this.bytes.subarray(start, this.pos), codepage);
      if (text === undefined) throw this.err('BadValue', `code-page string ${hexTag(tag)} at offset ${offset} names code page ${codepage}, which Outport cannot decode`, offset, tag);
      this.elType = PropType.String;
      this.elCodepage = codepage;
      this.elValue = text;
      return;
    }
    switch (type) {
      case PropType.String: {
        this.cString = StrKind.Utf16;
        const start = this.varStart();
        this.elType = PropType.String;
        this.elValue = this.utf16(start, this.pos);
        return;
      }
      case PropType.String8: {
        this.cString = StrKind.Codepage;
        const start = this.varStart();
        const raw = this.copy(start, this.pos);
        this.elType = PropType.String8;
        this.elValue = decodeCodepageString(raw, DEFAULT_CODEPAGE)!;
        this.elString8Bytes = raw;
        return;
      }
      case PropType.Binary: case PropType.ServerId: case PropType.Object: case PropType.Restriction: case PropType.RuleAction: {
        const start = this.varStart();
        this.elType = type;
        this.elValue = this.copy(start, this.pos);
        return;
      }
    }
    const size = ftsFixedSize(type);
    if (size !== undefined) {
      this.cValueStart = this.pos;
      this.cDeclared = size;
      this.elType = type as PropType;
      this.elValue = this.scalar(type, size);
      return;
    }
    if (isFtsMvType(type)) { this.mvValue(type as PropType); return; }
    throw this.err('BadPropType', `property ${hexTag(tag)} at offset ${offset} has type 0x${type.toString(16).padStart(4, '0')}, which is not a FastTransfer property type (MS-OXCFXICS 2.2.4.1.3)`, offset, tag);
  }

  private namedPropInfo(tag: number): NamedPropertyKey {
    const b = this.bytes;
    if (b.length - this.pos < 16) throw NeedMore.instance;
    const guid = guidText(b, this.pos);
    this.pos += 16;
    const kindAt = this.pos;
    if (kindAt >= b.length) throw NeedMore.instance;
    const kind = b[kindAt];
    this.pos = kindAt + 1;
    if (kind === 0x00) return { guid, lid: this.u32() };
    if (kind === 0x01) {
      const start = this.pos;
      for (let p = start; ; p += 2) {
        if (p + 2 > b.length) throw NeedMore.instance;
        if (b[p] === 0 && b[p + 1] === 0) {
          const name = this.buf.toString('utf16le', start, p);
          this.pos = p + 2;
          return { guid, name };
        }
      }
    }
    throw this.err('BadNamedPropKind', `named property ${hexTag(tag)}: kind byte 0x${kind.toString(16).padStart(2, '0')} at offset ${kindAt} is neither 0x00 (LID) nor 0x01 (name) (MS-OXCFXICS 2.2.4.1.1)`, kindAt, tag);
  }

  /** A fixed-size value of `size` bytes at the current position. */
  private scalar(type: number, size: number): ScalarValue {
    const o = this.pos;
    if (this.bytes.length - o < size) throw NeedMore.instance;
    const v = this.view;
    this.pos = o + size;
    switch (type) {
      case PropType.Null: return null;
      case PropType.Integer16: return v.getInt16(o, true);
      case PropType.Boolean: return v.getUint16(o, true) !== 0;
      case PropType.Integer32: return v.getInt32(o, true);
      case PropType.ErrorCode: return v.getUint32(o, true);
      case PropType.Floating32: return v.getFloat32(o, true);
      case PropType.Floating64: case PropType.FloatingTime: return v.getFloat64(o, true);
      case PropType.Currency: case PropType.Integer64: return v.getBigInt64(o, true);
      case PropType.Time: return v.getBigUint64(o, true);
      case PropType.Guid: return guidText(this.bytes, o);
      default: throw new Error(`unreachable: fixed type 0x${type.toString(16)}`);
    }
  }

  private mvValue(type: PropType): void {
    const base = type & ~0x1000;
    const count = this.u32();
    this.cValueStart = this.pos;
    const remaining = this.bytes.length - this.pos;
    const size = ftsFixedSize(base);
    this.elType = type;
    if (size !== undefined) {
      // A count whose values cannot fit in what is left is a truncation (or garbage): stop before
      // allocating count elements.
      if (count * size > remaining) throw NeedMore.instance;
      const out: ScalarValue[] = new Array(count);
      for (let i = 0; i < count; i++) out[i] = this.scalar(base, size);
      this.elValue = out as PropValue;
      return;
    }
    if (count * 4 > remaining) throw NeedMore.instance;
    const out: (string | Uint8Array)[] = new Array(count);
    const raw: Uint8Array[] = base === PropType.String8 ? new Array(count) : [];
    for (let i = 0; i < count; i++) {
      const len = this.u32();
      const start = this.pos;
      if (this.bytes.length - start < len) throw NeedMore.instance;
      this.pos = start + len;
      if (base === PropType.String) out[i] = this.utf16(start, this.pos);
      else if (base === PropType.String8) { raw[i] = this.copy(start, this.pos); out[i] = decodeCodepageString(raw[i], DEFAULT_CODEPAGE)!; }
      else out[i] = this.copy(start, this.pos);
    }
    this.elValue = out as PropValue;
    if (base === PropType.String8) this.elString8Bytes = raw;
  }
}

/** The lexical reading of a whole stream: every element, and where it ended early. */
export interface FtsElementsResult {
  readonly elements: FtsElement[];
  /** Present when the stream ends inside an element. */
  readonly truncated?: { readonly streamOffset: number; readonly partial: FtsPartialElement };
}

/**
 * Reads every element of a FastTransfer stream without applying the grammar: markers and
 * propValues in order (MS-OXCFXICS 2.2.4.1). For any FastTransfer stream, not only messages.
 * @throws FtsDecodeError for bytes that are not elements
 */
export function readFtsElements(stream: Uint8Array): FtsElementsResult {
  const lexer = new FtsLexer(stream);
  const elements: FtsElement[] = [];
  try {
    while (!lexer.atEnd) elements.push(lexer.next());
  } catch (e) {
    if (e instanceof FtsTruncation) return { elements, truncated: { streamOffset: e.streamOffset, partial: e.partial } };
    throw e;
  }
  return { elements };
}
