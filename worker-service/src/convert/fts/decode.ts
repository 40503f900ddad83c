/**
 * The syntactic layer for one message (MS-OXCFXICS 2.2.4.2 and 2.2.4.3): a bare messageContent as
 * Graph's exportItems sends it, assembled into a MapiItem.
 *
 *   messageContent  = propList messageChildren
 *   messageChildren = [MetaTagFXDelProp] *recipient [MetaTagFXDelProp] *attachment
 *   recipient       = StartRecip propList EndToRecip
 *   attachment      = NewAttach PidTagAttachNumber attachmentContent EndAttach
 *   attachmentContent = propList [embeddedMessage]
 *   embeddedMessage = StartEmbed messageContent EndEmbed
 *
 * Outport accepts recipients and attachments in any order and MetaTagFXDelProp between any of them.
 * PtypString8 values are decoded in the message's code page (PidTagMessageCodepage, else
 * PidTagInternetCodepage, else the parent message's, else Windows-1252), once its propList is read.
 */
import { newMapiItem, PropertyBag, type MapiItem } from '../../mapi/item';
import type { NamedPropertyKey } from '../../mapi/named';
import type { PropType, PropValue } from '../../mapi/types';
import { DEFAULT_CODEPAGE, decodeCodepageString, messageCodepage, string8Codepage } from './codepage';
import { FtsDecodeError, MAX_EMBEDDED_MESSAGE_DEPTH } from './errors';
import { looksFramed, parseExportFraming, streamToInputOffset, type ExportFraming } from './framing';
import { FtsLexer, FtsTruncation, type FtsPartialElement } from './lexer';
import { Marker, MetaTag, hexTag, markerName } from './markers';

/** Options for the decoders. */
export interface FtsDecodeOptions {
  /** The item's FAI flag (a messageContent does not carry it; the folder listing does). Default false. */
  readonly associated?: boolean;
  /** Code page for PtypString8 when the message names none. Default 1252. */
  readonly defaultCodepage?: number;
}

/** A meta-property met in the stream (MS-OXCFXICS 2.2.4.1.5); not a property of the item. */
export interface FtsMetaProperty {
  /** Input offset (stream offset for a bare stream). */
  readonly offset: number;
  readonly tag: number;
  readonly name: string;
  readonly value: PropValue;
  /** Where: "message", "recipients[0]", "attachments[1].embedded"… */
  readonly path: string;
}

/** Where and how the input ended early. Offsets are input offsets unless named `stream…`. */
export interface FtsTruncationInfo {
  /** Where the data ran out (the input length for framed data). */
  readonly offset: number;
  readonly streamOffset: number;
  /** The element being read when the data ran out; its `offset` is a stream offset, and
   *  `inputOffset` the same position in the input. */
  readonly partial: FtsPartialElement & { readonly inputOffset: number };
  /** Where in the item: "message", "recipients[0]", "attachments[1].embedded"… */
  readonly path: string;
  /** Set when the framing itself was cut (a record's declared length passes the input's end). */
  readonly framing?: ExportFraming['truncated'];
}

/** The result of decoding one item. `complete` is false exactly when `truncated` is set. */
export interface FtsMessageResult {
  /** The item, as far as the input went. */
  readonly item: MapiItem;
  readonly complete: boolean;
  /** Present when the input ended before the messageContent did. */
  readonly truncated?: FtsTruncationInfo;
  readonly metaProperties: FtsMetaProperty[];
  /** Stream length in bytes. */
  readonly streamBytes: number;
}

/** The result of decoding framed exportItems data: the message result plus the framing records. */
export interface ExportItemResult extends FtsMessageResult {
  readonly framing: ExportFraming;
}

/** A PtypString8 value set provisionally (Windows-1252), re-read once the message's code page is known. */
type Pending = { bag: PropertyBag; id: number; named: NamedPropertyKey | undefined; type: PropType; raw: Uint8Array | Uint8Array[] };

class MessageDecoder {
  readonly lexer: FtsLexer;
  readonly metas: FtsMetaProperty[] = [];
  path = 'message';

  constructor(stream: Uint8Array, private readonly opts: FtsDecodeOptions, private readonly toInput: (streamOffset: number) => number) {
    this.lexer = new FtsLexer(stream);
  }

  private unexpected(tag: number, offset: number, expected: string): FtsDecodeError {
    const what = markerName(tag) ? `marker ${markerName(tag)} (${hexTag(tag)})` : `tag ${hexTag(tag)}`;
    return new FtsDecodeError('UnexpectedMarker', `FastTransfer messageContent: ${what} at stream offset ${offset} in ${this.path}, expected ${expected} (MS-OXCFXICS 2.2.4.2)`, { offset, streamOffset: offset }, { tag });
  }

  /** Reads an expected end marker. */
  private expect(marker: number, name: string): void {
    const tag = this.lexer.peekTag();
    if (tag === undefined) throw new FtsTruncation(this.lexer.bytes.length, { offset: this.lexer.pos });
    if (tag !== marker) throw this.unexpected(tag, this.lexer.pos, name);
    this.lexer.read();
  }

  private static set(bag: PropertyBag, id: number, named: NamedPropertyKey | undefined, type: PropType, value: PropValue): void {
    if (named) bag.setNamed(named, type, value);
    else bag.set(id, type, value);
  }

  private resolveString8(p: Pending, codepage: number): void {
    const cp = string8Codepage(codepage);
    const raw = p.raw;
    const value = Array.isArray(raw) ? raw.map((b) => decodeCodepageString(b, cp)!) : decodeCodepageString(raw, cp)!;
    MessageDecoder.set(p.bag, p.id, p.named, p.type, value);
  }

  /** The meta-property the lexer just read, recorded at `path`. */
  private meta(path: string): void {
    const l = this.lexer;
    this.metas.push({ offset: this.toInput(l.elOffset), tag: l.elTag, name: l.elMeta!, value: l.elValue, path });
  }

  /** propList = *propValue, up to the next marker, MetaTagFXDelProp or the end. PtypString8 values
   *  are resolved with `codepage()` once the list is read (also when it is cut short). */
  private propList(bag: PropertyBag, codepage: () => number): void {
    let pending: Pending[] | undefined;
    const l = this.lexer;
    try {
      for (;;) {
        const tag = l.peekTag();
        if (tag === undefined || tag === MetaTag.FXDelProp || l.isMarkerHere(tag)) return;
        l.read();
        if (l.elMeta) this.meta(this.path);
        else {
          // PtypString8 goes in now (keeps the bag's order) and is re-read in the code page below.
          MessageDecoder.set(bag, l.elId, l.elNamed, l.elType, l.elValue);
          if (l.elString8Bytes) (pending ??= []).push({ bag, id: l.elId, named: l.elNamed, type: l.elType, raw: l.elString8Bytes });
        }
      }
    } finally {
      if (pending) {
        const cp = codepage();
        for (const p of pending) this.resolveString8(p, cp);
      }
    }
  }

  /** messageContent into `item`; returns at the first element that is not part of it. */
  messageContent(item: MapiItem, depth: number, parentCodepage: number): void {
    this.propList(item.properties, () => messageCodepage(item.properties, parentCodepage));
    const cp = messageCodepage(item.properties, parentCodepage);
    const base = this.path;
    for (;;) {
      const tag = this.lexer.peekTag();
      if (tag === undefined) return;
      if (tag === MetaTag.FXDelProp) {
        this.lexer.read();
        this.meta(base);
      } else if (tag === Marker.StartRecip) {
        this.lexer.read();
        const bag = new PropertyBag();
        this.path = `${base}.recipients[${item.recipients.length}]`;
        item.recipients.push(bag);
        this.propList(bag, () => cp);
        this.expect(Marker.EndToRecip, 'EndToRecip');
        this.path = base;
      } else if (tag === Marker.NewAttach) {
        this.lexer.read();
        const att: MapiItem['attachments'][number] = { properties: new PropertyBag() };
        const attPath = `${base}.attachments[${item.attachments.length}]`;
        this.path = attPath;
        item.attachments.push(att);
        this.propList(att.properties, () => cp);
        if (this.lexer.peekTag() === Marker.StartEmbed) {
          const at = this.lexer.pos;
          this.lexer.read();
          if (depth + 1 > MAX_EMBEDDED_MESSAGE_DEPTH) {
            throw new FtsDecodeError('NestingTooDeep', `FastTransfer messageContent: embedded messages nest deeper than ${MAX_EMBEDDED_MESSAGE_DEPTH} levels at stream offset ${at}`, { offset: at, streamOffset: at }, { tag: Marker.StartEmbed });
          }
          const embedded = newMapiItem();
          att.embedded = embedded;
          this.path = `${attPath}.embedded`;
          this.messageContent(embedded, depth + 1, cp);
          this.expect(Marker.EndEmbed, 'EndEmbed');
          this.path = attPath;
        }
        this.expect(Marker.EndAttach, 'EndAttach');
        this.path = base;
      } else {
        return;
      }
    }
  }
}

function rebase(err: FtsDecodeError, toInput: (s: number) => number): FtsDecodeError {
  if (err.streamOffset >= 0) err.offset = toInput(err.streamOffset);
  return err;
}

function decodeStream(stream: Uint8Array, options: FtsDecodeOptions, toInput: (s: number) => number, framing?: ExportFraming): FtsMessageResult {
  const item = newMapiItem(options.associated ?? false);
  const d = new MessageDecoder(stream, options, toInput);
  const base = { item, metaProperties: d.metas, streamBytes: stream.length };
  try {
    d.messageContent(item, 0, options.defaultCodepage ?? DEFAULT_CODEPAGE);
    const tag = d.lexer.peekTag();
    if (tag !== undefined) {
      const at = d.lexer.pos;
      const what = markerName(tag) ? `marker ${markerName(tag)} (${hexTag(tag)})` : `tag ${hexTag(tag)}`;
      throw new FtsDecodeError(markerName(tag) ? 'UnexpectedMarker' : 'TrailingData', `FastTransfer messageContent: ${what} at stream offset ${at} after the message's recipients and attachments; a message stream ends there (MS-OXCFXICS 2.2.4.2)`, { offset: at, streamOffset: at }, { tag });
    }
    if (framing?.truncated) {
      // The stream parsed as a whole message although a TransferBuffer was cut: still incomplete.
      const so = stream.length;
      return { ...base, complete: false, truncated: { offset: toInput(so), streamOffset: so, partial: { offset: so, inputOffset: toInput(so) }, path: 'message', framing: framing.truncated } };
    }
    return { item, complete: true, metaProperties: d.metas, streamBytes: stream.length };
  } catch (e) {
    if (e instanceof FtsTruncation) {
      const truncated: FtsTruncationInfo = {
        offset: framing ? framing.truncated?.offset ?? toInput(e.streamOffset) : e.streamOffset,
        streamOffset: e.streamOffset,
        partial: { ...e.partial, inputOffset: toInput(e.partial.offset) },
        path: d.path,
        ...(framing?.truncated ? { framing: framing.truncated } : {}),
      };
      return { ...base, complete: false, truncated };
    }
    if (e instanceof FtsDecodeError) {
      e.item = item;
      throw rebase(e, toInput);
    }
    throw e;
  }
}

/**
 * Decodes a bare FastTransfer stream holding one messageContent (MS-OXCFXICS 2.2.4.2) into a
 * MapiItem. Offsets in the result and errors are stream offsets.
 * @returns the item; `complete: false` and `truncated` when the stream ends inside the message
 * @throws FtsDecodeError (code "FtsDecodeFailed") for bytes that break the lexical or syntactical
 *   structure; `item` on the error holds what was decoded before
 */
export function decodeFtsMessage(stream: Uint8Array, options: FtsDecodeOptions = {}): FtsMessageResult {
  return decodeStream(stream, options, (s) => s);
}

/** Decodes base64 text (whitespace allowed; unpadded and cut-short text accepted, as the docs'
 *  samples are). @throws FtsDecodeError "BadBase64" */
export function base64ToBytes(text: string): Uint8Array {
  // Fast path (Graph's padded base64): Node's decoder skips characters outside the alphabet and
  // stops at an inner '=', so with a length that is a multiple of 4 the output has the length every
  // character being data gives exactly when the text is clean. Anything else takes the checked path.
  const n = text.length;
  if ((n & 3) === 0) {
    const pad = n === 0 ? 0 : text.charCodeAt(n - 1) !== 0x3d ? 0 : text.charCodeAt(n - 2) !== 0x3d ? 1 : 2;
    const b = Buffer.from(text, 'base64');
    if (b.length === ((n - pad) * 3) >> 2) return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  }
  const clean = text.replace(/\s+/g, '');
  const bad = /[^A-Za-z0-9+/=_-]/.exec(clean);
  if (bad) throw new FtsDecodeError('BadBase64', `base64 text has the character ${JSON.stringify(bad[0])} at position ${bad.index}`, { offset: bad.index, streamOffset: -1 });
  const b = Buffer.from(clean, 'base64');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * Decodes one exportItems `data` value: the framing records, then the joined FastTransfer stream as
 * a messageContent. Error and truncation offsets are offsets in the (base64-decoded) data.
 * @param data  the bytes, or the base64 text as Graph returns it
 * @returns the item and the framing; `complete: false` and `truncated` when the data ends early
 * @throws FtsDecodeError "NotFramed" (e.g. Microsoft's placeholder example), "Empty", "BadBase64",
 *   "UnknownOpcode", "NoTransferBuffer", and every stream error of {@link decodeFtsMessage}
 */
export function decodeExportItem(data: Uint8Array | string, options: FtsDecodeOptions = {}): ExportItemResult {
  const bytes = typeof data === 'string' ? base64ToBytes(data) : data;
  const framing = parseExportFraming(bytes);
  const toInput = (s: number): number => streamToInputOffset(framing, s);
  const r = decodeStream(framing.stream, options, toInput, framing) as FtsMessageResult & { framing?: ExportFraming };
  r.framing = framing; // (a spread of the result cost more than the framing itself)
  return r as ExportItemResult;
}

/** Decodes framed data when it starts with a framing opcode, else a bare stream. */
export function decodeExportItemOrStream(bytes: Uint8Array, options: FtsDecodeOptions = {}): FtsMessageResult & { framing?: ExportFraming } {
  return looksFramed(bytes) ? decodeExportItem(bytes, options) : decodeFtsMessage(bytes, options);
}
