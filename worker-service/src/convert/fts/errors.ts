/**
 * Errors of the FastTransfer layer (MS-OXCFXICS 2.2.4). One class for decoding, one for encoding,
 * each with a stable `code` the runner decides on (an item that fails with "FtsDecodeFailed" is
 * re-read through the REST path) and a finer `reason` for people and tests.
 */
import type { MapiItem } from '../../mapi/item';

/** Why a decode failed; `code` is always "FtsDecodeFailed". */
export type FtsDecodeReason =
  /** The input is empty. */
  | 'Empty'
  /** A base64 text input holds characters outside the base64 alphabet. */
  | 'BadBase64'
  /** The first record's opcode is none of the export framing opcodes (the data is not an export). */
  | 'NotFramed'
  /** A later framing record has an opcode Outport does not know. */
  | 'UnknownOpcode'
  /** The framing holds no TransferBuffer (opcode 2) record, so there is no FastTransfer stream. */
  | 'NoTransferBuffer'
  /** A property tag carries a type that FastTransfer streams do not use (MS-OXCFXICS 2.2.4.1.3). */
  | 'BadPropType'
  /** A named property's kind byte is neither 0x00 (LID) nor 0x01 (name) (MS-OXCFXICS 2.2.4.1.1). */
  | 'BadNamedPropKind'
  /** A marker appears where the messageContent grammar (MS-OXCFXICS 2.2.4.2) does not allow it. */
  | 'UnexpectedMarker'
  /** Bytes follow the end of the top-level messageContent. */
  | 'TrailingData'
  /** Embedded messages nest deeper than {@link MAX_EMBEDDED_MESSAGE_DEPTH}. */
  | 'NestingTooDeep'
  /** A value cannot be decoded (e.g. a code page iconv-lite does not know). */
  | 'BadValue';

/** Embedded messages (StartEmbed … EndEmbed) nest at most this deep: each level is a recursion, and
 *  a crafted stream of repeated StartEmbed markers would otherwise exhaust the stack. Outlook users
 *  rarely go past a handful of levels. */
export const MAX_EMBEDDED_MESSAGE_DEPTH = 32;

/** Offsets of a failure: `offset` in the input given to the decoder (the framed exportItems data,
 *  or the bare stream), `streamOffset` in the joined FastTransfer stream. */
export interface FtsOffsets {
  readonly offset: number;
  readonly streamOffset: number;
}

/**
 * Data that cannot be decoded as an exportItems item (framing) or a FastTransfer messageContent
 * (MS-OXCFXICS 2.2.4). `offset` is the byte offset in the decoder's input where decoding stopped.
 */
export class FtsDecodeError extends Error {
  readonly code = 'FtsDecodeFailed';
  readonly reason: FtsDecodeReason;
  /** Byte offset in the decoder's input (the framed data when framed). */
  offset: number;
  /** Byte offset in the joined FastTransfer stream (equals `offset` for a bare stream; -1 when the
   *  failure is in the framing itself). */
  streamOffset: number;
  /** The property tag or marker being read, when known. */
  readonly tag?: number;
  /** What was decoded before the failure, when the failure is inside the stream. */
  item?: MapiItem;

  constructor(reason: FtsDecodeReason, message: string, at: FtsOffsets, details: { tag?: number; cause?: unknown } = {}) {
    super(message, details.cause !== undefined ? { cause: details.cause } : undefined);
    this.name = 'FtsDecodeError';
    this.reason = reason;
    this.offset = at.offset;
    this.streamOffset = at.streamOffset;
    this.tag = details.tag;
  }
}

/** Why an encode failed; `code` is always "FtsEncodeFailed". */
export type FtsEncodeReason =
  /** The value's JavaScript shape does not fit its property type (see mapi/types.ts). */
  | 'ValueShape'
  /** The type cannot be written to a FastTransfer stream (PtypUnspecified, unknown types). */
  | 'BadPropType'
  /** A PtypString8 value has characters the item's code page cannot represent. */
  | 'NotRepresentable'
  /** A code page above 0x7FFF cannot be written as a code-page string type (0x8000 | code page). */
  | 'BadCodepage'
  /** Embedded messages nest deeper than {@link MAX_EMBEDDED_MESSAGE_DEPTH}. */
  | 'NestingTooDeep'
  /** A framing option is out of range (buffer size 0, payload sizes). */
  | 'BadOption';

/** A MapiItem (or option) that cannot be written as a FastTransfer stream. */
export class FtsEncodeError extends Error {
  readonly code = 'FtsEncodeFailed';
  readonly reason: FtsEncodeReason;
  /** Where in the item: e.g. "attachments[0].embedded.properties 0x0037001f". */
  readonly path?: string;

  constructor(reason: FtsEncodeReason, message: string, path?: string) {
    super(path ? `${message} (at ${path})` : message);
    this.name = 'FtsEncodeError';
    this.reason = reason;
    this.path = path;
  }
}
