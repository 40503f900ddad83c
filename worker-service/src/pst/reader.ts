/**
 * The PST reader's public API (MS-PST 2.4 messaging on top of 2.3 LTP and 2.2 NDB): open a PST
 * (Unicode or ANSI; bCryptMethod none/permute/cyclic), read the message store, the folder tree and
 * each folder's items as MapiItems with named properties resolved through the name-to-id map.
 *
 * Hostile input gives a PstReadError with a stable `code` (see ndb/read-error.ts); never a crash,
 * a hang or an allocation larger than the file.
 */
import type { MapiItem } from '../mapi/item';
import { PstReadError } from './ndb/read-error';
import { NdbReader, type NdbReadOptions } from './ndb/read-ndb';
import { MemoryByteSource, type ByteSource } from './ndb/read-source';
import { NID } from './ndb/nid';
import { DEFAULT_CODEPAGE } from './ltp/read-value';
import { readNameIdMap, type NameIdMap } from './messaging/read-nameid';
import { readMessageStore, type PstMessageStore } from './messaging/read-store';
import { assocContentsTableNid, contentsTableNid, readFolderTree, readTableRowIds, type PstFolder } from './messaging/read-folder';
import { readMessage, type MessageReadContext } from './messaging/read-message';
import type { BagStats } from './messaging/read-props';

export { PstReadError, type PstReadErrorCode } from './ndb/read-error';
export type { PstFolder } from './messaging/read-folder';
export type { PstMessageStore } from './messaging/read-store';
export type { NameIdMap, NameIdEntry } from './messaging/read-nameid';

/** Options of {@link PstReader.open}. */
export interface PstReaderOptions extends NdbReadOptions {
  /** Code page for PtypString8 values of items that name none (default 1252). */
  readonly codepage?: number;
}

/** An item as read from a folder: the MapiItem plus the NID it was read from. */
export interface PstItem extends MapiItem {
  readonly nid: number;
}

/** A PST opened for reading. Close it when done (it holds a file descriptor). */
export class PstReader {
  /** Named property ids (0x8000+) found on items but missing from the name-to-id map; skipped. */
  readonly stats: BagStats = { unresolvedNamed: 0 };
  private tree?: PstFolder;

  private constructor(readonly ndb: NdbReader, readonly store: PstMessageStore, readonly nameIdMap: NameIdMap, readonly codepage: number) {}

  /**
   * Opens a PST file by path: header, name-to-id map and message store (MS-PST 2.2.2.6, 2.4.7, 2.4.3).
   * @throws PstReadError (e.g. "BadHeaderMagic", "UnsupportedVersion", "HeaderCrcMismatch", "NodeNotFound") */
  static async open(path: string, options: PstReaderOptions = {}): Promise<PstReader> {
    const ndb = await NdbReader.openFile(path, options);
    return PstReader.fromNdb(ndb, options);
  }

  /** Opens a PST held in memory (tests, fuzzing) or any ByteSource. @throws PstReadError */
  static async openBytes(bytes: Uint8Array | ByteSource, options: PstReaderOptions = {}): Promise<PstReader> {
    const src = bytes instanceof Uint8Array ? new MemoryByteSource(bytes) : bytes;
    return PstReader.fromNdb(await NdbReader.open(src, options), options);
  }

  private static async fromNdb(ndb: NdbReader, options: PstReaderOptions): Promise<PstReader> {
    try {
      const codepage = options.codepage ?? DEFAULT_CODEPAGE;
      const map = await readNameIdMap(ndb);
      const store = await readMessageStore(ndb, map, codepage);
      return new PstReader(ndb, store, map, codepage);
    } catch (err) {
      await ndb.close();
      throw err;
    }
  }

  /** Closes the file. */
  async close(): Promise<void> {
    await this.ndb.close();
  }

  /**
   * The folder tree from the root folder (NID 0x122, MS-PST 2.4.4.1), loaded once and cached.
   * @throws PstReadError "BadFolder", "NodeNotFound", LTP errors */
  async rootFolder(): Promise<PstFolder> {
    if (!this.tree) this.tree = await readFolderTree(this.ndb, NID.ROOT_FOLDER, this.nameIdMap, this.codepage, this.stats);
    return this.tree;
  }

  /** Every folder, depth-first, root first. */
  async *folders(): AsyncGenerator<PstFolder> {
    const stack = [await this.rootFolder()];
    while (stack.length) {
      const f = stack.pop()!;
      yield f;
      for (let i = f.children.length - 1; i >= 0; i--) stack.push(f.children[i]);
    }
  }

  /** NIDs of a folder's items: contents table order, then (unless `associated` is false) the FAI table's. */
  async itemNids(folder: PstFolder, options: { associated?: boolean } = {}): Promise<{ nid: number; associated: boolean }[]> {
    const out = (await readTableRowIds(this.ndb, contentsTableNid(folder))).map((nid) => ({ nid, associated: false }));
    const fai = assocContentsTableNid(folder);
    if (fai !== undefined && options.associated !== false) for (const nid of await readTableRowIds(this.ndb, fai)) out.push({ nid, associated: true });
    return out;
  }

  /**
   * A folder's items as MapiItems: contents-table order, then FAI items (`associated = true`).
   * Search folders yield the messages their search contents table lists (MS-PST 2.4.8.6).
   * @throws PstReadError for the first item that cannot be read */
  async *items(folder: PstFolder, options: { associated?: boolean } = {}): AsyncGenerator<PstItem> {
    for (const { nid, associated } of await this.itemNids(folder, options)) yield await this.readItem(nid, associated);
  }

  /**
   * Reads one message by NID (MS-PST 2.4.5), with recipients, attachments and embedded messages.
   * @throws PstReadError "NodeNotFound", "BadMessage", "NestingTooDeep", LTP errors */
  async readItem(nid: number, associated = false): Promise<PstItem> {
    const node = await this.ndb.getNode(nid);
    const ctx: MessageReadContext = { ndb: this.ndb, nameIdMap: this.nameIdMap, codepage: this.codepage, stats: this.stats, seen: new Set() };
    const item = await readMessage(ctx, node, associated);
    return Object.assign(item, { nid });
  }
}
