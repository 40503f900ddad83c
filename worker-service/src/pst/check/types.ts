/**
 * The checker's vocabulary: finding codes, findings, the report, and the collector every check
 * writes to (bounded by `maxFindings`, cancellable through an AbortSignal).
 */

/**
 * Stable finding codes, grouped by layer (MS-PST section in brackets). Callers decide from the
 * code, never from message text. The list in docs/pst-format-notes.md "Checker" says what each
 * code means and which Outlook quirks each check tolerates.
 */
export type CheckCode =
  // file and header [2.2.2.6, 2.2.2.5]
  | 'FileUnreadable' | 'HeaderMagic' | 'HeaderVersion' | 'HeaderCrcPartial' | 'HeaderCrcFull' | 'HeaderSentinel'
  | 'HeaderCryptMethod' | 'AMapInvalid' | 'FileEof' | 'AMapLast' | 'AMapFree' | 'PMapFree' | 'BidNextB' | 'BidNextP' | 'NidNext'
  // pages and B-trees [2.2.2.7]
  | 'PageUnreadable' | 'PageTrailer' | 'PageSignature' | 'PageCrc' | 'BTreePage' | 'BTreeLevel' | 'BTreeCycle' | 'BTreeDepth'
  | 'BTreeKeyOrder' | 'BTreeKeyMin'
  // blocks [2.2.2.8]
  | 'BlockOutOfFile' | 'BlockAlignment' | 'BlockCrossesInterval' | 'BlockTrailer' | 'BlockSignature' | 'BlockCrc'
  | 'BlockBidZero' | 'InternalBlock' | 'DataTreeSize' | 'SubnodeKeyOrder' | 'BbtRefCount' | 'BlockMissing' | 'NodeBlockType'
  // allocation maps [2.2.2.7.2-6]
  | 'MapPageMissing' | 'AMapMismatch' | 'AMapOverlap' | 'DListMismatch'
  // nodes [2.2.2.7.7.4, 2.4]
  | 'NbtParentMissing' | 'FolderTableMissing' | 'MessageParentNotFolder' | 'FolderCycle'
  // LTP [2.3]
  | 'HeapCorrupt' | 'BthCorrupt' | 'PcCorrupt' | 'TableCorrupt'
  // messaging [2.4]
  | 'TableRowMismatch' | 'TableRowMissing' | 'TableRowOrphan' | 'ContentCount' | 'UnreadCount' | 'Subfolders'
  | 'MessageSize' | 'MessageSizeMissing' | 'AttachSize' | 'AttachSizeMissing' | 'AttachMissingRenderingPosition'
  | 'AttachTableMismatch' | 'MessageUnreadable'
  // run limits
  | 'CheckLimit';

/** Severity: 'error' = Outlook/ScanPST would repair or reject it; 'warning' = suspicious but readable. */
export type CheckSeverity = 'error' | 'warning';

/** One problem found. Location fields are present when they apply. */
export interface CheckFinding {
  readonly code: CheckCode;
  readonly severity: CheckSeverity;
  /** Names the structure, where it is, expected vs found, and the MS-PST section. */
  readonly message: string;
  /** File offset (bytes) of the structure. */
  readonly offset?: number;
  /** NID of the node concerned (a subnode's own NID for attachments and tables inside a message). */
  readonly nid?: number;
  /** BID of the block or page concerned. */
  readonly bid?: number;
}

/** Counts of what the checker looked at. */
export interface CheckStats {
  /** B-tree pages (NBT + BBT) visited. */
  pages: number;
  /** BBT entries (blocks) checked. */
  blocks: number;
  /** NBT leaf entries (nodes). */
  nodes: number;
  /** Normal folders and search folders. */
  folders: number;
  /** Normal and associated (FAI) messages in the NBT. */
  messages: number;
  /** Attachments reached through attachment tables (embedded messages included). */
  attachments: number;
  /** AMap intervals. */
  intervals: number;
  /** File size in bytes. */
  fileBytes: number;
}

/** The result of {@link checkPst}. `findings` is empty for a clean file. */
export interface CheckReport {
  readonly file: string;
  /** 'unicode' (wVer 23) or 'ansi' (wVer 14/15); undefined when the header could not be read. */
  readonly format?: 'unicode' | 'ansi';
  readonly findings: CheckFinding[];
  readonly stats: CheckStats;
  /** True when maxFindings was reached and the check stopped early. */
  readonly truncated: boolean;
  /** Wall time of the check in milliseconds. */
  readonly elapsedMs: number;
}

/** Options of {@link checkPst}. */
export interface CheckOptions {
  /** Stop after this many findings (default 1000); the report then has `truncated: true`. */
  readonly maxFindings?: number;
  /** Cancels the check: checkPst then rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

/** Thrown inside the checker when maxFindings is reached; caught by checkPst. */
export class CheckLimitReached extends Error {
  constructor() {
    super('maxFindings reached');
    this.name = 'CheckLimitReached';
  }
}

/** Where a finding is. */
export interface FindingLocation {
  offset?: number;
  nid?: number;
  bid?: number | bigint;
}

/** Collects findings up to a limit; `tick()` lets long loops honour the AbortSignal. */
export class FindingSink {
  readonly findings: CheckFinding[] = [];
  truncated = false;
  private ticks = 0;
  constructor(private readonly max: number, private readonly signal?: AbortSignal) {}

  /** Adds a finding. @throws CheckLimitReached once `max` findings are held */
  add(code: CheckCode, message: string, where: FindingLocation = {}, severity: CheckSeverity = 'error'): void {
    const f: { -readonly [K in keyof CheckFinding]: CheckFinding[K] } = { code, severity, message };
    if (where.offset !== undefined) f.offset = where.offset;
    if (where.nid !== undefined) f.nid = where.nid >>> 0;
    if (where.bid !== undefined) f.bid = Number(where.bid);
    this.findings.push(f);
    if (this.findings.length >= this.max) {
      this.truncated = true;
      throw new CheckLimitReached();
    }
  }

  /** Counts of findings per code (for tests and summaries). */
  codes(): Set<CheckCode> {
    return new Set(this.findings.map((f) => f.code));
  }

  /** Call in long loops: throws the signal's reason when aborted. */
  tick(): void {
    if ((++this.ticks & 0xff) === 0) this.signal?.throwIfAborted();
  }
}

/** "0x…" for ids and offsets in messages. */
export function hex(n: number | bigint | undefined): string {
  if (n === undefined) return '?';
  return '0x' + (typeof n === 'bigint' ? n.toString(16) : (n < 0 ? n : n).toString(16));
}
