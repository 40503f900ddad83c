/**
 * The sandbox tenant's data model: users, their mailboxes (primary, in-place archive, the archive's
 * auxiliary part), folders and items. Items are MapiItems (the seed truth tests compare against);
 * everything Graph shows about an item (id, changeKey, size, dates) is kept beside it. Changes go
 * through the tenant so delta rounds see them (a sequence number per change).
 */
import type { MapiItem } from '../mapi/item';

/** Mailbox kinds. An `auxiliary` mailbox is the overflow part of an auto-expanding archive. */
export type SandboxMailboxKind = 'primary' | 'archive' | 'auxiliary';

/** One item as the tenant holds it. */
export interface SandboxItem {
  readonly id: string;
  changeKey: string;
  /** The seed truth: what exportItems encodes and what a full-fidelity reader should get back. */
  item: MapiItem;
  /** PidTagMessageClass (mailboxItem.type). */
  readonly messageClass: string;
  /** mailboxItem.size: byte length of the exportItems data (decoded, not base64). */
  size: number;
  readonly createdDateTime: string;
  lastModifiedDateTime: string;
  categories: string[];
  /** The original RFC 822 bytes of a corpus message (served by `$value`); absent for other items. */
  readonly mime?: Uint8Array;
  /** Corpus origin of mail items: "easy-ham-1/00001.7c53336b37003a9286aba55d2945844c". */
  readonly corpusKey?: string;
  /** The folder holding it. */
  folder: SandboxFolder;
  /** Change sequence number of its last change (delta rounds list items changed after a token's). */
  modSeq: number;
}

/** A folder; `home` is the mailbox that physically holds it (an auxiliary archive for overflow folders). */
export interface SandboxFolder {
  readonly id: string;
  readonly displayName: string;
  /** The parent folder's id (the mailbox's root folder id for top-level folders). */
  readonly parentFolderId: string;
  /** Container class (mailboxFolder.type): IPF.Note, IPF.Contact, IPF.Appointment, IPF.Task, IPF.StickyNote, IPF.Journal. */
  readonly type: string;
  /** mailboxFolder.wellKnownName (inbox, sentitems, …) or null for user folders. */
  readonly wellKnownName: string | null;
  readonly children: SandboxFolder[];
  readonly items: SandboxItem[];
  /** The mailbox whose folder tree lists it. */
  readonly mailbox: SandboxMailbox;
  /** The mailbox that holds its items: `mailbox`, or the auxiliary archive for overflow folders. */
  readonly home: SandboxMailbox;
  readonly createdSeq: number;
  /** Items deleted from this folder (for delta rounds): id and the change's sequence number. */
  readonly removed: { id: string; seq: number }[];
}

/** A mailbox as the mailbox API addresses it (`/admin/exchange/mailboxes/{id}`). */
export interface SandboxMailbox {
  /** `MBX:<guid>@<tenantId>`. */
  readonly id: string;
  readonly kind: SandboxMailboxKind;
  readonly owner: SandboxUser;
  /** Id of the (unlisted) root folder: parentFolderId of top-level folders. */
  readonly rootFolderId: string;
  /** Top-level folders, in listing order (for an archive with an auxiliary part: its overflow folders too). */
  readonly folders: SandboxFolder[];
  /** The auxiliary part of an auto-expanding archive. */
  auxiliary?: SandboxMailbox;
  /** For an auxiliary mailbox: the archive it extends. */
  parent?: SandboxMailbox;
}

/** A directory role assignment (Graph `directoryRole`; template ids: Entra "Microsoft Entra built-in roles"). */
export interface SandboxDirectoryRole {
  readonly displayName: string;
  /** The role's template id GUID (what tokens carry in `wids`). */
  readonly roleTemplateId: string;
}

/** A user of the tenant. */
export interface SandboxUser {
  /** Object id (GUID). */
  readonly id: string;
  readonly displayName: string;
  readonly givenName: string;
  readonly surname: string;
  readonly mail: string;
  readonly userPrincipalName: string;
  readonly jobTitle: string;
  readonly officeLocation: string;
  /** Sign-in password for the sandbox's resource-owner password grant (test users only). */
  readonly password: string;
  /** Inactive users exist in the directory but their mailbox answers 404 MailboxNotEnabledForRESTAPI. */
  readonly inactive: boolean;
  /**
   * Entra directory roles assigned to the user (Graph `directoryRole`: displayName, roleTemplateId).
   * The user's tokens carry the template ids in `wids`, as Entra's do (Microsoft identity platform
   * "Access token claims reference", `wids`). Absent: no role.
   */
  readonly directoryRoles?: readonly SandboxDirectoryRole[];
  primary?: SandboxMailbox;
  archive?: SandboxMailbox;
}

/** The whole tenant, with indexes by id. */
export class SandboxTenant {
  readonly users: SandboxUser[] = [];
  private readonly mailboxesById = new Map<string, SandboxMailbox>();
  private readonly foldersById = new Map<string, SandboxFolder>();
  private readonly itemsById = new Map<string, SandboxItem>();
  /** Change sequence: bumped by every change; delta tokens carry it. */
  seq = 1;
  /** Delta tokens whose round ended before this sequence number answer 410 SyncStateNotFound. */
  deltaValidFromSeq = 0;

  constructor(readonly tenantId: string, readonly domain: string) {}

  /** Registers a user. */
  addUser(user: SandboxUser): void {
    this.users.push(user);
  }
  /** Registers a mailbox (ids are case-insensitive). */
  addMailbox(mailbox: SandboxMailbox): void {
    this.mailboxesById.set(mailbox.id.toLowerCase(), mailbox);
  }
  /** Registers a folder. */
  addFolder(folder: SandboxFolder): void {
    this.foldersById.set(folder.id, folder);
  }
  /** Registers an item in its folder. */
  addItem(item: SandboxItem): void {
    this.itemsById.set(item.id, item);
    item.folder.items.push(item);
  }

  /** A user by object id or UPN/mail (case-insensitive), or undefined. */
  user(idOrUpn: string): SandboxUser | undefined {
    const k = idOrUpn.toLowerCase();
    return this.users.find((u) => u.id === k || u.userPrincipalName.toLowerCase() === k || u.mail.toLowerCase() === k);
  }
  /** A mailbox by id (case-insensitive), or undefined. */
  mailbox(id: string): SandboxMailbox | undefined {
    return this.mailboxesById.get(id.toLowerCase());
  }
  /** Every mailbox (primary, archive, auxiliary). */
  mailboxes(): SandboxMailbox[] {
    return [...this.mailboxesById.values()];
  }
  /** A folder by id, or undefined. */
  folder(id: string): SandboxFolder | undefined {
    return this.foldersById.get(id);
  }
  /** An item by id, or undefined. */
  item(id: string): SandboxItem | undefined {
    return this.itemsById.get(id);
  }
  /** Every item. */
  allItems(): IterableIterator<SandboxItem> {
    return this.itemsById.values();
  }

  /** Removes an item (delta rounds after this report it as `@removed`). */
  /**
   * The knob for expired delta tokens: every deltaLink issued so far answers 410 Gone
   * `SyncStateNotFound` (as Exchange does once its delta token cache has dropped the sync state),
   * and the client must start a full round. deltaLinks issued afterwards work.
   */
  expireDeltaTokens(): void {
    this.deltaValidFromSeq = ++this.seq;
  }

  removeItem(id: string): boolean {
    const it = this.itemsById.get(id);
    if (!it) return false;
    this.itemsById.delete(id);
    const list = it.folder.items;
    list.splice(list.indexOf(it), 1);
    it.folder.removed.push({ id, seq: ++this.seq });
    return true;
  }
}

/** Folders of a mailbox's tree, parents first (depth-first, listing order). */
export function walkTree(roots: readonly SandboxFolder[]): SandboxFolder[] {
  const out: SandboxFolder[] = [];
  const visit = (f: SandboxFolder): void => { out.push(f); f.children.forEach(visit); };
  roots.forEach(visit);
  return out;
}

/** Every folder a mailbox's tree lists (an archive's includes its overflow folders). */
export function mailboxFolders(mailbox: SandboxMailbox): SandboxFolder[] {
  return walkTree(mailbox.folders);
}

/** Items a mailbox holds (an archive's without its auxiliary part; an auxiliary's `folders` are its overflow folders). */
export function mailboxItems(mailbox: SandboxMailbox): SandboxItem[] {
  return walkTree(mailbox.folders).filter((f) => f.home === mailbox).flatMap((f) => f.items);
}
