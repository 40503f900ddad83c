/**
 * Folders read side (MS-PST 2.4.4): a folder is a PC (NID_TYPE_NORMAL_FOLDER or
 * NID_TYPE_SEARCH_FOLDER) plus tables with the same nidIndex: hierarchy (0x0D, rows = child folder
 * NIDs), contents (0x0E, rows = message NIDs), FAI contents (0x0F, rows = associated message
 * NIDs); a search folder has a search contents table (0x10) instead (2.4.8.6).
 */
import { PropertyBag } from '../../mapi/item';
import { PstReadError } from '../ndb/read-error';
import type { NdbReader } from '../ndb/read-ndb';
import { NidType, makeNid, nidIndex, nidType } from '../ndb/nid';
import { LtpNode } from '../ltp/read-node';
import { readPcProperties } from '../ltp/read-pc';
import { openTable } from '../ltp/read-tc';
import { addProperty, type BagStats } from './read-props';
import type { NameIdMap } from './read-nameid';

/** Deepest folder nesting accepted (Outlook's UI stops far earlier; a crafted tree must not recurse forever). */
export const MAX_FOLDER_DEPTH = 64;

/** A folder with its properties and subfolders (loaded as a tree). */
export interface PstFolder {
  readonly nid: number;
  readonly nidParent: number;
  readonly isSearchFolder: boolean;
  /** Display names from the root's child down to this folder (the root's own name, usually "", is left out). */
  readonly path: readonly string[];
  readonly displayName: string;
  /** PidTagContainerClass, when set. */
  readonly containerClass?: string;
  /** PidTagContentCount, PidTagContentUnreadCount as stored (0 when missing). */
  readonly contentCount: number;
  readonly contentUnreadCount: number;
  /** Every property of the folder's PC. */
  readonly properties: PropertyBag;
  readonly children: PstFolder[];
}

/**
 * The NIDs listed by a folder table (row ids in table order). A missing table gives [].
 * @throws PstReadError LTP errors */
export async function readTableRowIds(ndb: NdbReader, tableNid: number): Promise<number[]> {
  const e = await ndb.findNode(tableNid);
  if (!e) return [];
  const tc = await openTable(await LtpNode.open(ndb, e));
  const ids: number[] = [];
  for await (const id of tc.rowIds()) ids.push(id);
  return ids;
}

/**
 * Reads a folder PC and, recursively through hierarchy tables, its subfolders.
 * @throws PstReadError "BadFolder" (a cycle or excessive depth), "NodeNotFound", LTP errors */
export async function readFolderTree(ndb: NdbReader, rootNid: number, map: NameIdMap, codepage: number, stats?: BagStats): Promise<PstFolder> {
  const visited = new Set<number>();
  const read = async (nid: number, path: string[], depth: number): Promise<PstFolder> => {
    if (depth > MAX_FOLDER_DEPTH) throw new PstReadError('BadFolder', 'folder tree deeper than allowed', { nid, depth });
    if (visited.has(nid)) throw new PstReadError('BadFolder', 'folder reached twice (hierarchy cycle)', { nid });
    visited.add(nid);
    const t = nidType(nid);
    if (t !== NidType.NORMAL_FOLDER && t !== NidType.SEARCH_FOLDER) throw new PstReadError('BadFolder', 'hierarchy row is not a folder NID', { nid });
    const e = await ndb.getNode(nid);
    const props = await readPcProperties(await LtpNode.open(ndb, e), codepage);
    const bag = new PropertyBag();
    for (const p of props) addProperty(bag, p.id, p.type, p.value, map, stats);
    const str = (id: number) => { const v = props.find((p) => p.id === id && (p.type === 0x1f || p.type === 0x1e))?.value; return typeof v === 'string' ? v : undefined; };
    const num = (id: number) => { const v = props.find((p) => p.id === id)?.value; return typeof v === 'number' ? v : 0; };
    const displayName = str(0x3001) ?? '';
    const myPath = depth === 0 ? [] : [...path, displayName];
    const folder: PstFolder = {
      nid,
      nidParent: e.nidParent,
      isSearchFolder: t === NidType.SEARCH_FOLDER,
      path: myPath,
      displayName,
      containerClass: str(0x3613),
      contentCount: num(0x3602),
      contentUnreadCount: num(0x3603),
      properties: bag,
      children: [],
    };
    if (t === NidType.NORMAL_FOLDER) {
      for (const child of await readTableRowIds(ndb, makeNid(NidType.HIERARCHY_TABLE, nidIndex(nid)))) {
        folder.children.push(await read(child, myPath, depth + 1));
      }
    }
    return folder;
  };
  return read(rootNid, [], 0);
}

/** NIDs of a folder's messages in contents-table order (search folders: search contents table). */
export function contentsTableNid(folder: PstFolder): number {
  return makeNid(folder.isSearchFolder ? NidType.SEARCH_CONTENTS_TABLE : NidType.CONTENTS_TABLE, nidIndex(folder.nid));
}
/** NID of a folder's FAI contents table (none for search folders). */
export function assocContentsTableNid(folder: PstFolder): number | undefined {
  return folder.isSearchFolder ? undefined : makeNid(NidType.ASSOC_CONTENTS_TABLE, nidIndex(folder.nid));
}
