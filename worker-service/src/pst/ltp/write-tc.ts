/**
 * Table context builder (MS-PST 2.3.4): a heap-on-node (bClientSig 0x7C) with TCINFO, a row index
 * BTH (dwRowID → dwRowIndex) and a row matrix. Rows are fixed-size: 8- and 4-byte cells, then
 * 2-byte, then 1-byte cells, then the cell existence bitmap (CEB). The row matrix lives in the heap
 * when it fits one allocation, else in a subnode whose blocks hold whole rows
 * (floor(8176 / row size) a block).
 */
import { PropType, fixedSize, tagType, type PropValue } from '../../mapi/types';
import { MAX_BLOCK_DATA } from '../ndb/constants';
import { writeU16, writeU32 } from '../ndb/bytes';
import { ClientSig, MAX_HEAP_ALLOC, TCOLDESC_SIZE, TCINFO_HEADER_SIZE, PROP_TAG_LTP_ROW_ID, PROP_TAG_LTP_ROW_VER } from './constants';
import { reserveBthHeader, writeBth } from './write-bth';
import { HeapBuilder, LtpWriteError, type EmittedHeapBlock } from './write-heap';
import { NumberColumn } from '../ndb/bytes';
import type { LtpNodeOutput, LtpSubnodeStream, SubnodeNidAllocator } from './write-node';
import { encodePropValue, writeFixedValue } from './write-value';

/** A column descriptor (TCOLDESC, MS-PST 2.3.4.2). */
export interface TcColumn {
  tag: number;
  ibData: number;
  cbData: number;
  iBit: number;
}

/** The layout of a table: columns plus the rgib end offsets (MS-PST 2.3.4.1 TCINFO). */
export interface TcLayout {
  columns: TcColumn[];
  /** End of the 8/4-byte cells, of the 2-byte cells, of the 1-byte cells, and row size (after the CEB). */
  rgib: [number, number, number, number];
}

/** Cell width of a column type in a TC row (MS-PST 2.3.4.4.1): fixed sizes up to 8, else a 4-byte HNID. */
export function cellSize(type: number): number {
  const f = fixedSize(type);
  if (f === 0 || f > 8) return 4;
  return f;
}

/**
 * Computes a layout for a column set: row id (0x67F2) and row version (0x67F3) first, then 8-byte,
 * 4-byte, 2-byte and 1-byte cells in the given order; iBit in column order.
 */
export function layoutColumns(tags: number[]): TcLayout {
  const rest = tags.filter((t) => t !== PROP_TAG_LTP_ROW_ID && t !== PROP_TAG_LTP_ROW_VER);
  const all = [PROP_TAG_LTP_ROW_ID, PROP_TAG_LTP_ROW_VER, ...rest];
  if (all.length > 255) throw new LtpWriteError('TooManyColumns', `a TC holds at most 255 columns, got ${all.length}`);
  const iBit = new Map(all.map((t, i) => [t, i]));
  const cols: TcColumn[] = [];
  let ib = 0;
  const place = (t: number, cb: number) => {
    cols.push({ tag: t, ibData: ib, cbData: cb, iBit: iBit.get(t)! });
    ib += cb;
  };
  place(PROP_TAG_LTP_ROW_ID, 4);
  place(PROP_TAG_LTP_ROW_VER, 4);
  for (const t of rest) if (cellSize(tagType(t)) === 8) place(t, 8);
  for (const t of rest) if (cellSize(tagType(t)) === 4) place(t, 4);
  const end4 = ib;
  for (const t of rest) if (cellSize(tagType(t)) === 2) place(t, 2);
  const end2 = ib;
  for (const t of rest) if (cellSize(tagType(t)) === 1) place(t, 1);
  const end1 = ib;
  const size = end1 + Math.ceil(all.length / 8);
  return { columns: cols.sort((a, b) => a.tag - b.tag), rgib: [end4, end2, end1, size] };
}

/** One row: its id (dwRowID) and cell values by property tag; absent tags have their CEB bit clear. */
export interface TcRow {
  rowId: number;
  rowVersion?: number;
  cells: Map<number, PropValue>;
}

/**
 * A row kept compactly until its table is written (a folder's contents table grows with every
 * item): the cells encoded as stored, packed as [u16 column index][u32 length][bytes]…
 */
export interface PackedTcRow {
  rowId: number;
  rowVersion?: number;
  packed: Uint8Array;
}

/** Packs a row's cells for `layout` (value encoding as {@link encodePropValue}). */
export function packRow(layout: TcLayout, row: TcRow, codepage?: number): PackedTcRow {
  const index: number[] = [];
  const parts: Uint8Array[] = [];
  let total = 0;
  const cols = layout.columns;
  for (let i = 0; i < cols.length; i++) {
    const tag = cols[i].tag;
    if (tag === PROP_TAG_LTP_ROW_ID || tag === PROP_TAG_LTP_ROW_VER) continue;
    const v = row.cells.get(tag);
    if (v === undefined && !row.cells.has(tag)) continue;
    const bytes = encodePropValue(tagType(tag) as PropType, v as PropValue, codepage);
    index.push(i);
    parts.push(bytes);
    total += 6 + bytes.length;
  }
  const packed = new Uint8Array(total);
  let o = 0;
  for (let k = 0; k < parts.length; k++) {
    const bytes = parts[k];
    writeU16(packed, o, index[k]);
    writeU32(packed, o + 2, bytes.length);
    packed.set(bytes, o + 6);
    o += 6 + bytes.length;
  }
  return { rowId: row.rowId, rowVersion: row.rowVersion, packed };
}

/**
 * Builds a table context row by row (MS-PST 2.3.4). In streaming mode heap blocks and row-matrix
 * blocks become available as they fill ({@link TableContextBuilder.takeReady}) so that a table of
 * any size is written in bounded memory; otherwise everything is returned by `finish`.
 */
export class TableContextBuilder {
  private readonly heap: HeapBuilder;
  private readonly rowSize: number;
  private readonly perBlock: number;
  private pendingRows: Uint8Array[] = [];
  private readyRowBlocks: Uint8Array[] = [];
  private readySubnodes: LtpSubnodeStream[] = [];
  private rowBlocksOut = 0;
  private heldRowBlock?: Uint8Array;
  private readonly rowIds: NumberColumn;
  /** Row matrix subnode NID, allocated when the matrix leaves the heap. */
  private rowMatrixNid = 0;
  /** The row index BTHHEADER (HID 0x20) and TCINFO (0x40), reserved first as in Outlook's tables. */
  private readonly rowIndexHid: number;
  private readonly tcInfoHid: number;
  /** Indexes in layout.columns of the row id and row version columns (every layout has both). */
  private readonly rowIdColumn: number;
  private readonly rowVerColumn: number;

  constructor(
    private readonly layout: TcLayout,
    private readonly newSubnodeNid: SubnodeNidAllocator,
    private readonly codepage?: number,
    streaming = false,
  ) {
    this.heap = new HeapBuilder(ClientSig.TC, streaming);
    this.rowIds = new NumberColumn(streaming ? 256 : 8, 'u32'); // a message's tables have a few rows
    this.rowSize = layout.rgib[3];
    this.perBlock = Math.floor(MAX_BLOCK_DATA / this.rowSize);
    this.rowIndexHid = reserveBthHeader(this.heap);
    this.tcInfoHid = this.heap.allocate(new Uint8Array(TCINFO_HEADER_SIZE + layout.columns.length * TCOLDESC_SIZE));
    this.rowIdColumn = layout.columns.findIndex((c) => c.tag === PROP_TAG_LTP_ROW_ID);
    this.rowVerColumn = layout.columns.findIndex((c) => c.tag === PROP_TAG_LTP_ROW_VER);
  }

  /** Number of rows added. */
  get rowCount(): number {
    return this.rowIds.length;
  }

  /** Adds a row (stored in insertion order). @throws PropValueError for a cell that does not fit its column */
  addRow(anyRow: TcRow | PackedTcRow): void {
    const layout = this.layout;
    const cols = layout.columns;
    const r = new Uint8Array(this.rowSize);
    const ceb = layout.rgib[2];
    if ('packed' in anyRow) {
      // packed cells come in column order: [u16 column index][u32 length][bytes]
      const p = anyRow.packed;
      for (let o = 0; o < p.length; ) {
        const ci = p[o] | (p[o + 1] << 8);
        const len = (p[o + 2] | (p[o + 3] << 8) | (p[o + 4] << 16) | (p[o + 5] << 24)) >>> 0;
        const col = cols[ci];
        this.placeCell(r, col, p.subarray(o + 6, o + 6 + len), true);
        r[ceb + (col.iBit >> 3)] |= 0x80 >> (col.iBit & 7);
        o += 6 + len;
      }
    } else {
      const cells = anyRow.cells;
      for (let ci = 0; ci < cols.length; ci++) {
        const col = cols[ci];
        if (col.tag === PROP_TAG_LTP_ROW_ID || col.tag === PROP_TAG_LTP_ROW_VER) continue;
        const v = cells.get(col.tag);
        if (v === undefined && !cells.has(col.tag)) continue;
        const type = tagType(col.tag) as PropType;
        const f = fixedSize(type);
        if (f > 0 && f <= 8) writeFixedValue(r, col.ibData, type, v);
        else this.placeCell(r, col, encodePropValue(type, v as PropValue, this.codepage), false);
        r[ceb + (col.iBit >> 3)] |= 0x80 >> (col.iBit & 7);
      }
    }
    const idCol = cols[this.rowIdColumn];
    const verCol = cols[this.rowVerColumn];
    writeU32(r, idCol.ibData, anyRow.rowId);
    r[ceb + (idCol.iBit >> 3)] |= 0x80 >> (idCol.iBit & 7);
    writeU32(r, verCol.ibData, anyRow.rowVersion ?? 0);
    r[ceb + (verCol.iBit >> 3)] |= 0x80 >> (verCol.iBit & 7);
    this.rowIds.push(anyRow.rowId);
    this.pendingRows.push(r);
    if (this.pendingRows.length === this.perBlock) this.cutRowBlock();
  }

  /**
   * Stores one encoded cell: fixed values in the row, others in the heap (≤ 3580 bytes) or a
   * subnode, the row holding the HNID. `copy`: the bytes are a view of a buffer reused later.
   */
  private placeCell(r: Uint8Array, col: TcColumn, bytes: Uint8Array, copy: boolean): void {
    const f = fixedSize(tagType(col.tag));
    if (f > 0 && f <= 8) {
      // at most 8 bytes: a loop (no view, no TypedArray.set call)
      const n = Math.min(col.cbData, bytes.length);
      for (let i = 0; i < n; i++) r[col.ibData + i] = bytes[i];
    } else if (bytes.length === 0) {
      writeU32(r, col.ibData, 0); // empty value: HNID 0 with the CEB bit set, as Outlook writes it
    } else if (bytes.length <= MAX_HEAP_ALLOC) {
      // new Uint8Array(typed array) copies with one memcpy; Uint8Array.from iterates
      writeU32(r, col.ibData, this.heap.allocate(copy ? new Uint8Array(bytes) : bytes));
    } else {
      const nid = this.newSubnodeNid();
      this.readySubnodes.push({ nid, data: copy ? new Uint8Array(bytes) : bytes });
      writeU32(r, col.ibData, nid);
    }
  }

  /**
   * Closes a row-matrix block. Every block but the last is padded to 8,176 bytes, as Outlook writes
   * them (readers such as java-libpst step through the matrix in 8,176-byte blocks); so a block is
   * held back until the next one exists or the table is finished.
   */
  private cutRowBlock(): void {
    if (this.rowMatrixNid === 0) this.rowMatrixNid = this.newSubnodeNid();
    if (this.heldRowBlock) {
      const padded = new Uint8Array(MAX_BLOCK_DATA);
      padded.set(this.heldRowBlock);
      this.readyRowBlocks.push(padded);
    }
    this.heldRowBlock = Buffer.concat(this.pendingRows);
    this.pendingRows = [];
    this.rowBlocksOut++;
  }

  /** Streaming: true when {@link takeReady} has something (most rows add none: no call, no await). */
  hasReady(): boolean {
    return this.readyRowBlocks.length > 0 || this.readySubnodes.length > 0 || this.heap.hasEmitted();
  }

  /**
   * Streaming: what can be written now — finished heap blocks (with their index in the heap),
   * finished row-matrix blocks (in order) and values that went to subnodes.
   */
  takeReady(): { heapBlocks: EmittedHeapBlock[]; rowBlocks: Uint8Array[]; subnodes: LtpSubnodeStream[] } {
    const out = { heapBlocks: this.heap.takeEmitted(), rowBlocks: this.readyRowBlocks, subnodes: this.readySubnodes };
    this.readyRowBlocks = [];
    this.readySubnodes = [];
    return out;
  }

  /**
   * Completes the table: row index BTH, row matrix (heap or the last row-matrix block), TCINFO.
   * @returns the remaining heap blocks (by index), remaining row blocks and subnodes, and the row
   *   matrix subnode NID (0 when the matrix is in the heap or the table is empty)
   */
  finish(): { heapBlocks: EmittedHeapBlock[]; rowBlocks: Uint8Array[]; subnodes: LtpSubnodeStream[]; rowMatrixNid: number } {
    const heap = this.heap;
    // row index BTH: dwRowID → dwRowIndex, sorted by row id (MS-PST 2.3.4.3)
    const order = Array.from({ length: this.rowIds.length }, (_, i) => i).sort((a, b) => this.rowIds.get(a) - this.rowIds.get(b));
    const records = new Uint8Array(order.length * 8);
    for (let k = 0; k < order.length; k++) {
      writeU32(records, k * 8, this.rowIds.get(order[k]));
      writeU32(records, k * 8 + 4, order[k]);
    }
    const hidRowIndex = writeBth(heap, 4, 4, records, this.rowIndexHid);
    let hnidRows = 0;
    if (this.rowIds.length > 0) {
      if (this.rowBlocksOut === 0 && this.pendingRows.length * this.rowSize <= MAX_HEAP_ALLOC) {
        hnidRows = heap.allocate(Buffer.concat(this.pendingRows));
        this.pendingRows = [];
      } else {
        if (this.pendingRows.length > 0) this.cutRowBlock();
        this.readyRowBlocks.push(this.heldRowBlock!); // the last block: not padded
        this.heldRowBlock = undefined;
        hnidRows = this.rowMatrixNid;
      }
    }
    const layout = this.layout;
    const info = new Uint8Array(TCINFO_HEADER_SIZE + layout.columns.length * TCOLDESC_SIZE);
    info[0] = ClientSig.TC;
    info[1] = layout.columns.length;
    layout.rgib.forEach((v, i) => writeU16(info, 2 + i * 2, v));
    writeU32(info, 10, hidRowIndex);
    writeU32(info, 14, hnidRows);
    writeU32(info, 18, 0); // hidIndex: deprecated
    layout.columns.forEach((c, i) => {
      const o = TCINFO_HEADER_SIZE + i * TCOLDESC_SIZE;
      writeU32(info, o, c.tag);
      writeU16(info, o + 4, c.ibData);
      info[o + 6] = c.cbData;
      info[o + 7] = c.iBit;
    });
    heap.replace(this.tcInfoHid, info);
    heap.setUserRoot(this.tcInfoHid);
    const heapBlocks = heap.finishBlocks();
    const rest = this.takeReady();
    return { heapBlocks, rowBlocks: rest.rowBlocks, subnodes: rest.subnodes, rowMatrixNid: hnidRows !== 0 && (hnidRows & 0x1f) !== 0 ? hnidRows : 0 };
  }
}

/**
 * Builds a TC node from a layout and rows in memory (rows are stored in the given order; the row
 * index is sorted by row id). Large tables should use {@link TableContextBuilder} in streaming mode.
 * @throws PropValueError when a cell's shape does not match its column type
 */
export function buildTableContext(layout: TcLayout, rows: Iterable<TcRow | PackedTcRow>, newSubnodeNid: SubnodeNidAllocator, codepage?: number): LtpNodeOutput {
  const b = new TableContextBuilder(layout, newSubnodeNid, codepage, false);
  for (const r of rows) b.addRow(r);
  const fin = b.finish();
  const ready = b.takeReady();
  const subnodes = [...fin.subnodes, ...ready.subnodes];
  if (fin.rowMatrixNid !== 0) subnodes.push({ nid: fin.rowMatrixNid, data: [...fin.rowBlocks] });
  return { blocks: fin.heapBlocks.map((h) => h.payload), subnodes };
}
