/**
 * The reader's error (MS-PST reading, all layers): every structural problem found while reading a
 * PST becomes a PstReadError with a stable `code` and structured `details` (file offset, nid, bid…),
 * so callers decide from `code`, never from message text.
 */

/** Stable error codes of the PST reader. Grouped by layer; the names say what is wrong. */
export type PstReadErrorCode =
  // source / header (MS-PST 2.2.2.5-2.2.2.6)
  | 'Truncated'
  | 'ReadFailed'
  | 'BadHeaderMagic'
  | 'BadClientMagic'
  | 'UnsupportedVersion'
  | 'HeaderCrcMismatch'
  | 'UnsupportedCryptMethod'
  // pages and B-trees (MS-PST 2.2.2.7)
  | 'BadPageType'
  | 'PageCrcMismatch'
  | 'PageBidMismatch'
  | 'PageSignatureMismatch'
  | 'BadBTreePage'
  | 'BTreeTooDeep'
  | 'BTreeCycle'
  | 'NodeNotFound'
  | 'BlockNotFound'
  // blocks (MS-PST 2.2.2.8)
  | 'BadBlockSize'
  | 'BlockCrcMismatch'
  | 'BlockBidMismatch'
  | 'BlockSignatureMismatch'
  | 'BadInternalBlock'
  | 'DataTreeTooDeep'
  | 'DataTooLarge'
  | 'SubnodeNotFound'
  // LTP (MS-PST 2.3)
  | 'BadHeap'
  | 'HeapOutOfBounds'
  | 'BadHid'
  | 'BadBTreeOnHeap'
  | 'BadPropertyContext'
  | 'BadPropertyValue'
  | 'BadTableContext'
  // messaging (MS-PST 2.4)
  | 'BadNameToIdMap'
  | 'BadFolder'
  | 'BadMessage'
  | 'NestingTooDeep';

/** Structured details of a PstReadError; each present only when it applies. */
export interface PstReadErrorDetails {
  /** File offset (IB) of the structure, in bytes. */
  readonly offset?: number;
  /** Node id involved. */
  readonly nid?: number;
  /** Block id involved. */
  readonly bid?: bigint;
  /** Heap id involved. */
  readonly hid?: number;
  /** Anything else worth reporting (expected/actual values, sizes). */
  readonly [key: string]: unknown;
}

/** The PST reader's error: `code` is stable, `details` structured, `cause` kept when wrapping. */
export class PstReadError extends Error {
  readonly code: PstReadErrorCode;
  readonly details: PstReadErrorDetails;
  /** The message without code and details. */
  readonly reason: string;
  constructor(code: PstReadErrorCode, message: string, details: PstReadErrorDetails = {}, options?: { cause?: unknown }) {
    super(`${code}: ${message}${formatDetails(details)}`, options);
    this.name = 'PstReadError';
    this.code = code;
    this.details = details;
    this.reason = message;
  }
}

function formatDetails(d: PstReadErrorDetails): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(d)) {
    if (v === undefined) continue;
    if (k === 'nid' || k === 'hid') parts.push(`${k}=0x${(Number(v) >>> 0).toString(16)}`);
    else if (k === 'offset') parts.push(`offset=0x${Number(v).toString(16)}`);
    else if (typeof v === 'bigint') parts.push(`${k}=0x${v.toString(16)}`);
    else parts.push(`${k}=${String(v)}`);
  }
  return parts.length ? ` (${parts.join(', ')})` : '';
}

/** Throws PstReadError(code) unless `cond` holds. */
export function check(cond: unknown, code: PstReadErrorCode, message: string, details?: PstReadErrorDetails): asserts cond {
  if (!cond) throw new PstReadError(code, message, details);
}
