/**
 * The records around the FastTransfer stream in Graph's exportItems `data` (and importItem `Data`):
 * `[uint32 LE opcode][uint32 LE length][payload]`, repeated. Not part of MS-OXCFXICS: these are the
 * arguments of Exchange's IExchangeFastTransferEx calls (Config, TransferBuffer, IsInterfaceOk,
 * TellPartnerVersion), which third-party EWS ExportItems parsers name "FxOpcodes". The FastTransfer
 * stream is the concatenation of every TransferBuffer (opcode 2) payload; Exchange cuts it at
 * arbitrary byte positions (inside a tag, a length or a UTF-16 character).
 *
 * What each header record holds is inferred from those call signatures and from the one real sample
 * (the import how-to's `Data`): see docs/fts-format.md.
 */
import { guidFromBytes, guidToBytes } from '../../mapi/guid';
import { FtsDecodeError, FtsEncodeError } from './errors';

/** Record opcodes (Exchange's FxOpcodes). Only 1-4 occur in item exports. */
export enum FxOpcode {
  Config = 1,
  TransferBuffer = 2,
  IsInterfaceOk = 3,
  TellPartnerVersion = 4,
  StartMdbEventsImport = 11,
  FinishMdbEventsImport = 12,
  AddMdbEvents = 13,
  SetWatermarks = 14,
  SetReceiveFolder = 15,
  SetPerUser = 16,
  SetProps = 17,
}

/** IID_IMessage {00020307-0000-0000-C000-000000000046}: the interface an item export names. */
export const IID_IMESSAGE = '00020307-0000-0000-c000-000000000046';
/** IID_IMAPIFolder, for completeness (a folder export would name it). */
export const IID_IMAPIFOLDER = '0002030c-0000-0000-c000-000000000046';
/** IID_IAttachment. */
export const IID_IATTACHMENT = '00020308-0000-0000-c000-000000000046';

/** Exchange's usual TransferBuffer payload size (31,680 bytes). */
export const DEFAULT_TRANSFER_BUFFER_BYTES = 0x7bc0;

/** Bytes of a record header: opcode + length. */
const RECORD_HEADER_BYTES = 8;

/** Config (opcode 1): IExchangeFastTransferEx::Config(flags, transferMethod); 8 bytes. */
export interface FxConfig {
  readonly flags: number;
  /** 1 in the only real sample (TRANSFER_COPYTO in MAPI's edkmdb.h numbering; our reading). */
  readonly transferMethod: number;
}
/** IsInterfaceOk (opcode 3): IsInterfaceOk(transferMethod, refiid, flags); 24 bytes. */
export interface FxIsInterfaceOk {
  readonly transferMethod: number;
  /** Canonical lower-case GUID; IID_IMessage for an item. */
  readonly iid: string;
  /** "IID_IMessage" etc. when known. */
  readonly iidName?: string;
  readonly flags: number;
}
/** TellPartnerVersion (opcode 4): the server version as 3 WORDs (6 bytes in the sample). */
export interface FxPartnerVersion {
  /** The payload as hex. */
  readonly hex: string;
  /** "major.minor.build.revision", read as MS-OXCRPC's 3-WORD version (high bit of the second
   *  WORD set = new format); present when the payload is 6 bytes. Our interpretation. */
  readonly version?: string;
}

/** One framing record. `offset` is where its header starts in the input; `length` is the declared
 *  payload length; `availableLength` is less than `length` when the input ends inside the payload. */
export type FxRecord = {
  readonly opcode: number;
  readonly opcodeName?: string;
  readonly offset: number;
  readonly length: number;
  readonly availableLength: number;
} & (
  | { readonly kind: 'config'; readonly config: FxConfig }
  | { readonly kind: 'isInterfaceOk'; readonly isInterfaceOk: FxIsInterfaceOk }
  | { readonly kind: 'partnerVersion'; readonly partnerVersion: FxPartnerVersion }
  /** A TransferBuffer: its payload is bytes [streamOffset, streamOffset + availableLength) of the stream. */
  | { readonly kind: 'transferBuffer'; readonly streamOffset: number }
  /** Any other record, or a header record whose payload has an unexpected size. */
  | { readonly kind: 'other'; readonly payloadHex: string }
);

/** Where a TransferBuffer's bytes sit: input offset ↔ stream offset. */
export interface FxSegment {
  readonly inputOffset: number;
  readonly streamOffset: number;
  readonly length: number;
}

/** The framing of one exportItems item, decoded. */
export interface ExportFraming {
  readonly records: FxRecord[];
  /** The joined FastTransfer stream (all TransferBuffer payloads). */
  readonly stream: Uint8Array;
  readonly segments: FxSegment[];
  /** Present when the input ends inside a record header or payload: the input length, and the
   *  record being read. */
  readonly truncated?: { readonly offset: number; readonly recordOffset: number; readonly declaredLength?: number };
}

const OPCODE_NAMES = new Map<number, string>(
  Object.entries(FxOpcode).filter(([, v]) => typeof v === 'number').map(([k, v]) => [v as number, k]),
);
const IID_NAMES = new Map<string, string>([[IID_IMESSAGE, 'IID_IMessage'], [IID_IMAPIFOLDER, 'IID_IMAPIFolder'], [IID_IATTACHMENT, 'IID_IAttachment']]);

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
}

/** Reads MS-OXCRPC's 3-WORD version: new format when the high bit of WORD 2 is set. */
function versionText(p: Uint8Array): string | undefined {
  if (p.length !== 6) return undefined;
  const v = new DataView(p.buffer, p.byteOffset, 6);
  const w0 = v.getUint16(0, true), w1 = v.getUint16(2, true), w2 = v.getUint16(4, true);
  if (w1 & 0x8000) return `${w0 >> 8}.${w0 & 0xff}.${w1 & 0x7fff}.${w2}`;
  return `${w0}.${w1}.${w2}`;
}

/** A short, printable view of the first bytes, to say what non-FastTransfer input looks like. */
function describeBytes(data: Uint8Array): string {
  const head = data.subarray(0, 48);
  const printable = head.every((b) => b === 9 || b === 10 || b === 13 || (b >= 0x20 && b < 0x7f));
  if (printable) return `text: "${Buffer.from(head).toString('latin1')}${data.length > head.length ? '…' : ''}"`;
  return `bytes ${hex(head.subarray(0, 16))}${data.length > 16 ? '…' : ''}`;
}

/** True when `data` starts like a framed export: a known header opcode (1-4) in the first uint32. */
export function looksFramed(data: Uint8Array): boolean {
  if (data.length < 4) return false;
  const op = new DataView(data.buffer, data.byteOffset, 4).getUint32(0, true);
  return op >= FxOpcode.Config && op <= FxOpcode.TellPartnerVersion;
}

/**
 * Splits exportItems `data` (already base64-decoded) into its records and joins the TransferBuffer
 * payloads into the FastTransfer stream. An input that ends inside a record is not an error: the
 * available bytes are kept and `truncated` says where it ended.
 * @throws FtsDecodeError "Empty", "NotFramed" (first opcode unknown: e.g. Microsoft's placeholder
 *   text), "UnknownOpcode", "NoTransferBuffer"
 */
export function parseExportFraming(data: Uint8Array): ExportFraming {
  if (data.length === 0) throw new FtsDecodeError('Empty', 'exportItems data is empty: expected framing records [uint32 opcode][uint32 length][payload]', { offset: 0, streamOffset: -1 });
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const records: FxRecord[] = [];
  const segments: FxSegment[] = [];
  const parts: Uint8Array[] = [];
  let streamLength = 0;
  let pos = 0;
  let truncated: ExportFraming['truncated'];
  while (pos < data.length) {
    const recordOffset = pos;
    if (data.length - pos < RECORD_HEADER_BYTES) {
      if (records.length === 0 && !looksFramed(data)) break; // reported as NotFramed below
      truncated = { offset: data.length, recordOffset };
      break;
    }
    const opcode = view.getUint32(pos, true);
    const length = view.getUint32(pos + 4, true);
    const opcodeName = OPCODE_NAMES.get(opcode);
    if (!opcodeName) {
      if (records.length === 0) {
        throw new FtsDecodeError('NotFramed', `exportItems data is not a FastTransfer export: the first record's opcode 0x${opcode.toString(16).padStart(8, '0')} at offset 0 is none of 1 Config, 2 TransferBuffer, 3 IsInterfaceOk, 4 TellPartnerVersion; the data is ${describeBytes(data)}`, { offset: 0, streamOffset: -1 });
      }
      throw new FtsDecodeError('UnknownOpcode', `exportItems framing: unknown record opcode 0x${opcode.toString(16)} at offset ${pos} (after ${records.length} records)`, { offset: pos, streamOffset: -1 });
    }
    const start = pos + RECORD_HEADER_BYTES;
    const available = Math.min(length, data.length - start);
    const payload = data.subarray(start, start + available);
    const complete = available === length;
    // Each record literal spelled out (an object spread per record cost more than the rest of the framing).
    if (opcode === FxOpcode.TransferBuffer) {
      records.push({ opcode, opcodeName, offset: recordOffset, length, availableLength: available, kind: 'transferBuffer', streamOffset: streamLength });
      segments.push({ inputOffset: start, streamOffset: streamLength, length: available });
      parts.push(payload);
      streamLength += available;
    } else if (opcode === FxOpcode.Config && complete && length === 8) {
      records.push({ opcode, opcodeName, offset: recordOffset, length, availableLength: available, kind: 'config', config: { flags: view.getUint32(start, true), transferMethod: view.getUint32(start + 4, true) } });
    } else if (opcode === FxOpcode.IsInterfaceOk && complete && length === 24) {
      const iid = guidFromBytes(data, start + 4);
      records.push({ opcode, opcodeName, offset: recordOffset, length, availableLength: available, kind: 'isInterfaceOk', isInterfaceOk: { transferMethod: view.getUint32(start, true), iid, iidName: IID_NAMES.get(iid), flags: view.getUint32(start + 20, true) } });
    } else if (opcode === FxOpcode.TellPartnerVersion && complete) {
      records.push({ opcode, opcodeName, offset: recordOffset, length, availableLength: available, kind: 'partnerVersion', partnerVersion: { hex: hex(payload), version: versionText(payload) } });
    } else {
      records.push({ opcode, opcodeName, offset: recordOffset, length, availableLength: available, kind: 'other', payloadHex: hex(payload) });
    }
    if (!complete) {
      truncated = { offset: data.length, recordOffset, declaredLength: length };
      break;
    }
    pos = start + length;
  }
  if (records.length === 0 && !truncated) {
    throw new FtsDecodeError('NotFramed', `exportItems data is not a FastTransfer export: ${data.length} bytes, too short for one record header; the data is ${describeBytes(data)}`, { offset: 0, streamOffset: -1 });
  }
  if (segments.length === 0 && !truncated) {
    throw new FtsDecodeError('NoTransferBuffer', `exportItems framing holds ${records.length} records but no TransferBuffer (opcode 2): there is no FastTransfer stream`, { offset: data.length, streamOffset: -1 });
  }
  return { records, stream: parts.length === 1 ? parts[0] : concatBytes(parts), segments, truncated };
}

/** Maps a stream offset to the input offset of the same byte (the end of the input for the offset
 *  just past the last byte). */
export function streamToInputOffset(framing: Pick<ExportFraming, 'segments'>, streamOffset: number): number {
  const segs = framing.segments;
  for (const s of segs) if (streamOffset < s.streamOffset + s.length) return s.inputOffset + Math.max(0, streamOffset - s.streamOffset);
  const last = segs[segs.length - 1];
  return last ? last.inputOffset + last.length + (streamOffset - last.streamOffset - last.length) : streamOffset;
}

/** The header records Outport writes before the TransferBuffers; defaults copy the real sample. */
export interface FramingHeader {
  readonly config?: FxConfig;
  readonly isInterfaceOk?: { readonly transferMethod: number; readonly iid: string; readonly flags: number };
  /** TellPartnerVersion payload; the sample's is 6 bytes (15.20.4566.6022). */
  readonly partnerVersion?: Uint8Array;
}

/** The header values of the import how-to's real `Data` (the only real sample). */
export const SAMPLE_FRAMING_HEADER: Required<FramingHeader> = {
  config: { flags: 0, transferMethod: 1 },
  isInterfaceOk: { transferMethod: 1, iid: IID_IMESSAGE, flags: 0x80002400 },
  partnerVersion: Uint8Array.from([0x14, 0x0f, 0xd6, 0x91, 0x86, 0x17]),
};

/** Options for {@link frameExportData}. */
export interface FrameOptions {
  /** TransferBuffer payload size in bytes, ≥ 1 (default 0x7BC0 = 31,680); the last buffer may be shorter. */
  readonly bufferSizeBytes?: number;
  /** Header records; `null` writes none (only TransferBuffers). Default {@link SAMPLE_FRAMING_HEADER}. */
  readonly header?: FramingHeader | null;
}

function record(opcode: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(RECORD_HEADER_BYTES + payload.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, opcode, true);
  v.setUint32(4, payload.length, true);
  out.set(payload, RECORD_HEADER_BYTES);
  return out;
}

/**
 * Wraps a FastTransfer stream in export framing: header records (Config, IsInterfaceOk,
 * TellPartnerVersion), then the stream cut into TransferBuffers of `bufferSizeBytes` (an empty stream
 * still gets one empty TransferBuffer). The inverse of {@link parseExportFraming}.
 * @throws FtsEncodeError "BadOption" for a buffer size below 1
 */
export function frameExportData(stream: Uint8Array, options: FrameOptions = {}): Uint8Array {
  const size = options.bufferSizeBytes ?? DEFAULT_TRANSFER_BUFFER_BYTES;
  if (!Number.isInteger(size) || size < 1) throw new FtsEncodeError('BadOption', `bufferSizeBytes must be a positive integer, got ${size}`);
  const header = options.header === undefined ? SAMPLE_FRAMING_HEADER : options.header;
  const out: Uint8Array[] = [];
  if (header) {
    const h = { ...SAMPLE_FRAMING_HEADER, ...header };
    const c = new Uint8Array(8);
    new DataView(c.buffer).setUint32(0, h.config.flags >>> 0, true);
    new DataView(c.buffer).setUint32(4, h.config.transferMethod >>> 0, true);
    out.push(record(FxOpcode.Config, c));
    const i = new Uint8Array(24);
    new DataView(i.buffer).setUint32(0, h.isInterfaceOk.transferMethod >>> 0, true);
    i.set(guidToBytes(h.isInterfaceOk.iid), 4);
    new DataView(i.buffer).setUint32(20, h.isInterfaceOk.flags >>> 0, true);
    out.push(record(FxOpcode.IsInterfaceOk, i));
    out.push(record(FxOpcode.TellPartnerVersion, h.partnerVersion));
  }
  if (stream.length === 0) out.push(record(FxOpcode.TransferBuffer, stream));
  for (let o = 0; o < stream.length; o += size) out.push(record(FxOpcode.TransferBuffer, stream.subarray(o, o + size)));
  return concatBytes(out);
}

/**
 * Frames a stream with TransferBuffers cut at the given stream offsets (strictly increasing, inside
 * the stream) instead of a fixed size: for tests of cuts inside tags, lengths and characters.
 */
export function frameExportDataAt(stream: Uint8Array, cuts: readonly number[], header: FramingHeader | null = SAMPLE_FRAMING_HEADER): Uint8Array {
  const head = header ? frameExportData(new Uint8Array(0), { header }).subarray(0, -RECORD_HEADER_BYTES) : new Uint8Array(0);
  const bounds = [0, ...cuts.filter((c) => c > 0 && c < stream.length), stream.length];
  const out: Uint8Array[] = [head];
  for (let k = 0; k + 1 < bounds.length; k++) {
    if (bounds[k + 1] < bounds[k]) throw new FtsEncodeError('BadOption', 'cuts must be increasing');
    out.push(record(FxOpcode.TransferBuffer, stream.subarray(bounds[k], bounds[k + 1])));
  }
  return concatBytes(out);
}

/** Concatenates byte arrays into one Uint8Array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}
