/**
 * The inverse of decode.ts: a MapiItem written as a FastTransfer messageContent (MS-OXCFXICS
 * 2.2.4.2, lexical rules of 2.2.4.1), and as framed exportItems/importItem data. Used by the sandbox
 * tenant (to serve exportItems) and by the import feature (importItem's `Data`).
 *
 * Named properties get stream-local ids from 0x8000 in order of first use; each occurrence carries
 * its GUID and LID/name, as the lexical structure requires. Attachments start with
 * PidTagAttachNumber (2.2.4.2: NewAttach PidTagAttachNumber …): the attachment's own value when set,
 * else its index.
 */
import { guidToBytes } from '../../mapi/guid';
import type { MapiItem, PropertyBag, PropertyEntry } from '../../mapi/item';
import { namedKeyString, type NamedPropertyKey } from '../../mapi/named';
import { PropType, propTag } from '../../mapi/types';
import { CODEPAGE_UTF16LE, DEFAULT_CODEPAGE, encodeCodepageString, messageCodepage, string8Codepage } from './codepage';
import { FtsEncodeError, MAX_EMBEDDED_MESSAGE_DEPTH } from './errors';
import { frameExportData, type FrameOptions } from './framing';
import { ftsFixedSize, isFtsMvType, isFtsVarType } from './lexer';
import { Marker, MetaTag, hexTag, markerName, metaTagName } from './markers';

/** PidTagAttachNumber id (MS-OXPROPS). */
const PID_TAG_ATTACH_NUMBER = 0x0e21;
/** PidTagMessageRecipients / PidTagMessageAttachments tags, the values of MetaTagFXDelProp. */
const PID_TAG_MESSAGE_RECIPIENTS = 0x0e12000d;
const PID_TAG_MESSAGE_ATTACHMENTS = 0x0e13000d;

/** Options for {@link encodeFtsMessage}. */
export interface FtsEncodeOptions {
  /**
   * Writes single-valued PtypString values as code-page strings (type 0x8000 | code page) instead of
   * 0x001F: Exchange writes PidTagMessageClass as 0x84B0 (code page 1200). A number applies to every
   * string; a function chooses per property (undefined = PtypString). A value the code page cannot
   * represent exactly is written as PtypString. Code pages must be ≤ 0x7FFF.
   */
  readonly stringCodepage?: number | ((entry: PropertyEntry, path: string) => number | undefined);
  /** Writes MetaTagFXDelProp before the recipients and before the attachments, as an upload that
   *  replaces an existing message would (MS-OXCFXICS 2.2.4.1.5). Default false. */
  readonly fxDelProps?: boolean;
}

/** A growing byte buffer with explicit little-endian writes. */
class ByteWriter {
  private buf = new Uint8Array(1024);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(v: number): void { this.reserve(1); this.buf[this.length++] = v; }
  u16(v: number): void { this.reserve(2); this.view.setUint16(this.length, v, true); this.length += 2; }
  i16(v: number): void { this.reserve(2); this.view.setInt16(this.length, v, true); this.length += 2; }
  u32(v: number): void { this.reserve(4); this.view.setUint32(this.length, v >>> 0, true); this.length += 4; }
  i32(v: number): void { this.reserve(4); this.view.setInt32(this.length, v, true); this.length += 4; }
  f32(v: number): void { this.reserve(4); this.view.setFloat32(this.length, v, true); this.length += 4; }
  f64(v: number): void { this.reserve(8); this.view.setFloat64(this.length, v, true); this.length += 8; }
  i64(v: bigint): void { this.reserve(8); this.view.setBigInt64(this.length, v, true); this.length += 8; }
  u64(v: bigint): void { this.reserve(8); this.view.setBigUint64(this.length, v, true); this.length += 8; }
  bytes(b: Uint8Array): void { this.reserve(b.length); this.buf.set(b, this.length); this.length += b.length; }
  /** uint32 length, then the bytes. */
  sized(b: Uint8Array): void { this.u32(b.length); this.bytes(b); }
  result(): Uint8Array { return this.buf.slice(0, this.length); }
}

class MessageEncoder {
  readonly w = new ByteWriter();
  private readonly namedIds = new Map<string, number>();

  constructor(private readonly opts: FtsEncodeOptions) {}

  private fail(reason: 'ValueShape' | 'BadPropType' | 'NotRepresentable' | 'BadCodepage', message: string, path: string): never {
    throw new FtsEncodeError(reason, message, path);
  }

  private namedId(key: NamedPropertyKey, path: string): number {
    const k = namedKeyString(key);
    let id = this.namedIds.get(k);
    if (id === undefined) {
      id = 0x8000 + this.namedIds.size;
      if (id > 0xffff) this.fail('BadPropType', 'more than 32,768 distinct named properties in one stream', path);
      this.namedIds.set(k, id);
    }
    return id;
  }

  private namedPropInfo(key: NamedPropertyKey): void {
    this.w.bytes(guidToBytes(key.guid));
    if (key.name !== undefined) {
      this.w.u8(0x01);
      this.w.bytes(Buffer.from(key.name + '\0', 'utf16le'));
    } else {
      this.w.u8(0x00);
      this.w.u32(key.lid);
    }
  }

  private scalar(type: number, v: unknown, codepage: number, path: string): void {
    const want = (t: string): void => {
      if (typeof v !== t) this.fail('ValueShape', `${typeof v} value for type 0x${type.toString(16).padStart(4, '0')} (expected ${t})`, path);
    };
    switch (type) {
      case PropType.Null: return;
      case PropType.Integer16: want('number'); this.w.i16(v as number); return;
      case PropType.Boolean: want('boolean'); this.w.u16(v ? 1 : 0); return;
      case PropType.Integer32: want('number'); this.w.i32(v as number); return;
      case PropType.ErrorCode: want('number'); this.w.u32(v as number); return;
      case PropType.Floating32: want('number'); this.w.f32(v as number); return;
      case PropType.Floating64: case PropType.FloatingTime: want('number'); this.w.f64(v as number); return;
      case PropType.Currency: case PropType.Integer64: want('bigint'); this.w.i64(BigInt.asIntN(64, v as bigint)); return;
      case PropType.Time: want('bigint'); this.w.u64(BigInt.asUintN(64, v as bigint)); return;
      case PropType.Guid: want('string'); this.w.bytes(guidToBytes(v as string)); return;
      case PropType.String: want('string'); this.w.sized(encodeCodepageString(v as string, CODEPAGE_UTF16LE)!); return;
      case PropType.String8: {
        want('string');
        const b = encodeCodepageString(v as string, codepage);
        if (!b) this.fail('NotRepresentable', `PtypString8 value ${JSON.stringify((v as string).slice(0, 40))} is not representable in the message's code page ${codepage}`, path);
        this.w.sized(b);
        return;
      }
      default:
        if (!(v instanceof Uint8Array)) this.fail('ValueShape', `${typeof v} value for type 0x${type.toString(16).padStart(4, '0')} (expected Uint8Array)`, path);
        this.w.sized(v);
    }
  }

  private propValue(e: PropertyEntry, codepage: number, path: string): void {
    const p = `${path} ${e.kind === 'tagged' ? '0x' + propTag(e.id, e.type).toString(16).padStart(8, '0') : namedKeyString(e.key)}`;
    const type = e.type as number;
    const id = e.kind === 'tagged' ? e.id : this.namedId(e.key, p);
    // Optional code-page string form for PtypString.
    if (type === PropType.String && typeof e.value === 'string' && this.opts.stringCodepage !== undefined) {
      const cp = typeof this.opts.stringCodepage === 'number' ? this.opts.stringCodepage : this.opts.stringCodepage(e, p);
      if (cp !== undefined) {
        if (!Number.isInteger(cp) || cp < 1 || cp > 0x7fff) this.fail('BadCodepage', `code page ${cp} cannot be written as a code-page string type (0x8000 | code page ≤ 0xFFFF)`, p);
        const b = encodeCodepageString(e.value, cp);
        if (b) {
          this.w.u32(propTag(id, 0x8000 | cp));
          if (e.kind === 'named') this.namedPropInfo(e.key);
          this.w.sized(b);
          return;
        }
      }
    }
    const fixed = ftsFixedSize(type);
    if (type === PropType.Unspecified || (fixed === undefined && !isFtsVarType(type) && !isFtsMvType(type))) {
      this.fail('BadPropType', `type 0x${type.toString(16).padStart(4, '0')} cannot be written to a FastTransfer stream`, p);
    }
    const tag = propTag(id, type);
    if (markerName(tag) || metaTagName(tag)) this.fail('BadPropType', `tag ${hexTag(tag)} is a FastTransfer ${markerName(tag) ? 'marker' : 'meta-property'} (MS-OXCFXICS 2.2.4.1.4/2.2.4.1.5), not a property`, p);
    this.w.u32(tag);
    if (e.kind === 'named') this.namedPropInfo(e.key);
    const cp8 = string8Codepage(codepage);
    if (isFtsMvType(type)) {
      if (!Array.isArray(e.value)) this.fail('ValueShape', `multi-valued type 0x${type.toString(16)} needs an array`, p);
      const values = e.value as unknown[];
      this.w.u32(values.length);
      for (const v of values) this.scalar(type & ~0x1000, v, cp8, p);
      return;
    }
    this.scalar(type, e.value, cp8, p);
  }

  propList(bag: PropertyBag, codepage: number, path: string, skipId?: number): void {
    for (const e of bag.entries()) {
      if (skipId !== undefined && e.kind === 'tagged' && e.id === skipId) continue;
      this.propValue(e, codepage, path);
    }
  }

  messageContent(item: MapiItem, depth: number, parentCodepage: number, path: string): void {
    if (depth > MAX_EMBEDDED_MESSAGE_DEPTH) throw new FtsEncodeError('NestingTooDeep', `embedded messages nest deeper than ${MAX_EMBEDDED_MESSAGE_DEPTH} levels`, path);
    const cp = messageCodepage(item.properties, parentCodepage);
    this.propList(item.properties, cp, `${path}.properties`);
    if (this.opts.fxDelProps) { this.w.u32(MetaTag.FXDelProp); this.w.u32(PID_TAG_MESSAGE_RECIPIENTS); }
    item.recipients.forEach((r, i) => {
      this.w.u32(Marker.StartRecip);
      this.propList(r, cp, `${path}.recipients[${i}]`);
      this.w.u32(Marker.EndToRecip);
    });
    if (this.opts.fxDelProps) { this.w.u32(MetaTag.FXDelProp); this.w.u32(PID_TAG_MESSAGE_ATTACHMENTS); }
    item.attachments.forEach((a, i) => {
      const ap = `${path}.attachments[${i}]`;
      this.w.u32(Marker.NewAttach);
      const num = a.properties.getTyped(PID_TAG_ATTACH_NUMBER);
      if (num) this.propValue({ kind: 'tagged', id: PID_TAG_ATTACH_NUMBER, type: num.type, value: num.value }, cp, ap);
      else { this.w.u32(propTag(PID_TAG_ATTACH_NUMBER, PropType.Integer32)); this.w.i32(i); }
      this.propList(a.properties, cp, ap, PID_TAG_ATTACH_NUMBER);
      if (a.embedded) {
        this.w.u32(Marker.StartEmbed);
        this.messageContent(a.embedded, depth + 1, cp, `${ap}.embedded`);
        this.w.u32(Marker.EndEmbed);
      }
      this.w.u32(Marker.EndAttach);
    });
  }
}

/**
 * Writes a MapiItem as a bare FastTransfer messageContent (MS-OXCFXICS 2.2.4.2).
 * PtypString8 values are written in the message's code page (PidTagMessageCodepage, else
 * PidTagInternetCodepage, else the parent's, else 1252); `associated` is not part of the stream.
 * @returns the stream bytes
 * @throws FtsEncodeError "ValueShape", "BadPropType", "NotRepresentable", "BadCodepage", "NestingTooDeep"
 */
export function encodeFtsMessage(item: MapiItem, options: FtsEncodeOptions = {}): Uint8Array {
  const enc = new MessageEncoder(options);
  enc.messageContent(item, 0, DEFAULT_CODEPAGE, 'message');
  return enc.w.result();
}

/**
 * Writes a MapiItem as exportItems/importItem data: header records, then the messageContent cut
 * into TransferBuffers of `bufferSizeBytes` (default 0x7BC0). Base64-encode it for Graph's JSON.
 * @throws FtsEncodeError as {@link encodeFtsMessage}, and "BadOption"
 */
export function encodeExportItem(item: MapiItem, options: FtsEncodeOptions & FrameOptions = {}): Uint8Array {
  return frameExportData(encodeFtsMessage(item, options), options);
}

