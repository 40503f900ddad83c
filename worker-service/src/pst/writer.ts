/**
 * The PST writer's public API: items in, PST parts out. Writes Unicode PST (MS-PST) in one pass
 * into sinks (pst/sink.ts), splitting into parts at `splitSizeBytes`: when the next item would pass
 * the limit, the part is closed and the next begins with the same folder path. Parts are named
 * `name.pst`, `name-2.pst`, `name-3.pst`, …
 *
 * Input is validated here (STYLE.md: the API layer checks, the core trusts).
 */
import { basename } from 'node:path';
import type { MapiFolder, MapiItem, PropertyBag } from '../mapi/item';
import { CryptMethod } from './ndb/crypt';
import { estimateItemBytes } from './estimate';

export { estimateItemBytes } from './estimate';
import { AMAP_INTERVAL, FIRST_AMAP_OFFSET } from './ndb/constants';
import type { NdbStats } from './ndb/write-ndb';
import { PstStoreWriter, newStoreNameMap, type WrittenItem } from './messaging/write-store';
import { collectNamedKeys } from './messaging/encode-message';
import { encodeStoreItem, type EncodedStoreItem } from './messaging/encode-item';
import type { NameToIdMapBuilder } from './messaging/write-nameid';
import type { NamedPropertyKey } from '../mapi/named';
import type { FolderHandle } from './messaging/write-folder';
import type { PstSink } from './sink';

export { CryptMethod } from './ndb/crypt';
import { isPartFailure, markPartFailure } from './ndb/write-ndb';
export { isPartFailure };
export type { PstSink } from './sink';
export { FilePstSink, MemoryPstSink } from './sink';

/** 10 GiB: the default part size (MigrationWiz's "a new PST every 10 GB"). */
export const DEFAULT_SPLIT_SIZE_BYTES = 10 * 1024 ** 3;
/** Smallest part size accepted: one AMap interval plus the fixed store structures. */
export const MIN_SPLIT_SIZE_BYTES = 1024 * 1024;
/** Outlook's default limit for a Unicode PST (50 GB); larger parts are refused. */
export const MAX_SPLIT_SIZE_BYTES = 50 * 1024 ** 3;

/** Bytes of the structure every store gets at close (folder PCs and tables, templates, store, name map). */
const STORE_STRUCTURE_BYTES = 48 * 1024;

/** Error for bad writer input, with a stable code and a message that says how to fix it. */
export class PstWriterError extends Error {
  constructor(
    readonly code: 'BadSplitSize' | 'BadPartName' | 'WriterClosed' | 'BadFolderPath' | 'BadItem' | 'NotReady',
    message: string,
  ) {
    super(message);
    this.name = 'PstWriterError';
  }
}

/** Options of {@link PstWriter.open}. */
export interface PstWriterOptions {
  /** File name of the first part, ending in .pst (e.g. "user1.pst"); later parts add -2, -3, … */
  partName: string;
  /** Opens the sink for a part given its file name. */
  openSink: (partFileName: string, partIndex: number) => Promise<PstSink>;
  /** Part size limit in bytes (default 10 GiB, at least 1 MiB, at most 50 GiB). */
  splitSizeBytes?: number;
  /** bCryptMethod: Permute (Outlook's default) or None. */
  cryptMethod?: CryptMethod;
  /** Store display name (PidTagDisplayName of the message store); default: the part name without .pst. */
  displayName?: string;
  /** Called when a part is complete. */
  onPartClosed?: (part: PstPartInfo) => void | Promise<void>;
  /**
   * 1-based index of the first part this writer produces (default 1). A resumed export whose parts
   * 1..n are finished passes n + 1, so its parts are named `name-(n+1).pst`, … and displayed "(n+1)".
   */
  firstPartIndex?: number;
  /**
   * Whether {@link PstWriter.close} writes one empty part when no item was added (default true: an
   * export of nothing still yields a valid PST). A resumed or incremental run with earlier parts
   * passes false, so that "nothing new" adds no part.
   */
  emptyPart?: boolean;
  /**
   * PidTagRecordKey of part `partIndex`'s store (16 bytes; every entry id in the part embeds it).
   * Default: 16 random bytes per part, as Outlook makes a new GUID per data file. The record key is
   * the only input of the writer that is not the items themselves, so with a fixed one the same
   * items give the same bytes (tests compare parts byte for byte; docs/export.md "Resume and faults").
   */
  recordKey?: (partIndex: number) => Uint8Array;
}

/** A finished part. */
export interface PstPartInfo {
  index: number;
  fileName: string;
  items: number;
  stats: NdbStats;
}

/** Where an item went. */
export interface PstItemPlacement extends WrittenItem {
  partIndex: number;
  partFileName: string;
}

/** File name of part `index` (1-based): name.pst, name-2.pst, … @throws PstWriterError "BadPartName" */
export function partFileName(firstName: string, index: number): string {
  if (!/\.pst$/i.test(firstName) || basename(firstName) !== firstName || firstName.length <= 4) {
    throw new PstWriterError('BadPartName', `part name "${firstName}" must be a file name ending in .pst, without directories (e.g. "user1.pst")`);
  }
  if (index === 1) return firstName;
  return `${firstName.slice(0, -4)}-${index}${firstName.slice(-4)}`;
}

/**
 * Items whose exact laid-out size a split decision may not wait for: the decision for item k uses
 * the part's exact size after item k − SPLIT_WINDOW − 1 plus the estimates of the items since.
 * Fixed, so that the parts do not depend on how far layout lags (encoder threads) — the same items
 * always split at the same place, with or without threads.
 */
export const SPLIT_WINDOW = 32;

/** Sizes of a part after an item was laid out (for the split decision of a later item). */
interface PartSnapshot {
  sizeBytes: number;
  nodeCount: number;
  blockCount: number;
}

/** What an empty part reports before its first item (NdbWriter.sizeBytes before its first write: the first AMap's offset). */
const EMPTY_PART: Readonly<PartSnapshot> = { sizeBytes: FIRST_AMAP_OFFSET, nodeCount: 0, blockCount: 0 };

/**
 * A part as items are admitted to it, ahead of its layout: its index, its name-to-id map (named
 * property ids are assigned at admission, in item order) and the figures of the split rule.
 */
export interface PartPlan {
  readonly index: number;
  readonly names: NameToIdMapBuilder;
  /** Sequence number of the part's first admitted item. */
  readonly firstSeq: number;
  items: number;
  pendingTableBytes: number;
  /** Folder paths whose folder properties' names were resolved for this part. */
  readonly folderKeys: Set<string>;
}

/** An admitted item: its sequence number and its part. */
export interface Admission {
  readonly seq: number;
  readonly plan: PartPlan;
}

function folderKey(path: readonly MapiFolder[]): string {
  return path.map((f) => f.displayName.toLowerCase()).join('\u0000');
}

function resolveBagNames(names: NameToIdMapBuilder, bag: PropertyBag): void {
  for (const e of bag.entries()) if (e.kind === 'named') names.idFor(e.key);
}

/**
 * Writes items into one or more PST parts. Use `addItem(folderPath, item)` in any folder order;
 * each part holds the folder path of every item it contains.
 *
 * Each item goes through two steps, in item order: admission ({@link PstWriter.admit}: which part,
 * named property ids) and layout ({@link PstWriter.layoutItem}: blocks, node, row). `addItem` does
 * both at once; an encoder pool (pst/encode/pool.ts) admits items ahead, encodes them in threads
 * and lays them out as they come back, with the same result byte for byte.
 */
export class PstWriter {
  private part?: PstStoreWriter;
  private partIndex = 0;
  private partItems = 0;
  private folderCache = new Map<string, FolderHandle>();
  private topFolderProperties?: PropertyBag;
  private closed = false;
  /** The part failure (isPartFailure) that broke the current part: every later call throws it. */
  private broken?: unknown;

  private throwIfBroken(): void {
    if (this.broken !== undefined) throw this.broken;
  }
  readonly parts: PstPartInfo[] = [];
  private readonly splitSizeBytes: number;
  /** The part items are being admitted to. */
  private plan?: PartPlan;
  private nextSeq = 0;
  /** Items with a lower sequence number are laid out (or skipped). */
  private laidOutSeq = 0;
  private readonly ringEstimate = new Float64Array(SPLIT_WINDOW + 1);
  private readonly ringSnapshot: PartSnapshot[] = Array.from({ length: SPLIT_WINDOW + 1 }, () => ({ ...EMPTY_PART }));

  private constructor(private readonly options: PstWriterOptions) {
    const split = options.splitSizeBytes ?? DEFAULT_SPLIT_SIZE_BYTES;
    if (!Number.isFinite(split) || split < MIN_SPLIT_SIZE_BYTES || split > MAX_SPLIT_SIZE_BYTES) {
      throw new PstWriterError('BadSplitSize', `split size ${split} bytes is outside ${MIN_SPLIT_SIZE_BYTES} (1 MiB) … ${MAX_SPLIT_SIZE_BYTES} (50 GiB, Outlook's default Unicode PST limit)`);
    }
    this.splitSizeBytes = split;
    const first = options.firstPartIndex ?? 1;
    if (!Number.isSafeInteger(first) || first < 1) {
      throw new PstWriterError('BadPartName', `firstPartIndex ${first} must be a whole number ≥ 1 (1 = "${options.partName}", 2 = its "-2" part, …)`);
    }
    this.partIndex = first - 1;
    partFileName(options.partName, 1);
  }

  /** Validates options; the first part's sink opens with the first item (or at close for an empty export). */
  static open(options: PstWriterOptions): PstWriter {
    return new PstWriter(options);
  }

  private newPlan(): PartPlan {
    const index = (this.plan?.index ?? this.partIndex) + 1;
    const plan: PartPlan = { index, names: newStoreNameMap(), firstSeq: this.nextSeq, items: 0, pendingTableBytes: 0, folderKeys: new Set() };
    if (this.topFolderProperties) resolveBagNames(plan.names, this.topFolderProperties);
    this.plan = plan;
    return plan;
  }

  private async openPart(plan: PartPlan): Promise<PstStoreWriter> {
    this.partIndex = plan.index;
    const fileName = partFileName(this.options.partName, this.partIndex);
    const sink = await this.options.openSink(fileName, this.partIndex);
    const base = this.options.displayName ?? this.options.partName.replace(/\.pst$/i, '');
    this.part = PstStoreWriter.create(sink, {
      displayName: this.partIndex === 1 ? base : `${base} (${this.partIndex})`,
      cryptMethod: this.options.cryptMethod ?? CryptMethod.Permute,
      names: plan.names,
      ...(this.options.recordKey ? { recordKey: this.options.recordKey(this.partIndex) } : {}),
    });
    this.partItems = 0;
    this.folderCache.clear();
    if (this.topFolderProperties) this.part.setFolderProperties(this.part.topFolder, this.topFolderProperties);
    return this.part;
  }

  private async closePart(): Promise<void> {
    if (!this.part) return;
    const stats = await this.part.close();
    const info: PstPartInfo = { index: this.partIndex, fileName: partFileName(this.options.partName, this.partIndex), items: this.partItems, stats };
    this.parts.push(info);
    this.part = undefined;
    await this.options.onPartClosed?.(info);
  }

  /** The open part for `plan`, closing the previous part first when the plan is a later one. */
  private async partFor(plan: PartPlan): Promise<PstStoreWriter> {
    if (this.part && this.partIndex === plan.index) return this.part;
    try {
      await this.closePart();
      return await this.openPart(plan);
    } catch (err) {
      // the previous part could not be finished, or the next one not opened: the output is broken
      this.broken ??= markPartFailure(err);
      throw this.broken;
    }
  }

  /**
   * The size the plan's part would have if it were closed after `estimate` more bytes, as the
   * split rule sees it at item `seq`: the exact size after item seq − SPLIT_WINDOW − 1 (or an
   * empty part's), the estimates of the items since, the folder tables still to write, the NBT/BBT
   * pages (15 node / 20 block entries a leaf page, ~6 % more for the levels above), the fixed
   * store structure, rounded up to a whole AMap interval because a PST ends on one (MS-PST 2.6.1.1.2).
   */
  private projectedFileBytes(plan: PartPlan, seq: number, estimate: number): number {
    const j0 = seq - SPLIT_WINDOW - 1;
    const base = j0 >= plan.firstSeq ? this.ringSnapshot[j0 % this.ringSnapshot.length] : EMPTY_PART;
    let extra = estimate;
    let nodes = base.nodeCount + 1;
    for (let j = Math.max(j0 + 1, plan.firstSeq); j < seq; j++, nodes++) extra += this.ringEstimate[j % this.ringEstimate.length];
    const btreeBytes = Math.ceil((Math.ceil(nodes / 15) + Math.ceil((base.blockCount + extra / 4096) / 20)) * 1.06 + 4) * 512;
    const laidOut = base.sizeBytes + plan.pendingTableBytes + btreeBytes + STORE_STRUCTURE_BYTES + extra;
    return FIRST_AMAP_OFFSET + Math.ceil((laidOut - FIRST_AMAP_OFFSET) / AMAP_INTERVAL) * AMAP_INTERVAL;
  }

  /** Checks a folder path. @throws PstWriterError "BadFolderPath" | "WriterClosed" */
  private checkPath(folderPath: readonly MapiFolder[]): void {
    if (this.closed) throw new PstWriterError('WriterClosed', 'the writer is closed');
    for (const f of folderPath) {
      if (typeof f.displayName !== 'string' || !f.displayName.trim()) throw new PstWriterError('BadFolderPath', 'every folder in the path needs a non-empty displayName');
    }
  }

  /** The plan for folder operations and items: the current one, or the first. */
  private currentPlan(): PartPlan {
    return this.plan ?? this.newPlan();
  }

  /** Resolves the names of a folder path's properties in `plan` (once per path and part). */
  private admitFolderPath(plan: PartPlan, folderPath: readonly MapiFolder[]): void {
    const key = folderKey(folderPath);
    if (plan.folderKeys.has(key)) return;
    plan.folderKeys.add(key);
    for (const f of folderPath) if (f.properties) resolveBagNames(plan.names, f.properties);
  }

  /**
   * Whether the next item may be admitted now: the
   * split rule needs item seq − SPLIT_WINDOW − 1 laid out when that item is in the same part.
   */
  get admissionReady(): boolean {
    const j0 = this.nextSeq - SPLIT_WINDOW - 1;
    return j0 < 0 || this.laidOutSeq > j0 || (this.plan !== undefined && j0 < this.plan.firstSeq);
  }

  /**
   * Admits the next item (in item order) and decides its part by the split rule: a new part
   * begins when the item would pass `splitSizeBytes`. Its names come next, with
   * {@link PstWriter.admitNames}; a failure after admission is recorded with {@link PstWriter.skipItem}.
   * @param estimate  the item's bytes as {@link estimateItemBytes} gives them
   * @throws PstWriterError "WriterClosed" | "BadFolderPath" | "NotReady" (see admissionReady)
   */
  admit(folderPath: readonly MapiFolder[], estimate: number): Admission {
    this.checkPath(folderPath);
    if (!this.admissionReady) throw new PstWriterError('NotReady', `item ${this.nextSeq} admitted before item ${this.nextSeq - SPLIT_WINDOW - 1} was laid out`);
    let plan = this.currentPlan();
    const seq = this.nextSeq;
    if (plan.items > 0 && this.projectedFileBytes(plan, seq, estimate) > this.splitSizeBytes) plan = this.newPlan();
    this.nextSeq++;
    this.ringEstimate[seq % this.ringEstimate.length] = estimate;
    plan.items++;
    plan.pendingTableBytes += 160 + Math.min(estimate, 2048) / 4;
    return { seq, plan };
  }

  /**
   * Resolves an admitted item's names in its part's name-to-id map, in the order a sequential
   * writer meets them: its folder path's properties (first time in the part), then `namedKeys`
   * (encode-message.ts `collectNamedKeys` order). Returns the ids of `namedKeys`.
   * @throws NameIdMapFullError
   */
  admitNames(adm: Admission, folderPath: readonly MapiFolder[], namedKeys: readonly NamedPropertyKey[]): number[] {
    this.admitFolderPath(adm.plan, folderPath);
    return namedKeys.map((k) => adm.plan.names.idFor(k));
  }

  /** @throws PstWriterError "NotReady" when `adm` is not the next item to lay out */
  private checkLayoutOrder(adm: Admission): void {
    if (adm.seq !== this.laidOutSeq) throw new PstWriterError('NotReady', `item ${adm.seq} laid out before item ${this.laidOutSeq}`);
  }

  /** Records the part's sizes after item `adm` for the split rule of item adm.seq + SPLIT_WINDOW + 1. */
  private recordLayout(adm: Admission): void {
    const snap = this.ringSnapshot[adm.seq % this.ringSnapshot.length];
    const part = this.part && this.partIndex === adm.plan.index ? this.part : undefined;
    snap.sizeBytes = part ? part.sizeBytes : EMPTY_PART.sizeBytes;
    snap.nodeCount = part ? part.nodeCount : EMPTY_PART.nodeCount;
    snap.blockCount = part ? part.blockCount : EMPTY_PART.blockCount;
    this.laidOutSeq++;
  }

  /**
   * Lays out an admitted item encoded with its part's name map (messaging/encode-item.ts), in
   * admission order: opens the item's part (closing the one before) and writes the item.
   * @throws PstWriterError "NotReady" out of order; errors of the sink
   */
  async layoutItem(adm: Admission, folderPath: readonly MapiFolder[], enc: EncodedStoreItem): Promise<PstItemPlacement> {
    this.throwIfBroken();
    this.checkLayoutOrder(adm);
    let written: Awaited<ReturnType<PstStoreWriter['addEncodedItem']>>;
    try {
      const part = await this.partFor(adm.plan);
      written = await part.addEncodedItem(this.folderFor(folderPath), enc);
    } catch (err) {
      // the sink or sealing failed: the part cannot be finished, and this item stays half laid out
      if (isPartFailure(err)) this.broken = err;
      throw err;
    }
    this.partItems++;
    this.recordLayout(adm);
    return { ...written, partIndex: this.partIndex, partFileName: partFileName(this.options.partName, this.partIndex) };
  }

  /** Records that an admitted item will not be laid out (its encoding failed); keeps the order going. */
  skipItem(adm: Admission): void {
    this.checkLayoutOrder(adm);
    this.recordLayout(adm);
  }

  /** The folder handle for a path in the current part, creating folders as needed. */
  private folderFor(path: readonly MapiFolder[]): FolderHandle {
    const key = folderKey(path);
    let h = this.folderCache.get(key);
    if (!h) {
      h = this.part!.ensurePath(path);
      this.folderCache.set(key, h);
    }
    return h;
  }

  /**
   * Writes `item` into the folder at `folderPath` (from the top of the store), starting a new part
   * first when it would pass the split size.
   * @throws PstWriterError "BadFolderPath" | "WriterClosed"; errors of the store writer for bad values
   */
  async addItem(folderPath: readonly MapiFolder[], item: MapiItem): Promise<PstItemPlacement> {
    this.throwIfBroken();
    const adm = this.admit(folderPath, estimateItemBytes(item));
    let enc: EncodedStoreItem;
    try {
      this.admitNames(adm, folderPath, collectNamedKeys(item));
      enc = encodeStoreItem(adm.plan.names, item);
    } catch (err) {
      this.skipItem(adm);
      throw err;
    }
    return this.layoutItem(adm, folderPath, enc);
  }

  /**
   * Properties for the top of every part's visible tree (the IPM subtree), e.g. those of the source
   * PST's IPM subtree when rewriting. Applies to the current part and every later one. (An encoder
   * pool applies it in order with its items: pst/encode/pool.ts.)
   */
  setTopFolderProperties(properties: PropertyBag): void {
    this.topFolderProperties = properties;
    if (this.plan) resolveBagNames(this.plan.names, properties);
    if (this.part && this.partIndex === this.plan?.index) this.part.setFolderProperties(this.part.topFolder, properties);
  }

  /** Creates a folder path in the current part even if no item goes there (empty folders). */
  async ensureFolder(folderPath: readonly MapiFolder[]): Promise<void> {
    this.throwIfBroken();
    await this.layoutFolder(this.admitFolder(folderPath), folderPath);
  }

  /**
   * First step of {@link PstWriter.ensureFolder}, in order with item admissions: the folder's part
   * and the names of its path's properties. @throws PstWriterError "WriterClosed" | "BadFolderPath"
   */
  admitFolder(folderPath: readonly MapiFolder[]): PartPlan {
    this.checkPath(folderPath);
    const plan = this.currentPlan();
    this.admitFolderPath(plan, folderPath);
    return plan;
  }

  /** Second step of {@link PstWriter.ensureFolder}, in order with item layouts: creates the folders. */
  async layoutFolder(plan: PartPlan, folderPath: readonly MapiFolder[]): Promise<void> {
    this.throwIfBroken();
    await this.partFor(plan);
    this.folderFor(folderPath);
  }

  /**
   * Closes the last part. An export with no items still produces one valid, empty PST unless
   * `emptyPart: false` was given (then no part at all).
   */
  async close(): Promise<PstPartInfo[]> {
    if (this.closed) throw new PstWriterError('WriterClosed', 'the writer is already closed');
    this.throwIfBroken();
    this.closed = true;
    if (!this.part && this.parts.length === 0 && this.options.emptyPart !== false) await this.partFor(this.currentPlan());
    await this.closePart();
    return this.parts;
  }

  /** Abandons the current part after a failure (finished parts stay). */
  async abort(): Promise<void> {
    this.closed = true;
    await this.part?.abort();
    this.part = undefined;
  }
}
