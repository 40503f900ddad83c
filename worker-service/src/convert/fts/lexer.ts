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
import { guidFromBytes } from '../../mapi/guid';
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

/** Reads elements one at a time from a joined FastTransfer stream. */
export class FtsLexer {
  pos = 0;
  private readonly view: DataView;
  private afterGroupInfo = false;
  // State of the element being read, for FtsTruncation.
  private cur: { offset: number; tag?: number; named?: NamedPropertyKey; codepage?: number; declaredLength?: number; valueStart?: number; string?: 'utf16' | 'cp' } = { offset: 0 };

  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** True when every byte has been read. */
  get atEnd(): boolean {
    return this.pos >= this.bytes.length;
  }

  /** The next element's tag without consuming it; undefined at the end of the stream.
   *  @throws FtsTruncation when 1-3 bytes remain */
  peekTag(): number | undefined {
    if (this.atEnd) return undefined;
    if (this.bytes.length - this.pos < 4) throw new FtsTruncation(this.bytes.length, { offset: this.pos });
    return this.view.getUint32(this.pos, true);
  }

  /** True when `tag` at the current position is read as a marker (not the propValue that follows
   *  an IncrSyncGroupInfo marker). */
  isMarkerHere(tag: number): boolean {
    return markerName(tag) !== undefined && !this.afterGroupInfo;
  }

  /** Reads the next element.
   *  @throws FtsTruncation when the stream ends inside it; FtsDecodeError "BadPropType",
   *    "BadNamedPropKind", "BadValue" */
  next(): FtsElement {
    const offset = this.pos;
    this.cur = { offset };
    try {
      const tag = this.u32();
      this.cur.tag = tag;
      const mName = markerName(tag);
      if (mName !== undefined && !this.afterGroupInfo) {
        this.afterGroupInfo = tag === Marker.IncrSyncGroupInfo;
        return { kind: 'marker', offset, tag, name: mName };
      }
      this.afterGroupInfo = false;
      return this.propValue(offset, tag);
    } catch (e) {
      if (e === NeedMore.instance) throw new FtsTruncation(this.bytes.length, this.partial());
      throw e;
    }
  }

  private partial(): FtsPartialElement {
    const c = this.cur;
    const p: { -readonly [K in keyof FtsPartialElement]: FtsPartialElement[K] } = { offset: c.offset };
    if (c.tag !== undefined) {
      p.tag = c.tag;
      p.tagName = markerName(c.tag) ?? metaTagName(c.tag) ?? (c.tag >>> 16 < 0x8000 ? tagName(c.tag >>> 16, c.tag & 0x8000 ? PropType.String : c.tag & 0xffff) : undefined);
    }
    if (c.named) p.named = c.named;
    if (c.codepage !== undefined) p.codepage = c.codepage;
    if (c.declaredLength !== undefined) p.declaredLength = c.declaredLength;
    if (c.valueStart !== undefined) {
      const bytes = this.bytes.slice(c.valueStart, Math.min(this.bytes.length, c.valueStart + (c.declaredLength ?? Infinity)));
      p.valueBytes = bytes;
      if (c.string === 'utf16') p.textPrefix = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length & ~1).toString('utf16le');
      else if (c.string === 'cp') p.textPrefix = decodeCodepageString(bytes, c.codepage ?? DEFAULT_CODEPAGE) ?? undefined;
    }
    return p;
  }

  private err(reason: 'BadPropType' | 'BadNamedPropKind' | 'BadValue', message: string, at: number, tag?: number): FtsDecodeError {
    return new FtsDecodeError(reason, message, { offset: at, streamOffset: at }, { tag });
  }

  private need(n: number): void {
    if (this.bytes.length - this.pos < n) throw NeedMore.instance;
  }
  private u8(): number { this.need(1); return this.bytes[this.pos++]; }
  private u32(): number { this.need(4); const v = this.view.getUint32(this.pos, true); this.pos += 4; return v; }
  private take(n: number): Uint8Array {
    this.need(n);
    const b = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  private propValue(offset: number, tag: number): FtsPropValue {
    const type = tag & 0xffff;
    const id = tag >>> 16;
    let named: NamedPropertyKey | undefined;
    if (id >= 0x8000) {
      named = this.namedPropInfo(tag);
      this.cur.named = named;
    }
    const meta = metaTagName(tag);
    const base = { kind: 'prop' as const, offset, tag, id, ...(named ? { named } : {}), ...(meta ? { meta } : {}) };
    // Code-page string: 0x8000 | code page (MS-OXCFXICS 2.2.4.1.3).
    if (type & 0x8000) {
      const codepage = type & 0x7fff;
      this.cur.codepage = codepage;
      this.cur.string = codepage === CODEPAGE_UTF16LE ? 'utf16' : 'cp';
      const bytes = this.varBytes();
      const text = decodeCodepageString(bytes, codepage);
      if (text === undefined) throw this.err('BadValue', `code-page string ${hexTag(tag)} at offset ${offset} names code page ${codepage}, which Outport cannot decode`, offset, tag);
      return { ...base, end: this.pos, type: PropType.String, codepage, value: text };
    }
    const size = ftsFixedSize(type);
    if (size !== undefined) {
      if (type === PropType.Unspecified) throw this.err('BadPropType', `property ${hexTag(tag)} at offset ${offset} has type PtypUnspecified`, offset, tag);
      this.cur.valueStart = this.pos;
      this.cur.declaredLength = size;
      const value = this.scalar(type);
      return { ...base, end: this.pos, type: type as PropType, value };
    }
    if (isFtsVarType(type)) {
      if (type === PropType.String) this.cur.string = 'utf16';
      if (type === PropType.String8) this.cur.string = 'cp';
      const bytes = this.varBytes();
      if (type === PropType.String) return { ...base, end: this.pos, type, value: decodeCodepageString(bytes, CODEPAGE_UTF16LE)! };
      if (type === PropType.String8) return { ...base, end: this.pos, type, value: decodeCodepageString(bytes, DEFAULT_CODEPAGE)!, string8Bytes: bytes.slice() };
      return { ...base, end: this.pos, type: type as PropType, value: bytes.slice() };
    }
    if (isFtsMvType(type)) return { ...base, ...this.mvValue(type as PropType), end: this.pos };
    throw this.err('BadPropType', `property ${hexTag(tag)} at offset ${offset} has type 0x${type.toString(16).padStart(4, '0')}, which is not a FastTransfer property type (MS-OXCFXICS 2.2.4.1.3)`, offset, tag);
  }

  private namedPropInfo(tag: number): NamedPropertyKey {
    const guid = guidFromBytes(this.take(16), 0);
    const kindAt = this.pos;
    const kind = this.u8();
    if (kind === 0x00) return { guid, lid: this.u32() };
    if (kind === 0x01) {
      const start = this.pos;
      for (let p = start; ; p += 2) {
        if (p + 2 > this.bytes.length) throw NeedMore.instance;
        if (this.bytes[p] === 0 && this.bytes[p + 1] === 0) {
          const name = Buffer.from(this.bytes.buffer, this.bytes.byteOffset + start, p - start).toString('utf16le');
          this.pos = p + 2;
          return { guid, name };
        }
      }
    }
    throw this.err('BadNamedPropKind', `named property ${hexTag(tag)}: kind byte 0x${kind.toString(16).padStart(2, '0')} at offset ${kindAt} is neither 0x00 (LID) nor 0x01 (name) (MS-OXCFXICS 2.2.4.1.1)`, kindAt, tag);
  }

  private varBytes(): Uint8Array {
    const len = this.u32();
    this.cur.declaredLength = len;
    this.cur.valueStart = this.pos;
    return this.take(len);
  }

  private scalar(type: number): ScalarValue {
    const size = ftsFixedSize(type)!;
    this.need(size);
    const v = this.view, o = this.pos;
    this.pos += size;
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
      case PropType.Guid: return guidFromBytes(this.bytes, o);
      default: throw new Error(`unreachable: fixed type 0x${type.toString(16)}`);
    }
  }

  private mvValue(type: PropType): { type: PropType; value: PropValue; string8Bytes?: Uint8Array[] } {
    const base = type & ~0x1000;
    const count = this.u32();
    this.cur.valueStart = this.pos;
    const remaining = this.bytes.length - this.pos;
    const size = ftsFixedSize(base);
    if (size !== undefined) {
      // A count whose values cannot fit in what is left is a truncation (or garbage): stop before
      // allocating count elements.
      if (count * size > remaining) throw NeedMore.instance;
      const out: ScalarValue[] = [];
      for (let i = 0; i < count; i++) out.push(this.scalar(base));
      return { type, value: out as PropValue };
    }
    if (count * 4 > remaining) throw NeedMore.instance;
    const out: (string | Uint8Array)[] = [];
    const raw: Uint8Array[] = [];
    for (let i = 0; i < count; i++) {
      const len = this.u32();
      const b = this.take(len);
      if (base === PropType.String) out.push(decodeCodepageString(b, CODEPAGE_UTF16LE)!);
      else if (base === PropType.String8) { out.push(decodeCodepageString(b, DEFAULT_CODEPAGE)!); raw.push(b.slice()); }
      else out.push(b.slice());
    }
    return base === PropType.String8 ? { type, value: out as string[], string8Bytes: raw } : { type, value: out as PropValue };
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
