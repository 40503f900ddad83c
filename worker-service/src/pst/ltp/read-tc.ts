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
import type { LtpNode } from './read-node';
import { DEFAULT_CODEPAGE, decodeValue, isInlineInTc } from './read-value';

/** TCOLDESC (MS-PST 2.3.4.2): column tag, cell offset and size in the row (bytes), CEB bit. */
export interface TcColDesc {
  readonly tag: number;
  readonly ibData: number;
  readonly cbData: number;
  readonly iBit: number;
}

/** TCINFO (MS-PST 2.3.4.1). rgib = [TCI_4b, TCI_2b, TCI_1b, TCI_bm] end offsets; rgib[TCI_bm] is the row size. */
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
}

/** Parses TCINFO at the heap's user root. @throws PstReadError "BadTableContext" plus heap errors */
export function readTcInfo(node: LtpNode): TcInfo {
  const heap = node.heap;
  const nid = node.node.nid;
  if (heap.bClientSig !== ClientSig.TC) throw new PstReadError('BadTableContext', 'heap bClientSig is not 0x7C (TC)', { nid, bClientSig: heap.bClientSig });
  const b = heap.get(heap.hnhdr.hidUserRoot);
  if (b.length < TCINFO_HEADER_SIZE) throw new PstReadError('BadTableContext', 'TCINFO shorter than 22 bytes', { nid });
  const v = viewOf(b);
  const bType = b[0], cCols = b[1];
  if (bType !== ClientSig.TC) throw new PstReadError('BadTableContext', 'TCINFO bType is not 0x7C', { nid, bType });
  if (b.length < TCINFO_HEADER_SIZE + cCols * TCOLDESC_SIZE) throw new PstReadError('BadTableContext', 'TCINFO shorter than its cCols column descriptors', { nid, cCols });
  const rgib = [v.getUint16(2 + 2 * TCI_4b, true), v.getUint16(2 + 2 * TCI_2b, true), v.getUint16(2 + 2 * TCI_1b, true), v.getUint16(2 + 2 * TCI_bm, true)] as const;
  if (!(rgib[0] <= rgib[1] && rgib[1] <= rgib[2] && rgib[2] <= rgib[3]) || rgib[3] === 0 || (rgib[3] - rgib[2]) * 8 < cCols) {
    throw new PstReadError('BadTableContext', 'TCINFO rgib offsets must increase and leave room for the CEB', { nid, rgib: rgib.join(',') });
  }
  const columns: TcColDesc[] = [];
  for (let i = 0; i < cCols; i++) {
    const o = TCINFO_HEADER_SIZE + i * TCOLDESC_SIZE;
    const c = { tag: v.getUint32(o, true), ibData: v.getUint16(o + 4, true), cbData: b[o + 6], iBit: b[o + 7] };
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
  const info = readTcInfo(node);
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

  async function* rows(): AsyncGenerator<TcRow> {
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
      yield await decodeRow(node, info, blk.subarray(off, off + rowSize), i, codepage);
    }
  }
  return { node, info, rowIndex, rows };
}

/** Decodes one row of the row matrix (MS-PST 2.3.4.4.1). @throws PstReadError */
export async function decodeRow(node: LtpNode, info: TcInfo, row: Uint8Array, index: number, codepage: number): Promise<TcRow> {
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
      bytes = await node.readHnid(v.getUint32(c.ibData, true));
    }
    cells.set(c.tag, { type, value: decodeValue(type, bytes, codepage) });
  }
  return { dwRowID: v.getUint32(0, true), index, cells };
}

