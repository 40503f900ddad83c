/**
 * `outport inspect-fts FILE`: one exportItems item (raw bytes, base64 text, or a Graph JSON body
 * with `data` / `Data` / `value[].data`) decoded to the project's JSON view (pst/dump.ts's item
 * shape), with the framing records, meta-properties, and where the input ended or broke.
 */
import { dumpItem } from '../../pst/dump';
import { base64ToBytes, decodeExportItem, decodeFtsMessage, type FtsMessageResult, type ExportItemResult } from './decode';
import { FtsDecodeError } from './errors';
import { looksFramed, parseExportFraming } from './framing';
import { hexTag } from './markers';

/** What {@link inspectFts} returns: the JSON text (2-space indented, newline-terminated) and the
 *  exit code: 0 only when every item decoded completely, 1 when one is truncated or invalid. */
export interface InspectFtsOutput {
  readonly json: string;
  readonly exitCode: 0 | 1;
}

/** The report for one item (the object behind {@link InspectFtsOutput.json}). */
export interface InspectFtsReport {
  readonly input: { readonly bytes: number; readonly format: 'binary' | 'base64' | 'json'; readonly framed: boolean };
  readonly complete: boolean;
  /** Present (true) when the input ended early. */
  readonly truncated?: true;
  /** Where decoding stopped: the end of the input when truncated, the failing byte on an error. */
  readonly offset?: number;
  readonly streamOffset?: number;
  /** The element the input ended in. */
  readonly incomplete?: Record<string, unknown>;
  readonly framing?: Record<string, unknown>;
  readonly streamBytes?: number;
  /** What was decoded (also on errors inside the stream). */
  readonly item?: unknown;
  readonly metaProperties?: unknown[];
  readonly error?: { readonly code: string; readonly reason?: string; readonly message: string; readonly offset?: number; readonly streamOffset?: number };
}

const isTextByte = (b: number): boolean => b === 9 || b === 10 || b === 13 || (b >= 0x20 && b < 0x7f);

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
}

function reportResult(r: FtsMessageResult & { framing?: ExportItemResult['framing'] }, input: InspectFtsReport['input']): InspectFtsReport {
  const t = r.truncated;
  return {
    input,
    complete: r.complete,
    ...(t
      ? {
          truncated: true as const,
          offset: t.offset,
          streamOffset: t.streamOffset,
          incomplete: {
            path: t.path,
            offset: t.partial.inputOffset,
            streamOffset: t.partial.offset,
            ...(t.partial.tag !== undefined ? { tag: hexTag(t.partial.tag) } : {}),
            ...(t.partial.tagName ? { name: t.partial.tagName } : {}),
            ...(t.partial.named ? { named: t.partial.named } : {}),
            ...(t.partial.codepage !== undefined ? { codepage: t.partial.codepage } : {}),
            ...(t.partial.declaredLength !== undefined ? { declaredLength: t.partial.declaredLength } : {}),
            ...(t.partial.valueBytes ? { availableBytes: t.partial.valueBytes.length, valueHex: hex(t.partial.valueBytes.subarray(0, 256)) } : {}),
            ...(t.partial.textPrefix !== undefined ? { textPrefix: t.partial.textPrefix } : {}),
          },
        }
      : {}),
    ...(r.framing ? { framing: { records: r.framing.records, ...(r.framing.truncated ? { truncated: r.framing.truncated } : {}) } } : {}),
    streamBytes: r.streamBytes,
    item: dumpItem(r.item),
    metaProperties: r.metaProperties.map((m) => ({ ...m, tag: hexTag(m.tag) })),
  };
}

function reportError(e: FtsDecodeError, input: InspectFtsReport['input']): InspectFtsReport {
  return {
    input,
    complete: false,
    offset: e.offset,
    ...(e.streamOffset >= 0 ? { streamOffset: e.streamOffset } : {}),
    ...(e.item ? { item: dumpItem(e.item) } : {}),
    error: { code: e.code, reason: e.reason, message: e.message, offset: e.offset, ...(e.streamOffset >= 0 ? { streamOffset: e.streamOffset } : {}) },
  };
}

/** Decodes one item's bytes: framed data when it starts with a framing opcode, else a bare stream;
 *  a bare decode that fails or runs out on its first element is reported as the framing error (the
 *  clearer message for data that is not an export at all). */
function inspectBytes(bytes: Uint8Array, format: InspectFtsReport['input']['format']): InspectFtsReport {
  const framed = looksFramed(bytes);
  const input = { bytes: bytes.length, format, framed };
  try {
    if (bytes.length === 0) parseExportFraming(bytes); // throws Empty
    if (framed) return reportResult(decodeExportItem(bytes), input);
    try {
      const r = decodeFtsMessage(bytes);
      if (r.truncated && r.truncated.partial.offset === 0) parseExportFraming(bytes); // nothing decoded: throws NotFramed
      return reportResult(r, input);
    } catch (e) {
      if (e instanceof FtsDecodeError && e.streamOffset === 0) parseExportFraming(bytes); // throws NotFramed/Empty
      throw e;
    }
  } catch (e) {
    if (e instanceof FtsDecodeError) return reportError(e, input);
    throw e;
  }
}

function dataFromJson(text: string): string[] {
  const doc = JSON.parse(text) as Record<string, unknown>;
  const pick = (o: unknown): string | undefined => {
    if (!o || typeof o !== 'object') return undefined;
    const r = o as Record<string, unknown>;
    const d = r.data ?? r.Data;
    return typeof d === 'string' ? d : undefined;
  };
  const top = pick(doc);
  if (top !== undefined) return [top];
  if (Array.isArray(doc.value)) return doc.value.map(pick).filter((d): d is string => d !== undefined);
  return [];
}

function inspectText(text: string): InspectFtsReport | InspectFtsReport[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let datas: string[];
    try {
      datas = dataFromJson(trimmed);
    } catch (e) {
      return reportError(new FtsDecodeError('BadBase64', `input starts with "{" but is not JSON: ${(e as Error).message}`, { offset: 0, streamOffset: -1 }), { bytes: text.length, format: 'json', framed: false });
    }
    if (datas.length === 0) {
      return reportError(new FtsDecodeError('Empty', 'JSON input has no "data" or "Data" string (nor value[].data)', { offset: 0, streamOffset: -1 }), { bytes: text.length, format: 'json', framed: false });
    }
    const reports = datas.map((d) => inspectBase64(d, 'json'));
    return reports.length === 1 ? reports[0] : reports;
  }
  return inspectBase64(trimmed, 'base64');
}

function inspectBase64(text: string, format: 'base64' | 'json'): InspectFtsReport {
  let bytes: Uint8Array;
  try {
    bytes = base64ToBytes(text);
  } catch (e) {
    if (e instanceof FtsDecodeError) return reportError(e, { bytes: text.length, format, framed: false });
    throw e;
  }
  return inspectBytes(bytes, format);
}

/** JSON.stringify replacer for values the report may still hold (bigint, bytes). */
function replacer(_key: string, v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Uint8Array) return hex(v);
  return v;
}

/**
 * Decodes one exportItems item for people: the input is the raw bytes, base64 text (as in Graph's
 * `data`), or a Graph JSON body holding `data`/`Data` (several items: `value[].data`, reported as a
 * JSON array). Bytes that are all printable are read as text.
 * @returns JSON with `complete`, the framing records, the item (project dump shape) as far as it
 *   decoded, `truncated: true` with `offset` when the input ends early, or `error` with the code
 *   ("FtsDecodeFailed"), reason and offset when it is invalid; exitCode 0 only for complete items.
 *   Never throws for bad input.
 */
export function inspectFts(input: Uint8Array | string): InspectFtsOutput {
  let report: InspectFtsReport | InspectFtsReport[];
  if (typeof input === 'string') report = inspectText(input);
  else if (input.length > 0 && input.every(isTextByte)) report = inspectText(Buffer.from(input).toString('latin1'));
  else report = inspectBytes(input, 'binary');
  const all = Array.isArray(report) ? report : [report];
  return { json: JSON.stringify(report, replacer, 2) + '\n', exitCode: all.every((r) => r.complete) ? 0 : 1 };
}
