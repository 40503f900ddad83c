/**
 * Folder bookkeeping of the streaming writer (MS-PST 2.4.4): each folder's PC properties, its
 * children, and the rows of its contents and FAI contents tables, kept packed until the store is
 * closed and the folder's four nodes (PC, hierarchy, contents, FAI tables) are written.
 */
import type { TcLayout } from '../ltp/write-tc';
import type { SpilledRows } from './row-spill';
import type { LocalProps } from './write-props';

/** One folder of the store being written. */
export interface FolderState {
  nid: number;
  parentNid: number;
  displayName: string;
  containerClass?: string;
  comment?: string;
  /** Extra folder properties (e.g. from a PST being rewritten), store-local ids. */
  extra: LocalProps;
  children: number[];
  /** Contents and FAI contents table rows, held by the store's row spill. */
  contents: SpilledRows;
  associated: SpilledRows;
  contentCount: number;
  unreadCount: number;
  /** True for the store's special folders (not listed as user folders). */
  special: boolean;
}

/** The layouts of the folder tables, shared by every folder of a store. */
export interface FolderTableLayouts {
  hierarchy: TcLayout;
  contents: TcLayout;
  associated: TcLayout;
  hierarchyColumns: readonly number[];
  contentsColumns: readonly number[];
  associatedColumns: readonly number[];
}

/** A handle callers use to address a folder of a store being written. */
export interface FolderHandle {
  readonly nid: number;
  /** Path of display names from the top of the store (IPM subtree), e.g. ["Inbox", "Project"]. */
  readonly path: readonly string[];
}
