/**
 * Builds the sandbox tenant deterministically: the users, their mailboxes and folder trees, the
 * SpamAssassin corpus spread over the mail folders (convert/mime: each message once, its raw bytes
 * kept for `$value`), and generated contacts, events, tasks, notes and journal entries.
 *
 * Layout (see docs/sandbox.md):
 * - adele: primary + in-place archive
 * - megan: primary + auto-expanding archive (folder "Older mail" and its child live in the auxiliary part)
 * - alex, lynne: primary only
 * - diego: primary + in-place archive
 * - isaiah: inactive (directory entry only; mailbox 404 MailboxNotEnabledForRESTAPI)
 * - admin ("Outport Admin"): Exchange Administrator directory role (tokens carry `wids`); primary
 *   with PIM items only (no corpus mail: the other mailboxes hold what they held before it existed)
 */
import { convertMime } from '../convert/mime';
import { encodeExportItem } from '../convert/fts/encode';
import type { MapiItem } from '../mapi/item';
import { NAMED } from '../mapi/named';
import { TAG } from '../mapi/tags';
import { dateFromFiletime } from '../mapi/types';
import { corpusMessages } from './corpus';
import { mailboxId, stableChangeKey, stableEntityId, stableGuid } from './ids';
import { appointmentItem, contactItem, journalItem, noteItem, taskItem, type PersonRef } from './seed-pim';
import { SandboxTenant, type SandboxDirectoryRole, type SandboxFolder, type SandboxItem, type SandboxMailbox, type SandboxMailboxKind, type SandboxUser } from './tenant';

/** Seeding options. */
export interface SeedOptions {
  /** Seed of every id (same seed → same tenant). Default "outport-sandbox". */
  seed?: string;
  /** Tenant (directory) id; default a GUID derived from the seed. */
  tenantId?: string;
  /** Mail domain; default "sandbox.outport.test". */
  domain?: string;
  /** How many corpus messages to load (from the start of the corpus); default all 6,046. */
  mailLimit?: number;
}

/** Which users exist and what their mailboxes hold. */
const PEOPLE = [
  { key: 'adele', given: 'Adele', surname: 'Vance', job: 'Retail Manager', office: '18/2111', archive: 'plain' },
  { key: 'megan', given: 'Megan', surname: 'Bowen', job: 'Marketing Manager', office: '12/1110', archive: 'auto-expanding' },
  { key: 'alex', given: 'Alex', surname: 'Wilber', job: 'Marketing Assistant', office: '131/1104', archive: 'none' },
  { key: 'lynne', given: 'Lynne', surname: 'Robbins', job: 'Product Manager', office: '20/1109', archive: 'none' },
  { key: 'diego', given: 'Diego', surname: 'Siciliani', job: 'HR Manager', office: '14/1108', archive: 'plain' },
  { key: 'isaiah', given: 'Isaiah', surname: 'Langer', job: 'Sales Rep', office: '20/1101', archive: 'none', inactive: true },
  { key: 'admin', given: 'Outport', surname: 'Admin', job: 'Exchange Administrator', office: '1/1001', archive: 'none', admin: true },
] as const;

/**
 * The Exchange Administrator directory role (template id from Entra "Microsoft Entra built-in roles");
 * the seeded admin holds it, so its tokens make it an admin of the worker API (docs/auth.md).
 */
export const EXCHANGE_ADMINISTRATOR_ROLE: SandboxDirectoryRole = { displayName: 'Exchange Administrator', roleTemplateId: '29232cdf-9323-42fd-ade2-1d097af3e4de' };

/** A folder template: display name, container class, well-known name, children. */
interface FolderTemplate { name: string; type?: string; wellKnown?: string; children?: FolderTemplate[]; overflow?: boolean }

const PRIMARY_FOLDERS: FolderTemplate[] = [
  { name: 'Inbox', wellKnown: 'inbox', children: [{ name: 'Lists', children: [{ name: 'Vendors' }] }] },
  { name: 'Drafts', wellKnown: 'drafts' },
  { name: 'Sent Items', wellKnown: 'sentitems' },
  { name: 'Deleted Items', wellKnown: 'deleteditems' },
  { name: 'Junk Email', wellKnown: 'junkemail' },
  { name: 'Archive', wellKnown: 'archive', children: [{ name: '2002' }] },
  { name: 'Contacts', type: 'IPF.Contact', wellKnown: 'contacts' },
  { name: 'Calendar', type: 'IPF.Appointment', wellKnown: 'calendar' },
  { name: 'Tasks', type: 'IPF.Task', wellKnown: 'tasks' },
  { name: 'Notes', type: 'IPF.StickyNote', wellKnown: 'notes' },
  { name: 'Journal', type: 'IPF.Journal', wellKnown: 'journal' },
];
const ARCHIVE_FOLDERS: FolderTemplate[] = [
  { name: 'Inbox', wellKnown: 'inbox', children: [{ name: '2002' }, { name: '2003' }] },
  { name: 'Sent Items', wellKnown: 'sentitems' },
  { name: 'Deleted Items', wellKnown: 'deleteditems' },
];
/** An auto-expanding archive: the same, plus folders whose items live in the auxiliary mailbox. */
const EXPANDING_ARCHIVE_FOLDERS: FolderTemplate[] = [
  ...ARCHIVE_FOLDERS,
  { name: 'Older mail', overflow: true, children: [{ name: '1999', overflow: true }] },
];

/** The fixed clock of the seed: PIM items are dated around it. */
export const SEED_EPOCH = new Date(Date.UTC(2026, 0, 5, 9, 0, 0));

/** Options of the exportItems encoding, as Exchange writes PidTagMessageClass (0x84B0, code page 1200). */
export const EXPORT_ENCODE_OPTIONS = {
  stringCodepage: (e: { kind: string; id?: number }) => (e.kind === 'tagged' && e.id === TAG.PidTagMessageClass.id ? 1200 : undefined),
} as const;

/**
 * Gives every attachment (embedded messages' too) its PidTagAttachNumber (its index) where it has
 * none: Exchange stores one on every attachment and exportItems carries it (MS-OXCFXICS 2.2.4.2,
 * `NewAttach PidTagAttachNumber`), so the seed truth holds what a full-fidelity read gets back.
 * convertMime (REST's path) does not set it; the encoder wrote the same index already, so the
 * exportItems bytes and sizes do not change.
 */
export function numberAttachments(item: MapiItem): void {
  item.attachments.forEach((a, i) => {
    if (a.properties.get(TAG.PidTagAttachNumber.id) === undefined) a.properties.setTag(TAG.PidTagAttachNumber, i);
    if (a.embedded) numberAttachments(a.embedded);
  });
}

/** ISO 8601 without milliseconds, as Graph writes mailboxItem dates. */
export function graphDate(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

class Builder {
  readonly tenant: SandboxTenant;
  constructor(readonly seed: string, tenantId: string, domain: string) {
    this.tenant = new SandboxTenant(tenantId, domain);
  }

  mailbox(owner: SandboxUser, kind: SandboxMailboxKind): SandboxMailbox {
    const guid = stableGuid(this.seed, 'mailbox', owner.id, kind);
    const mb: SandboxMailbox = { id: mailboxId(guid, this.tenant.tenantId), kind, owner, rootFolderId: stableEntityId(this.seed, 'root', guid), folders: [] };
    this.tenant.addMailbox(mb);
    return mb;
  }

  folders(mb: SandboxMailbox, templates: FolderTemplate[], parentId: string, into: SandboxFolder[], path: string): void {
    for (const t of templates) {
      const home = t.overflow ? mb.auxiliary! : mb;
      const f: SandboxFolder = {
        id: stableEntityId(this.seed, 'folder', mb.id, path + '/' + t.name),
        displayName: t.name, parentFolderId: parentId, type: t.type ?? 'IPF.Note', wellKnownName: t.wellKnown ?? null,
        children: [], items: [], mailbox: mb, home, createdSeq: 1, removed: [],
      };
      this.tenant.addFolder(f);
      into.push(f);
      if (t.overflow && parentId === mb.rootFolderId) home.folders.push(f);
      if (t.children) this.folders(mb, t.children, f.id, f.children, path + '/' + t.name);
    }
  }

  addItem(folder: SandboxFolder, item: MapiItem, key: string, extra: { mime?: Uint8Array; corpusKey?: string; categories?: string[] } = {}): SandboxItem {
    const p = item.properties;
    const when = (p.get(TAG.PidTagMessageDeliveryTime.id) ?? p.get(TAG.PidTagClientSubmitTime.id) ?? p.get(TAG.PidTagCreationTime.id)) as bigint | undefined;
    let created = when !== undefined ? dateFromFiletime(when) : SEED_EPOCH;
    if (Number.isNaN(created.getTime())) created = SEED_EPOCH;
    const categories = extra.categories ?? [];
    if (categories.length) p.setNamedDef(NAMED.PidNameKeywords, categories);
    const it: SandboxItem = {
      id: stableEntityId(this.seed, 'item', folder.home.id, key),
      changeKey: stableChangeKey(this.seed, 'item', key, 0),
      item,
      messageClass: String(p.get(TAG.PidTagMessageClass.id) ?? 'IPM.Note'),
      size: encodeExportItem(item, EXPORT_ENCODE_OPTIONS).length,
      createdDateTime: graphDate(created),
      lastModifiedDateTime: graphDate(new Date(created.getTime() + 3000)),
      categories,
      mime: extra.mime,
      corpusKey: extra.corpusKey,
      folder,
      modSeq: 1,
    };
    this.tenant.addItem(it);
    return it;
  }
}

function find(folders: readonly SandboxFolder[], path: string): SandboxFolder {
  let list = folders;
  let f: SandboxFolder | undefined;
  for (const name of path.split('/')) {
    f = list.find((x) => x.displayName === name);
    if (!f) throw new Error(`sandbox seed: no folder ${path}`);
    list = f.children;
  }
  return f!;
}

/**
 * Builds the tenant. Deterministic for given options (ids, spread, dates, sizes).
 * @throws CorpusMissingError when the corpus package is not installed
 */
export async function buildTenant(options: SeedOptions = {}): Promise<SandboxTenant> {
  const seed = options.seed ?? 'outport-sandbox';
  const domain = options.domain ?? 'sandbox.outport.test';
  const b = new Builder(seed, options.tenantId ?? stableGuid(seed, 'tenant'), domain);
  const t = b.tenant;

  for (const person of PEOPLE) {
    const mail = `${person.given}.${person.surname}@${domain}`.toLowerCase();
    const user: SandboxUser = {
      id: stableGuid(seed, 'user', person.key), displayName: `${person.given} ${person.surname}`, givenName: person.given,
      surname: person.surname, mail, userPrincipalName: mail, jobTitle: person.job, officeLocation: person.office,
      password: `${person.given}-sandbox-1`, inactive: 'inactive' in person && person.inactive,
      ...('admin' in person && person.admin ? { directoryRoles: [EXCHANGE_ADMINISTRATOR_ROLE] } : {}),
    };
    t.addUser(user);
    if (user.inactive) continue;
    user.primary = b.mailbox(user, 'primary');
    b.folders(user.primary, PRIMARY_FOLDERS, user.primary.rootFolderId, user.primary.folders, '');
    if (person.archive !== 'none') {
      const archive = b.mailbox(user, 'archive');
      user.archive = archive;
      if (person.archive === 'auto-expanding') {
        const aux = b.mailbox(user, 'auxiliary');
        aux.parent = archive;
        archive.auxiliary = aux;
      }
      b.folders(archive, person.archive === 'auto-expanding' ? EXPANDING_ARCHIVE_FOLDERS : ARCHIVE_FOLDERS, archive.rootFolderId, archive.folders, '');
    }
  }

  // Mail: ham over the mail folders of every active mailbox but the admin's, spam into the primaries' Junk Email.
  const active = t.users.filter((u) => !u.inactive);
  const hamSlots: SandboxFolder[] = [];
  const spamSlots: SandboxFolder[] = [];
  for (const u of active.filter((x) => !x.directoryRoles?.length)) {
    for (const p of ['Inbox', 'Inbox/Lists', 'Inbox/Lists/Vendors', 'Sent Items', 'Deleted Items', 'Archive', 'Archive/2002']) hamSlots.push(find(u.primary!.folders, p));
    spamSlots.push(find(u.primary!.folders, 'Junk Email'));
    if (u.archive) {
      for (const p of ['Inbox', 'Inbox/2002', 'Inbox/2003', 'Sent Items']) hamSlots.push(find(u.archive.folders, p));
      if (u.archive.auxiliary) for (const p of ['Older mail', 'Older mail/1999']) hamSlots.push(find(u.archive.folders, p));
    }
  }
  const CATEGORIES = [['Red category'], ['Blue category', 'Project Outport'], ['Green category']];
  let ham = 0;
  let spam = 0;
  let n = 0;
  for await (const m of corpusMessages(options.mailLimit ?? Infinity)) {
    const { item } = await convertMime(m.raw);
    numberAttachments(item);
    const folder = m.group.startsWith('spam') ? spamSlots[spam++ % spamSlots.length] : hamSlots[ham++ % hamSlots.length];
    const corpusKey = `${m.group}/${m.id}`;
    b.addItem(folder, item, corpusKey, { mime: m.raw, corpusKey, categories: n % 5 === 0 ? CATEGORIES[(n / 5) % 3] : [] });
    n++;
  }

  // Contacts, calendar, tasks, notes, journal in every primary.
  const people: PersonRef[] = t.users.map((u) => ({ displayName: u.displayName, givenName: u.givenName, surname: u.surname, mail: u.mail, jobTitle: u.jobTitle }));
  const external: PersonRef = { displayName: 'Nestor Wilke', givenName: 'Nestor', surname: 'Wilke', mail: 'nestor.wilke@fabrikam.example', jobTitle: 'Director' };
  active.forEach((u, ui) => {
    const me = people.find((p) => p.mail === u.mail)!;
    const others = [...people.filter((p) => p.mail !== u.mail).slice(0, 3), external];
    const day = (d: number, h = 9, min = 0): Date => new Date(SEED_EPOCH.getTime() + ((d * 24 + h - 9) * 60 + min) * 60000);
    const contacts = find(u.primary!.folders, 'Contacts');
    others.forEach((o, i) => b.addItem(contacts, contactItem(o, o === external ? 'Fabrikam' : 'Contoso', ui * 4 + i, day(-30 + i)), `contact/${u.id}/${i}`));
    const cal = find(u.primary!.folders, 'Calendar');
    const weeklyStart = day(7 + (ui % 3), 10, 30);
    b.addItem(cal, appointmentItem({
      subject: 'Weekly sync', location: 'Conference Room Adams', start: weeklyStart, durationMinutes: 30, organizer: me,
      attendees: others.slice(0, 2), body: 'Status, blockers, next steps.', reminderMinutes: 15,
      recurrence: {
        kind: 'weekly', interval: 1, daysOfWeek: [weeklyStart.getUTCDay()], occurrences: 10,
        deleted: [new Date(weeklyStart.getTime() + 2 * 7 * 86400000)],
        modified: [{ originalStart: new Date(weeklyStart.getTime() + 4 * 7 * 86400000), subject: 'Weekly sync (quarter review)' }],
      },
    }, day(-2)), `event/${u.id}/weekly`);
    b.addItem(cal, appointmentItem({
      subject: 'Stand-up', location: 'Teams', start: day(14, 9, 15), durationMinutes: 15, organizer: me, attendees: [],
      body: 'Daily stand-up.', recurrence: { kind: 'daily', interval: 1, occurrences: 5 },
    }, day(-1)), `event/${u.id}/daily`);
    b.addItem(cal, appointmentItem({
      subject: `Lunch with ${others[0].givenName}`, location: 'Cafeteria', start: day(3, 12), durationMinutes: 60, organizer: me,
      attendees: [others[0]], body: 'Lunch.', reminderMinutes: 30,
    }, day(-3)), `event/${u.id}/lunch`);
    const tasks = find(u.primary!.folders, 'Tasks');
    (['Prepare budget', 'Review contract', 'Book travel'] as const).forEach((s, i) => b.addItem(tasks, taskItem(`${s}`, (i % 3) as 0 | 1 | 2, day(10 + i * 3, 17), day(-5 + i), u.displayName), `task/${u.id}/${i}`));
    const notes = find(u.primary!.folders, 'Notes');
    b.addItem(notes, noteItem(`Parking: level ${2 + ui}, spot ${40 + ui}\nRemember the badge.`, 3, day(-20)), `note/${u.id}/0`);
    b.addItem(notes, noteItem('Ideas\n- export archives\n- check sizes by bytes', 1, day(-10)), `note/${u.id}/1`);
    const journal = find(u.primary!.folders, 'Journal');
    b.addItem(journal, journalItem(`Call with ${others[0].displayName}`, 'Phone call', day(-4, 14), 25, day(-4, 15)), `journal/${u.id}/0`);
    b.addItem(journal, journalItem('Quarterly report sent', 'E-mail Message', day(-6, 11), 0, day(-6, 11)), `journal/${u.id}/1`);
  });
  return t;
}
