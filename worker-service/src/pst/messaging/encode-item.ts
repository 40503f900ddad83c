/**
 * An item encoded for a store, ready to be laid out: the message object's node tree
 * (encode-message.ts) and its contents-table row packed for the store's fixed layout (MS-PST
 * 2.3.4.4: the row's cells in column order; the row id, which is the message NID, is added at
 * layout). Everything here is independent of block ids and of the part, apart from the named
 * property ids, which the caller's resolver gives.
 */
import type { MapiItem } from '../../mapi/item';
import { TAG } from '../../mapi/tags';
import { layoutColumns, packRow, type TcLayout } from '../ltp/write-tc';
import { ASSOC_CONTENTS_TABLE_COLUMNS, CONTENTS_TABLE_COLUMNS, HIERARCHY_TABLE_COLUMNS } from './blueprint';
import { encodeMessageObject, type EncodedNode, type NameResolver } from './encode-message';
import { rowCells } from './write-props';

/** PidTagMessageFlags' MSGFLAG_READ (MS-OXCMSG 2.2.1.6). */
const MSGFLAG_READ = 0x01;

/** The table layouts every store uses for its folders (from the blueprint's column lists). */
export interface StoreTableLayouts {
  hierarchy: TcLayout;
  contents: TcLayout;
  associated: TcLayout;
}

let layouts: StoreTableLayouts | undefined;

/** The store's hierarchy, contents and FAI contents table layouts (computed once). */
export function storeTableLayouts(): StoreTableLayouts {
  layouts ??= {
    hierarchy: layoutColumns([...HIERARCHY_TABLE_COLUMNS]),
    contents: layoutColumns([...CONTENTS_TABLE_COLUMNS]),
    associated: layoutColumns([...ASSOC_CONTENTS_TABLE_COLUMNS]),
  };
  return layouts;
}

/** An item encoded for a store (see the file comment). */
export interface EncodedStoreItem {
  node: EncodedNode;
  /** FAI item: its row goes to the folder's associated contents table. */
  associated: boolean;
  /** The contents-table (or FAI contents-table) row's packed cells, without the row id. */
  row: Uint8Array;
  /** Counts toward PidTagContentUnreadCount (a normal item without MSGFLAG_READ). */
  unread: boolean;
}

/**
 * Encodes `item` for a store.
 * @throws MessageWriteError, PropValueError, NameIdMapFullError (from the resolver)
 */
export function encodeStoreItem(names: NameResolver, item: MapiItem): EncodedStoreItem {
  const enc = encodeMessageObject(names, item);
  const codepage = enc.props.get(TAG.PidTagMessageCodepage.id)?.value as number | undefined;
  const l = storeTableLayouts();
  const columns = item.associated ? ASSOC_CONTENTS_TABLE_COLUMNS : CONTENTS_TABLE_COLUMNS;
  const row = packRow(item.associated ? l.associated : l.contents, { rowId: 0, rowVersion: 1, cells: rowCells(columns, enc.props) }, codepage).packed;
  const flags = enc.props.get(TAG.PidTagMessageFlags.id)?.value;
  return { node: enc.node, associated: item.associated, row, unread: !item.associated && (typeof flags !== 'number' || (flags & MSGFLAG_READ) === 0) };
}
