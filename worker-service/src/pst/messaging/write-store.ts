/**
 * One PST part being written (MS-PST 2.4 messaging layer over the streaming NDB writer): the message
 * store, the name-to-id map, the folder tree with the special folders of an Outlook-made store
 * (messaging/blueprint.ts), messages as they arrive, and at close every folder's PC and tables, the
 * table templates and the search folder structure Outlook creates.
 */
import { randomBytes } from 'node:crypto';
import type { MapiFolder, MapiItem, PropertyBag } from '../../mapi/item';
import { TAG } from '../../mapi/tags';
import { PropType, type PropValue } from '../../mapi/types';
import { buildPropertyContext, type PcProperty } from '../ltp/write-pc';
import { buildTableContext, layoutColumns, type PackedTcRow, type TcLayout } from '../ltp/write-tc';
import { writeU32 } from '../ndb/bytes';
import { CryptMethod } from '../ndb/crypt';
import { NID, NidType, makeNid, nidIndex } from '../ndb/nid';
import { NdbWriter, markPartFailure, type NdbStats } from '../ndb/write-ndb';
import type { PstSink } from '../sink';
import {
  ATTACHMENT_TABLE_COLUMNS,
  EMPTY_INTERNAL_NODES,
  HIERARCHY_TABLE_COLUMNS,
  OUTGOING_QUEUE_TABLE_COLUMNS,
  RECEIVE_FOLDER_TABLE_COLUMNS,
  RECIPIENT_TABLE_COLUMNS,
  SEARCH_CONTENTS_TABLE_COLUMNS,
  SPAM_SEARCH_FOLDER,
  SPECIAL_FOLDERS,
  UNNAMED_TEMPLATES,
  VALID_FOLDER_MASK,
  initialRgnid,
  OUTLOOK_SEED_NAMED_PROPERTIES,
} from './blueprint';
import type { FolderHandle, FolderState } from './write-folder';
import { encodeStoreItem, storeTableLayouts, type EncodedStoreItem } from './encode-item';
import { writeEncodedNode } from './write-message';
import { NameToIdMapBuilder } from './write-nameid';
import { writeLtpNode, writeTableStreaming } from './write-node';
import { RowSpill, SpilledRows } from './row-spill';
import { localProperties, rowCells, setLocal, type LocalProps } from './write-props';

/** Options of a store part. */
export interface PstStoreOptions {
  /** PidTagDisplayName of the message store (what Outlook shows as the data file's name). */
  displayName: string;
  /** bCryptMethod: Permute (Outlook's default) or None. */
  cryptMethod?: CryptMethod;
  /** PidTagRecordKey of the store (16 bytes); random when absent. Entry ids embed it. */
  recordKey?: Uint8Array;
  /**
   * The part's name-to-id map, when the caller assigned named property ids before the part opened
   * (pst/writer.ts admits items ahead of their layout); default a new {@link newStoreNameMap}.
   */
  names?: NameToIdMapBuilder;
}

/** A store's name-to-id map as a new store starts it: seeded with the named properties Outlook's stores hold (blueprint). */
export function newStoreNameMap(): NameToIdMapBuilder {
  const names = new NameToIdMapBuilder();
  for (const key of OUTLOOK_SEED_NAMED_PROPERTIES) names.idFor(key);
  return names;
}

/** Result of writing an item. */
export interface WrittenItem {
  nid: number;
  sizeBytes: number;
}

/** Error of the store writer with a stable code. */
export class StoreWriteError extends Error {
  constructor(
    readonly code: 'UnknownFolder' | 'StoreClosed' | 'BadFolderName' | 'BadRecordKey',
    message: string,
  ) {
    super(message);
    this.name = 'StoreWriteError';
  }
}

/** Writes one PST part. Methods must be awaited one at a time. */
export class PstStoreWriter {
  private readonly ndb: NdbWriter;
  private readonly names: NameToIdMapBuilder;
  private readonly spill = new RowSpill();
  private readonly folders = new Map<number, FolderState>();
  private readonly rgnid = initialRgnid();
  private readonly recordKey: Uint8Array;
  private readonly layouts: { hierarchy: TcLayout; contents: TcLayout; associated: TcLayout };
  private closed = false;
  /** Set by abort(): a close still running must not report the part as written. */
  private abandoned = false;
  private itemCount = 0;

  private constructor(
    private readonly sink: PstSink,
    private readonly options: PstStoreOptions,
  ) {
    this.ndb = new NdbWriter(sink, { cryptMethod: options.cryptMethod ?? CryptMethod.Permute });
    this.names = options.names ?? newStoreNameMap();
    this.recordKey = options.recordKey ?? randomBytes(16);
    if (this.recordKey.length !== 16) throw new StoreWriteError('BadRecordKey', 'recordKey must be 16 bytes (a GUID)');
    this.layouts = storeTableLayouts();
    const special = (nid: number, parentNid: number, displayName: string, comment?: string) =>
      this.folders.set(nid, { nid, parentNid, displayName, comment, extra: new Map(), children: [], contents: new SpilledRows(), associated: new SpilledRows(), contentCount: 0, unreadCount: 0, special: true });
    special(NID.ROOT_FOLDER, NID.ROOT_FOLDER, '');
    special(SPECIAL_FOLDERS.ipmSubtree.nid, NID.ROOT_FOLDER, SPECIAL_FOLDERS.ipmSubtree.name);
    special(SPECIAL_FOLDERS.searchRoot.nid, NID.ROOT_FOLDER, SPECIAL_FOLDERS.searchRoot.name);
    special(SPECIAL_FOLDERS.deletedItems.nid, SPECIAL_FOLDERS.ipmSubtree.nid, SPECIAL_FOLDERS.deletedItems.name, SPECIAL_FOLDERS.deletedItems.comment);
    special(SPECIAL_FOLDERS.commonViews.nid, NID.ROOT_FOLDER, SPECIAL_FOLDERS.commonViews.name, SPECIAL_FOLDERS.commonViews.comment);
    this.folders.get(NID.ROOT_FOLDER)!.children.push(SPECIAL_FOLDERS.ipmSubtree.nid, SPECIAL_FOLDERS.searchRoot.nid, SPAM_SEARCH_FOLDER.nid, SPECIAL_FOLDERS.commonViews.nid);
    this.folders.get(SPECIAL_FOLDERS.ipmSubtree.nid)!.children.push(SPECIAL_FOLDERS.deletedItems.nid);
    this.rgnid[NidType.NORMAL_FOLDER] = nidIndex(SPECIAL_FOLDERS.commonViews.nid);
    this.syncTableCounters();
  }

  /** Starts a part in `sink`. Nothing is written until the first item or close. */
  static create(sink: PstSink, options: PstStoreOptions): PstStoreWriter {
    return new PstStoreWriter(sink, options);
  }

  /** The top of the store's visible tree (the IPM subtree, "Top of Outlook data file"). */
  get topFolder(): FolderHandle {
    return { nid: SPECIAL_FOLDERS.ipmSubtree.nid, path: [] };
  }

  /** Bytes laid out so far (excluding tables written at close). */
  get sizeBytes(): number {
    return this.ndb.sizeBytes;
  }

  /** NBT entries so far (for size projections). */
  get nodeCount(): number {
    return this.ndb.nodeCount;
  }

  /** Blocks written so far (for size projections). */
  get blockCount(): number {
    return this.ndb.blockCount;
  }

  /** Number of items written. */
  get items(): number {
    return this.itemCount;
  }

  private syncTableCounters(): void {
    const i = this.rgnid[NidType.NORMAL_FOLDER];
    this.rgnid[NidType.HIERARCHY_TABLE] = i;
    this.rgnid[NidType.CONTENTS_TABLE] = i;
    this.rgnid[NidType.ASSOC_CONTENTS_TABLE] = i;
  }

  private folder(handle: FolderHandle): FolderState {
    const f = this.folders.get(handle.nid);
    if (!f) throw new StoreWriteError('UnknownFolder', `folder 0x${handle.nid.toString(16)} does not belong to this store`);
    return f;
  }

  /**
   * Creates a subfolder (or returns the existing one of the same display name, compared
   * case-insensitively as Outlook does; "Deleted Items" at the top maps to the special folder).
   * @throws StoreWriteError "BadFolderName" for an empty name
   */
  createFolder(parent: FolderHandle, def: MapiFolder): FolderHandle {
    if (this.closed) throw new StoreWriteError('StoreClosed', 'the store is closed');
    const p = this.folder(parent);
    const name = def.displayName;
    if (!name || !name.trim()) throw new StoreWriteError('BadFolderName', 'a folder needs a non-empty display name');
    const path = [...parent.path, name];
    for (const c of p.children) {
      const cf = this.folders.get(c);
      if (cf && cf.displayName.toLowerCase() === name.toLowerCase()) {
        // an existing folder (e.g. the special "Deleted Items") takes on the source folder's
        // properties; a special folder's default comment gives way to the source's (or none)
        if (def.properties) {
          if (cf.special) cf.comment = undefined;
          for (const [id, p] of localProperties(def.properties, this.names)) cf.extra.set(id, p);
        }
        if (def.containerClass !== undefined && cf.containerClass === undefined) cf.containerClass = def.containerClass;
        return { nid: c, path };
      }
    }
    const nid = makeNid(NidType.NORMAL_FOLDER, ++this.rgnid[NidType.NORMAL_FOLDER]);
    this.syncTableCounters();
    const extra = def.properties ? localProperties(def.properties, this.names) : new Map();
    this.folders.set(nid, {
      nid,
      parentNid: p.nid,
      displayName: name,
      containerClass: def.containerClass,
      extra,
      children: [],
      contents: new SpilledRows(),
      associated: new SpilledRows(),
      contentCount: 0,
      unreadCount: 0,
      special: false,
    });
    p.children.push(nid);
    return { nid, path };
  }

  /**
   * Adds properties to a folder's PC (e.g. those of the folder a rewritten PST had there). The
   * properties the writer computes (display name, counts, subfolders) keep the computed values.
   */
  setFolderProperties(handle: FolderHandle, properties: PropertyBag): void {
    const f = this.folder(handle);
    for (const [id, p] of localProperties(properties, this.names)) f.extra.set(id, p);
  }

  /** Creates (or finds) each folder of `path` under the top of the store. */
  ensurePath(path: readonly MapiFolder[]): FolderHandle {
    let h = this.topFolder;
    for (const f of path) h = this.createFolder(h, f);
    return h;
  }

  /**
   * Writes an item into a folder: its message node now, its contents-table row when the store closes.
   * @throws PropValueError, MessageWriteError, NameIdMapFullError, StoreWriteError
   */
  async addItem(folder: FolderHandle, item: MapiItem): Promise<WrittenItem> {
    if (this.closed) throw new StoreWriteError('StoreClosed', 'the store is closed');
    this.folder(folder);
    return this.addEncodedItem(folder, encodeStoreItem(this.names, item));
  }

  /**
   * Lays out an item encoded with this store's name map (encode-item.ts, e.g. in an encoder
   * thread): assigns its NID, writes its blocks, keeps its row for the folder's table.
   * @throws StoreWriteError "StoreClosed" | "UnknownFolder"
   */
  async addEncodedItem(folder: FolderHandle, enc: EncodedStoreItem): Promise<WrittenItem> {
    if (this.closed) throw new StoreWriteError('StoreClosed', 'the store is closed');
    const f = this.folder(folder);
    const type = enc.associated ? NidType.ASSOC_MESSAGE : NidType.NORMAL_MESSAGE;
    const nid = makeNid(type, this.rgnid[type] + 1);
    const node = await writeEncodedNode(this.ndb, enc.node);
    this.rgnid[type]++;
    this.ndb.addNode(nid, node.bidData, node.bidSub, f.nid);
    this.spill.add(enc.associated ? f.associated : f.contents, { rowId: nid, rowVersion: 1, packed: enc.row });
    if (!enc.associated) {
      f.contentCount++;
      if (enc.unread) f.unreadCount++;
    }
    this.itemCount++;
    return { nid, sizeBytes: node.sizeBytes };
  }

  private entryId(nid: number): Uint8Array {
    const e = new Uint8Array(24);
    e.set(this.recordKey, 4);
    writeU32(e, 20, nid);
    return e;
  }

  private folderProps(f: FolderState): LocalProps {
    const p: LocalProps = new Map(f.extra);
    setLocal(p, TAG.PidTagDisplayName.id, PropType.String, f.displayName);
    setLocal(p, TAG.PidTagContentCount.id, PropType.Integer32, f.contentCount);
    setLocal(p, TAG.PidTagContentUnreadCount.id, PropType.Integer32, f.unreadCount);
    setLocal(p, TAG.PidTagSubfolders.id, PropType.Boolean, f.children.length > 0);
    if (f.containerClass !== undefined) setLocal(p, TAG.PidTagContainerClass.id, PropType.String, f.containerClass);
    if (f.comment !== undefined) setLocal(p, TAG.PidTagComment.id, PropType.String, f.comment);
    return p;
  }

  private async writePc(nid: number, parentNid: number, props: Iterable<PcProperty>): Promise<void> {
    let n = 0x10;
    const out = buildPropertyContext(props, () => makeNid(NidType.LTP, n++));
    const node = await writeLtpNode(this.ndb, out);
    this.ndb.addNode(nid, node.bidData, node.bidSub, parentNid);
  }

  private async writeTc(nid: number, layout: TcLayout, rows: Iterable<PackedTcRow | { rowId: number; rowVersion?: number; cells: Map<number, PropValue> }>): Promise<void> {
    let n = 0x10;
    const out = buildTableContext(layout, rows, () => makeNid(NidType.LTP, n++));
    const node = await writeLtpNode(this.ndb, out);
    this.ndb.addNode(nid, node.bidData, node.bidSub, 0);
  }

  /** A folder's contents or FAI table, written row by row in bounded memory. */
  private async writeTcStreaming(nid: number, layout: TcLayout, rows: Iterable<PackedTcRow>): Promise<void> {
    let n = 0x10;
    const node = await writeTableStreaming(this.ndb, layout, rows, () => makeNid(NidType.LTP, n++));
    this.ndb.addNode(nid, node.bidData, node.bidSub, 0);
  }

  /**
   * Writes every folder, the store, the name-to-id map and the templates, then the B-trees and the
   * header, and closes the sink. @returns NDB statistics of the part
   */
  async close(): Promise<NdbStats> {
    if (this.closed) throw new StoreWriteError('StoreClosed', 'the store is already closed');
    this.closed = true;
    try {
      return await this.writeStructure();
    } finally {
      this.spill.dispose();
    }
  }

  private async writeStructure(): Promise<NdbStats> {
    const folderProps = new Map<number, LocalProps>();
    for (const f of this.folders.values()) folderProps.set(f.nid, this.folderProps(f));
    const searchProps: LocalProps = new Map();
    setLocal(searchProps, TAG.PidTagDisplayName.id, PropType.String, SPAM_SEARCH_FOLDER.name);
    setLocal(searchProps, TAG.PidTagContentCount.id, PropType.Integer32, 0);
    setLocal(searchProps, TAG.PidTagContentUnreadCount.id, PropType.Integer32, 0);
    setLocal(searchProps, TAG.PidTagSubfolders.id, PropType.Boolean, false);
    folderProps.set(SPAM_SEARCH_FOLDER.nid, searchProps);

    for (const f of this.folders.values()) {
      const idx = nidIndex(f.nid);
      await this.writePc(f.nid, f.parentNid, folderProps.get(f.nid)!.values());
      const hier = f.children.map((c) => ({ rowId: c, rowVersion: 1, cells: rowCells(HIERARCHY_TABLE_COLUMNS, folderProps.get(c)!) }));
      await this.writeTc(makeNid(NidType.HIERARCHY_TABLE, idx), this.layouts.hierarchy, hier);
      await this.writeTcStreaming(makeNid(NidType.CONTENTS_TABLE, idx), this.layouts.contents, this.spill.rows(f.contents));
      await this.writeTcStreaming(makeNid(NidType.ASSOC_CONTENTS_TABLE, idx), this.layouts.associated, this.spill.rows(f.associated));
    }
    // Outlook's spam search folder: PC, update queue (empty), criteria object, search contents table
    await this.writePc(SPAM_SEARCH_FOLDER.nid, NID.ROOT_FOLDER, searchProps.values());
    this.ndb.addNode(SPAM_SEARCH_FOLDER.updateQueue, 0, 0, 0);
    await this.writePc(SPAM_SEARCH_FOLDER.criteria, 0, [{ id: 0x660b, type: PropType.Integer32, value: 0 }]);
    await this.writeTc(SPAM_SEARCH_FOLDER.contentsTable, layoutColumns([...SEARCH_CONTENTS_TABLE_COLUMNS]), []);
    // search activity list: the NIDs of the search folders (raw)
    const sal = new Uint8Array(4);
    writeU32(sal, 0, SPAM_SEARCH_FOLDER.nid);
    this.ndb.addNode(NID.SEARCH_ACTIVITY_LIST, await this.ndb.writeStream(sal), 0, 0);
    for (const nid of EMPTY_INTERNAL_NODES) this.ndb.addNode(nid, 0, 0, 0);

    // message store PC (MS-PST 2.4.3)
    const store: PcProperty[] = [
      { id: TAG.PidTagRecordKey.id, type: PropType.Binary, value: this.recordKey },
      { id: TAG.PidTagDisplayName.id, type: PropType.String, value: this.options.displayName },
      { id: TAG.PidTagValidFolderMask.id, type: PropType.Integer32, value: VALID_FOLDER_MASK },
      { id: TAG.PidTagIpmSubtreeEntryId.id, type: PropType.Binary, value: this.entryId(SPECIAL_FOLDERS.ipmSubtree.nid) },
      { id: TAG.PidTagIpmWastebasketEntryId.id, type: PropType.Binary, value: this.entryId(SPECIAL_FOLDERS.deletedItems.nid) },
      { id: TAG.PidTagCommonViewsEntryId.id, type: PropType.Binary, value: this.entryId(SPECIAL_FOLDERS.commonViews.nid) },
      { id: TAG.PidTagFinderEntryId.id, type: PropType.Binary, value: this.entryId(SPECIAL_FOLDERS.searchRoot.nid) },
      { id: TAG.PidTagReplFlags.id, type: PropType.Integer32, value: 0 },
      { id: TAG.PidTagPstPassword.id, type: PropType.Integer32, value: 0 },
    ];
    await this.writePc(NID.MESSAGE_STORE, 0, store);
    await this.writePc(NID.NAME_TO_ID_MAP, 0, this.names.toProperties());

    // table templates (empty TCs) and the receive folder table
    const empty = (cols: readonly number[]) => layoutColumns([...cols]);
    await this.writeTc(NID.HIERARCHY_TABLE_TEMPLATE, this.layouts.hierarchy, []);
    await this.writeTc(NID.CONTENTS_TABLE_TEMPLATE, this.layouts.contents, []);
    await this.writeTc(NID.ASSOC_CONTENTS_TABLE_TEMPLATE, this.layouts.associated, []);
    await this.writeTc(NID.SEARCH_CONTENTS_TABLE_TEMPLATE, empty(SEARCH_CONTENTS_TABLE_COLUMNS), []);
    await this.writeTc(NID.ATTACHMENT_TABLE_TEMPLATE, empty(ATTACHMENT_TABLE_COLUMNS), []);
    await this.writeTc(NID.RECIPIENT_TABLE_TEMPLATE, empty(RECIPIENT_TABLE_COLUMNS), []);
    await this.writeTc(0x64c, empty(OUTGOING_QUEUE_TABLE_COLUMNS), []);
    await this.writeTc(0x62b, empty(RECEIVE_FOLDER_TABLE_COLUMNS), [
      { rowId: 1, rowVersion: 1, cells: new Map<number, PropValue>([[0x001a001f, ''], [0x66050003, NID.ROOT_FOLDER]]) },
    ]);
    for (const t of UNNAMED_TEMPLATES) await this.writeTc(t.nid, empty(t.columns), []);

    const stats = await this.ndb.close({ rgnid: this.rgnid });
    if (this.abandoned) throw new StoreWriteError('StoreClosed', 'the part was abandoned while it was being closed');
    try {
      await this.sink.close();
    } catch (err) {
      throw markPartFailure(err);
    }
    return stats;
  }

  /** Abandons the part: releases the sink and removes what it can. */
  async abort(): Promise<void> {
    this.closed = true;
    this.abandoned = true;
    this.spill.dispose();
    await this.ndb.settle();
    if (this.sink.abort) await this.sink.abort();
    else await this.sink.close();
  }
}
