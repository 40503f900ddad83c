/**
 * Table context read side (MS-PST 2.3.4): TCINFO (2.3.4.1) with its TCOLDESCs (2.3.4.2), the row
 * index BTH (2.3.4.3: dwRowID → dwRowIndex) and the row matrix (2.3.4.4) in the heap or in a
 * subnode (then floor(blockSize / rowSize) rows per data block, no row spans two blocks). Cells of
 * fixed types ≤ 8 bytes hold the value; others hold an HNID. The cell existence bitmap (CEB)
 * marks which cells exist (bit iBit, most significant bit first).
 */
import type { PropValue } from '../../mapi/types';
import { PstReadError } from '../ndb/read-error';
import { viewOf } from '../ndb/read-format';
import { ClientSig, TCINFO_HEADER_SIZE, TCOLDESC_SIZE, TCI_1b, TCI_2b, TCI_4b, TCI_bm } from './constants';
import { readBthRecords } from './read-bth';
import { isHid } from './read-heap';
import { LtpNode } from './read-node';
import { DEFAULT_CODEPAGE, decodeValue, isInlineInTc } from './read-value';

/** TCOLDESC (MS-PST 2.3.4.2): column tag, cell offset and size in the row (bytes), CEB bit. */
export interface TcColDesc {
  readonly tag: number;
  readonly ibData: number;
  readonly cbData: number;
  readonly iBit: number;
  /** 0xAC tables only: NID of the subnode heap (bClientSig 0xA5) that this column's HIDs point into. */
  readonly a5Nid?: number;
}

/** TCINFO (MS-PST 2.3.4.1; bType 0x7C, or 0xAC for the variant read by readTcInfo). rgib = [TCI_4b, TCI_2b, TCI_1b, TCI_bm] end offsets; rgib[TCI_bm] is the row size. */
export interface TcInfo {
  readonly bType: number;
  readonly cCols: number;
  readonly rgib: readonly [number, number, number, number];
  readonly hidRowIndex: number;
  readonly hnidRows: number;
  readonly hidIndex: number;
  readonly columns: readonly TcColDesc[];
}

/** A row index record (MS-PST 2.3.4.3): row id (usually a NID) → position in the row matrix. */
export interface TcRowIndexEntry {
  readonly dwRowID: number;
  readonly dwRowIndex: number;
}

/** One decoded row: its id, position, and the cells that exist (by column tag). */
export interface TcRow {
  readonly dwRowID: number;
  readonly index: number;
  readonly cells: Map<number, { readonly type: number; readonly value: PropValue }>;
}

/** An opened table context. */
export interface TableContext {
  readonly node: LtpNode;
  readonly info: TcInfo;
  /** Row index entries in key (row id) order. */
  readonly rowIndex: readonly TcRowIndexEntry[];
  /** Rows in row-matrix order (the table's order), decoded lazily. */
  rows(): AsyncGenerator<TcRow>;
  /** Row ids in row-matrix order, without decoding cells. */
  rowIds(): AsyncGenerator<number>;
}

/** Size of the 0xAC table header and its column descriptors (not in MS-PST; libpff documents them). */
const AC_HEADER_SIZE = 40;
const AC_COLDESC_SIZE = 16;

/**
 * Parses TCINFO at the heap's user root. Besides the 0x7C TCINFO of MS-PST 2.3.4.1 it reads the
 * 0xAC variant Outlook writes for large search contents tables (a reserved bClientSig in MS-PST;
 * layout from libpff's format notes): 40-byte header with the same rgib/hidRowIndex/hnidRows at the
 * same offsets, cCols as uint16 at 22 and an HNID (heap or subnode) at 24 naming 16-byte column
 * descriptors { wType, wId, ibData, cbData, iBit, unused, a5 table NID }.
 * @throws PstReadError "BadTableContext" plus heap/subnode errors */
export async function readTcInfo(node: LtpNode): Promise<TcInfo> {
  const heap = node.heap;
  const nid = node.node.nid;
  const sig = heap.bClientSig;
  if (sig !== ClientSig.TC && sig !== ClientSig.Reserved5) throw new PstReadError('BadTableContext', 'heap bClientSig is not 0x7C (TC) or 0xAC', { nid, bClientSig: sig });
  const b = heap.get(heap.hnhdr.hidUserRoot);
  const headerSize = sig === ClientSig.TC ? TCINFO_HEADER_SIZE : AC_HEADER_SIZE;
  if (b.length < headerSize) throw new PstReadError('BadTableContext', 'TCINFO shorter than its header', { nid, length: b.length });
  const v = viewOf(b);
  const bType = b[0];
  if (bType !== sig) throw new PstReadError('BadTableContext', 'TCINFO bType differs from bClientSig', { nid, bType });
  let cCols: number;
  let cols: Uint8Array;
  let colSize: number;
  if (sig === ClientSig.TC) {
    cCols = b[1];
    cols = b.subarray(TCINFO_HEADER_SIZE);
    colSize = TCOLDESC_SIZE;
  } else {
    cCols = v.getUint16(22, true);
    cols = await node.readHnid(v.getUint32(24, true));
    colSize = AC_COLDESC_SIZE;
  }
  if (cols.length < cCols * colSize) throw new PstReadError('BadTableContext', 'TCINFO shorter than its cCols column descriptors', { nid, cCols });
  const rgib = [v.getUint16(2 + 2 * TCI_4b, true), v.getUint16(2 + 2 * TCI_2b, true), v.getUint16(2 + 2 * TCI_1b, true), v.getUint16(2 + 2 * TCI_bm, true)] as const;
  if (!(rgib[0] <= rgib[1] && rgib[1] <= rgib[2] && rgib[2] <= rgib[3]) || rgib[3] === 0 || (rgib[3] - rgib[2]) * 8 < cCols) {
    throw new PstReadError('BadTableContext', 'TCINFO rgib offsets must increase and leave room for the CEB', { nid, rgib: rgib.join(',') });
  }
  const cv = viewOf(cols);
  const columns: TcColDesc[] = [];
  for (let i = 0; i < cCols; i++) {
    const o = i * colSize;
    const c = sig === ClientSig.TC
      ? { tag: cv.getUint32(o, true), ibData: cv.getUint16(o + 4, true), cbData: cols[o + 6], iBit: cols[o + 7] }
      : { tag: ((cv.getUint16(o + 2, true) << 16) | cv.getUint16(o, true)) >>> 0, ibData: cv.getUint16(o + 4, true), cbData: cv.getUint16(o + 6, true), iBit: cv.getUint16(o + 8, true), a5Nid: cv.getUint32(o + 12, true) || undefined };
    if (c.ibData + c.cbData > rgib[TCI_1b] || c.iBit >= (rgib[3] - rgib[2]) * 8) throw new PstReadError('BadTableContext', 'TCOLDESC cell or CEB bit outside the row', { nid, column: i, tag: c.tag });
    columns.push(c);
  }
  return { bType, cCols, rgib: [rgib[0], rgib[1], rgib[2], rgib[3]], hidRowIndex: v.getUint32(10, true), hnidRows: v.getUint32(14, true), hidIndex: v.getUint32(18, true), columns };
}

/**
 * Opens a TC: TCINFO, row index and access to the row matrix.
 * @param codepage  for PtypString8 cells (the store's; TCs carry no code page of their own)
 * @throws PstReadError "BadTableContext" plus heap/BTH/subnode errors */
export async function openTable(node: LtpNode, codepage = DEFAULT_CODEPAGE): Promise<TableContext> {
  const info = await readTcInfo(node);
  const nid = node.node.nid;
  const rowIndexSize = node.ndb.format.rowIndexSize;
  const rowIndex: TcRowIndexEntry[] = [];
  if (info.hidRowIndex !== 0) {
    const { header, records } = readBthRecords(node.heap, info.hidRowIndex);
    if (header.cbKey !== 4 || header.cbEnt !== rowIndexSize) {
      // Some writers use 4-byte dwRowIndex in ANSI files too; accept either.
      if (!(header.cbKey === 4 && (header.cbEnt === 2 || header.cbEnt === 4))) throw new PstReadError('BadTableContext', 'row index BTH has the wrong key/data size', { nid, cbKey: header.cbKey, cbEnt: header.cbEnt });
    }
    for (const r of records) {
      const d = viewOf(r.data);
      rowIndex.push({ dwRowID: viewOf(r.key).getUint32(0, true), dwRowIndex: r.data.length === 2 ? d.getUint16(0, true) : d.getUint32(0, true) });
    }
  }
  const rowSize = info.rgib[TCI_bm];
  const rowCount = rowIndex.length;

  // Where the row matrix lives: one heap allocation, or a subnode's data blocks.
  let heapRows: Uint8Array | undefined;
  let subBids: bigint | undefined;
  if (rowCount > 0) {
    if (info.hnidRows === 0) throw new PstReadError('BadTableContext', 'rows in the index but no row matrix', { nid, rowCount });
    if (isHid(info.hnidRows)) heapRows = node.heap.get(info.hnidRows);
    else subBids = (await node.subnode(info.hnidRows)).bidData;
  }
  const rowsPerBlock = Math.floor(node.ndb.format.maxBlockData / rowSize);

  async function* rawRows(): AsyncGenerator<Uint8Array> {
    if (rowCount === 0) return;
    let blocks: Uint8Array[];
    if (heapRows) blocks = [heapRows];
    else blocks = await node.ndb.readDataBlocks(subBids!);
    const perBlock = heapRows ? Number.MAX_SAFE_INTEGER : rowsPerBlock;
    if (rowsPerBlock < 1) throw new PstReadError('BadTableContext', 'row larger than a block', { nid, rowSize });
    for (let i = 0; i < rowCount; i++) {
      const bi = Math.floor(i / perBlock);
      const off = (i % perBlock) * rowSize;
      const blk = blocks[bi];
      if (!blk || off + rowSize > blk.length) throw new PstReadError('BadTableContext', 'row matrix shorter than the row index says', { nid, row: i, rowCount });
      yield blk.subarray(off, off + rowSize);
    }
  }
  async function* rows(): AsyncGenerator<TcRow> {
    let i = 0;
    const a5 = new Map<number, LtpNode>();
    for await (const raw of rawRows()) yield await decodeRow(node, info, raw, i++, codepage, a5);
  }
  async function* rowIds(): AsyncGenerator<number> {
    for await (const raw of rawRows()) yield viewOf(raw).getUint32(0, true);
  }
  return { node, info, rowIndex, rows, rowIds };
}

/** Decodes one row of the row matrix (MS-PST 2.3.4.4.1). @throws PstReadError */
export async function decodeRow(node: LtpNode, info: TcInfo, row: Uint8Array, index: number, codepage: number, a5Heaps = new Map<number, LtpNode>()): Promise<TcRow> {
  const v = viewOf(row);
  const ceb = info.rgib[TCI_1b];
  const cells = new Map<number, { type: number; value: PropValue }>();
  for (const c of info.columns) {
    const exists = (row[ceb + (c.iBit >> 3)] & (0x80 >> (c.iBit & 7))) !== 0;
    if (!exists) continue;
    const type = c.tag & 0xffff;
    let bytes: Uint8Array;
    if (isInlineInTc(type)) bytes = row.subarray(c.ibData, c.ibData + c.cbData);
    else {
      if (c.cbData !== 4) throw new PstReadError('BadTableContext', 'variable-size column must be a 4-byte HNID', { nid: node.node.nid, tag: c.tag });
      const hnid = v.getUint32(c.ibData, true);
      if (c.a5Nid !== undefined && hnid !== 0 && isHid(hnid)) {
        let heapNode = a5Heaps.get(c.a5Nid);
        if (!heapNode) { heapNode = await LtpNode.open(node.ndb, await node.subnode(c.a5Nid)); a5Heaps.set(c.a5Nid, heapNode); }
        bytes = heapNode.heap.get(hnid);
      } else bytes = await node.readHnid(hnid);
    }
    cells.set(c.tag, { type, value: decodeValue(type, bytes, codepage) });
  }
  return { dwRowID: v.getUint32(0, true), index, cells };
}

