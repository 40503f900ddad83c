/**
 * The REST (non-export) view of seeded items in Graph's JSON shapes: message, contact, event,
 * todoTask, mailFolder, user (field names as in Microsoft's examples, shared/samples/graph). Only
 * what a MapiItem holds is filled in; the rest is null or empty as Graph shows absent values.
 */
import type { PropertyBag } from '../mapi/item';
import { NAMED } from '../mapi/named';
import { TAG } from '../mapi/tags';
import { dateFromFiletime } from '../mapi/types';
import { occurrenceStarts } from './recurrence';
import { appointmentSpecOf } from './seed-pim';
import type { SandboxFolder, SandboxItem, SandboxUser } from './tenant';

/** The OData etag Graph puts on Outlook entities: `W/"<changeKey>"`. */
export function etag(changeKey: string): string {
  return `W/"${changeKey}"`;
}

function str(p: PropertyBag, def: { id: number }): string | null {
  const v = p.get(def.id);
  return typeof v === 'string' ? v : null;
}
function named(p: PropertyBag, def: { key: Parameters<PropertyBag['getNamed']>[0] }): unknown {
  return p.getNamed(def.key)?.value;
}
function iso(v: unknown): string | null {
  return typeof v === 'bigint' ? dateFromFiletime(v).toISOString().replace(/\.\d{3}Z$/, 'Z') : null;
}
/** dateTimeTimeZone as Graph writes it: 7 fractional digits, no Z, zone named. */
function dateTimeTimeZone(d: Date): { dateTime: string; timeZone: string } {
  return { dateTime: d.toISOString().replace(/\.(\d{3})Z$/, '.$10000'), timeZone: 'UTC' };
}
const IMPORTANCE = ['low', 'normal', 'high'];

/** user (GET /users default properties). */
export function userJson(u: SandboxUser): Record<string, unknown> {
  return {
    businessPhones: [], displayName: u.displayName, givenName: u.givenName, jobTitle: u.jobTitle, mail: u.mail,
    mobilePhone: null, officeLocation: u.officeLocation, preferredLanguage: 'en-US', surname: u.surname,
    userPrincipalName: u.userPrincipalName, id: u.id,
  };
}

/** mailFolder (REST); `beta` adds wellKnownName. */
export function mailFolderJson(f: SandboxFolder, beta: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: f.id, displayName: f.displayName, parentFolderId: f.parentFolderId, childFolderCount: f.children.length,
    unreadItemCount: f.items.filter((i) => !(((i.item.properties.get(TAG.PidTagMessageFlags.id) as number | undefined) ?? 0) & 1)).length,
    totalItemCount: f.items.length, isHidden: false,
  };
  if (beta) out.wellKnownName = f.wellKnownName;
  return out;
}

function recipients(it: SandboxItem, type: number): { emailAddress: { name: string; address: string } }[] {
  return it.item.recipients
    .filter((r) => r.get(TAG.PidTagRecipientType.id) === type)
    .map((r) => {
      const address = str(r, TAG.PidTagSmtpAddress) ?? str(r, TAG.PidTagEmailAddress) ?? '';
      return { emailAddress: { name: str(r, TAG.PidTagDisplayName) ?? address, address } };
    });
}

function bodyOf(p: PropertyBag): { contentType: 'text' | 'html'; content: string; preview: string } {
  const text = str(p, TAG.PidTagBody);
  const html = p.get(TAG.PidTagHtml.id);
  const htmlText = typeof html === 'string' ? html : html instanceof Uint8Array ? Buffer.from(html).toString('utf8') : null;
  const preview = (text ?? '').replace(/\s+/g, ' ').trim().slice(0, 255);
  return htmlText !== null ? { contentType: 'html', content: htmlText, preview } : { contentType: 'text', content: text ?? '', preview };
}

/** message (REST), from the seeded MapiItem. */
export function messageJson(it: SandboxItem): Record<string, unknown> {
  const p = it.item.properties;
  const body = bodyOf(p);
  const senderAddress = str(p, TAG.PidTagSenderSmtpAddress) ?? str(p, TAG.PidTagSenderEmailAddress) ?? '';
  const sender = { emailAddress: { name: str(p, TAG.PidTagSenderName) ?? senderAddress, address: senderAddress } };
  const repAddress = str(p, TAG.PidTagSentRepresentingSmtpAddress) ?? str(p, TAG.PidTagSentRepresentingEmailAddress);
  const from = repAddress ? { emailAddress: { name: str(p, TAG.PidTagSentRepresentingName) ?? repAddress, address: repAddress } } : sender;
  const flags = (p.get(TAG.PidTagMessageFlags.id) as number | undefined) ?? 0;
  return {
    '@odata.etag': etag(it.changeKey),
    id: it.id,
    createdDateTime: it.createdDateTime,
    lastModifiedDateTime: it.lastModifiedDateTime,
    changeKey: it.changeKey,
    categories: it.categories,
    receivedDateTime: iso(p.get(TAG.PidTagMessageDeliveryTime.id)) ?? it.createdDateTime,
    sentDateTime: iso(p.get(TAG.PidTagClientSubmitTime.id)) ?? it.createdDateTime,
    hasAttachments: it.item.attachments.some((a) => !a.properties.get(TAG.PidTagAttachmentHidden.id)),
    internetMessageId: str(p, TAG.PidTagInternetMessageId),
    subject: str(p, TAG.PidTagSubject) ?? '',
    bodyPreview: body.preview,
    importance: IMPORTANCE[(p.get(TAG.PidTagImportance.id) as number | undefined) ?? 1] ?? 'normal',
    parentFolderId: it.folder.id,
    conversationId: null,
    isDeliveryReceiptRequested: false,
    isReadReceiptRequested: p.get(TAG.PidTagReadReceiptRequested.id) === true,
    isRead: (flags & 0x1) !== 0,
    isDraft: (flags & 0x8) !== 0,
    inferenceClassification: 'focused',
    body: { contentType: body.contentType, content: body.content },
    sender,
    from,
    toRecipients: recipients(it, 1),
    ccRecipients: recipients(it, 2),
    bccRecipients: recipients(it, 3),
    replyTo: [],
    flag: { flagStatus: 'notFlagged' },
  };
}

/** fileAttachment entries of a message (REST), without hidden attachments. */
export function attachmentsJson(it: SandboxItem): Record<string, unknown>[] {
  return it.item.attachments.filter((a) => !a.embedded).map((a, i) => {
    const p = a.properties;
    const data = p.get(TAG.PidTagAttachDataBinary.id);
    const bytes = data instanceof Uint8Array ? data : new Uint8Array();
    return {
      '@odata.type': '#microsoft.graph.fileAttachment', id: `${it.id}.${i}`, lastModifiedDateTime: it.lastModifiedDateTime,
      name: str(p, TAG.PidTagAttachLongFilename) ?? str(p, TAG.PidTagAttachFilename) ?? `attachment${i}`,
      contentType: str(p, TAG.PidTagAttachMimeTag) ?? 'application/octet-stream', size: bytes.length, isInline: !!str(p, TAG.PidTagAttachContentId),
      contentId: str(p, TAG.PidTagAttachContentId), contentLocation: null, contentBytes: Buffer.from(bytes).toString('base64'),
    };
  });
}

/** contact (REST). */
export function contactJson(it: SandboxItem): Record<string, unknown> {
  const p = it.item.properties;
  const email = named(p, NAMED.PidLidEmail1EmailAddress);
  const birthday = iso(p.get(TAG.PidTagBirthday.id));
  return {
    '@odata.etag': etag(it.changeKey), id: it.id, createdDateTime: it.createdDateTime, lastModifiedDateTime: it.lastModifiedDateTime,
    changeKey: it.changeKey, categories: it.categories, parentFolderId: it.folder.id,
    birthday, fileAs: (named(p, NAMED.PidLidFileUnder) as string | undefined) ?? '', displayName: str(p, TAG.PidTagDisplayName),
    givenName: str(p, TAG.PidTagGivenName), initials: null, middleName: null, nickName: null, surname: str(p, TAG.PidTagSurname),
    title: null, yomiGivenName: null, yomiSurname: null, yomiCompanyName: null, generation: null, imAddresses: [],
    jobTitle: str(p, TAG.PidTagTitle), companyName: str(p, TAG.PidTagCompanyName), department: null, officeLocation: null,
    profession: null, businessHomePage: null, assistantName: null, manager: null, homePhones: [],
    mobilePhone: str(p, TAG.PidTagMobileTelephoneNumber), businessPhones: [str(p, TAG.PidTagBusinessTelephoneNumber)].filter(Boolean),
    spouseName: null, personalNotes: str(p, TAG.PidTagBody) ?? '', children: [],
    emailAddresses: typeof email === 'string' ? [{ name: email, address: email }] : [],
    homeAddress: {},
    businessAddress: {
      street: named(p, NAMED.PidLidWorkAddressStreet) ?? null, city: named(p, NAMED.PidLidWorkAddressCity) ?? null,
      postalCode: named(p, NAMED.PidLidWorkAddressPostalCode) ?? null, countryOrRegion: named(p, NAMED.PidLidWorkAddressCountry) ?? null,
    },
    otherAddress: {},
  };
}

const DAY_NAMES = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

/** event (REST): a single event or a series master with its recurrence (v1.0), and on beta the
 *  series' cancelledOccurrences and exceptionOccurrences. */
export function eventJson(it: SandboxItem, owner: SandboxUser, beta: boolean): Record<string, unknown> {
  const p = it.item.properties;
  const spec = appointmentSpecOf(it.item);
  const start = (named(p, NAMED.PidLidAppointmentStartWhole) as bigint | undefined);
  const end = (named(p, NAMED.PidLidAppointmentEndWhole) as bigint | undefined);
  const rec = spec?.recurrence;
  const out: Record<string, unknown> = {
    '@odata.etag': etag(it.changeKey), id: it.id, createdDateTime: it.createdDateTime, lastModifiedDateTime: it.lastModifiedDateTime,
    changeKey: it.changeKey, categories: it.categories, originalStartTimeZone: 'UTC', originalEndTimeZone: 'UTC',
    reminderMinutesBeforeStart: (named(p, NAMED.PidLidReminderDelta) as number | undefined) ?? 15,
    isReminderOn: named(p, NAMED.PidLidReminderSet) === true, hasAttachments: false, subject: str(p, TAG.PidTagSubject) ?? '',
    bodyPreview: (str(p, TAG.PidTagBody) ?? '').slice(0, 255), importance: 'normal', sensitivity: 'normal', isAllDay: false,
    isCancelled: false, isOrganizer: true, responseRequested: true, seriesMasterId: null, showAs: 'busy',
    type: rec ? 'seriesMaster' : 'singleInstance',
    body: { contentType: 'text', content: str(p, TAG.PidTagBody) ?? '' },
    start: start !== undefined ? dateTimeTimeZone(dateFromFiletime(start)) : null,
    end: end !== undefined ? dateTimeTimeZone(dateFromFiletime(end)) : null,
    location: { displayName: (named(p, NAMED.PidLidLocation) as string | undefined) ?? '', locationType: 'default', uniqueIdType: 'unknown' },
    locations: [],
    recurrence: rec ? {
      pattern: rec.kind === 'weekly'
        ? { type: 'weekly', interval: rec.interval, month: 0, dayOfMonth: 0, daysOfWeek: (rec.daysOfWeek ?? [spec!.start.getUTCDay()]).map((d) => DAY_NAMES[d]), firstDayOfWeek: 'sunday', index: 'first' }
        : { type: 'daily', interval: rec.interval, month: 0, dayOfMonth: 0, firstDayOfWeek: 'sunday', index: 'first' },
      range: { type: 'numbered', startDate: spec!.start.toISOString().slice(0, 10), endDate: '0001-01-01', recurrenceTimeZone: 'UTC', numberOfOccurrences: rec.occurrences },
    } : null,
    attendees: it.item.recipients.map((r) => ({
      type: 'required', status: { response: 'none', time: '0001-01-01T00:00:00Z' },
      emailAddress: { name: str(r, TAG.PidTagDisplayName), address: str(r, TAG.PidTagSmtpAddress) ?? str(r, TAG.PidTagEmailAddress) },
    })),
    organizer: { emailAddress: { name: owner.displayName, address: owner.mail } },
  };
  if (beta && rec && spec) {
    out.cancelledOccurrences = (rec.deleted ?? []).map((d) => `OID.${it.id}.${d.toISOString().slice(0, 10)}`);
    out.exceptionOccurrences = (rec.modified ?? []).map((m) => ({
      id: `${it.id}.${m.originalStart.toISOString().slice(0, 10)}`, subject: m.subject, occurrenceId: `OID.${it.id}.${m.originalStart.toISOString().slice(0, 10)}`,
      start: dateTimeTimeZone(m.originalStart), end: dateTimeTimeZone(new Date(m.originalStart.getTime() + spec.durationMinutes * 60000)),
    }));
  }
  return out;
}

/** The occurrences of an event in [from, to): for a series, occurrence/exception instances
 *  (deleted ones left out); for a single event, itself when it overlaps. */
export function eventInstances(it: SandboxItem, owner: SandboxUser, from: Date, to: Date): Record<string, unknown>[] {
  const master = eventJson(it, owner, false);
  const spec = appointmentSpecOf(it.item);
  if (!spec?.recurrence) {
    const s = spec?.start ?? from;
    return s >= from && s < to ? [master] : [];
  }
  const deleted = new Set((spec.recurrence.deleted ?? []).map((d) => d.getTime()));
  const modified = new Map((spec.recurrence.modified ?? []).map((m) => [m.originalStart.getTime(), m]));
  const out: Record<string, unknown>[] = [];
  for (const s of occurrenceStarts({ ...spec.recurrence, start: spec.start, durationMinutes: spec.durationMinutes })) {
    if (deleted.has(s.getTime()) || s < from || s >= to) continue;
    const m = modified.get(s.getTime());
    const day = s.toISOString().slice(0, 10);
    out.push({
      ...master, id: `${it.id}.${day}`, seriesMasterId: it.id, type: m ? 'exception' : 'occurrence', recurrence: null,
      subject: m?.subject ?? master.subject, start: dateTimeTimeZone(s), end: dateTimeTimeZone(new Date(s.getTime() + spec.durationMinutes * 60000)),
      '@odata.etag': etag(it.changeKey),
    });
  }
  return out;
}

const TASK_STATUS = ['notStarted', 'inProgress', 'completed'];

/** todoTask (REST, To Do). */
export function todoTaskJson(it: SandboxItem): Record<string, unknown> {
  const p = it.item.properties;
  const due = named(p, NAMED.PidLidTaskDueDate) as bigint | undefined;
  const startD = named(p, NAMED.PidLidTaskStartDate) as bigint | undefined;
  const done = named(p, NAMED.PidLidTaskDateCompleted) as bigint | undefined;
  const out: Record<string, unknown> = {
    '@odata.etag': etag(it.changeKey),
    importance: IMPORTANCE[(p.get(TAG.PidTagImportance.id) as number | undefined) ?? 1] ?? 'normal',
    isReminderOn: named(p, NAMED.PidLidReminderSet) === true,
    status: TASK_STATUS[(named(p, NAMED.PidLidTaskStatus) as number | undefined) ?? 0] ?? 'notStarted',
    title: str(p, TAG.PidTagSubject) ?? '',
    createdDateTime: it.createdDateTime, lastModifiedDateTime: it.lastModifiedDateTime,
    hasAttachments: false, categories: it.categories, id: it.id,
    body: { content: str(p, TAG.PidTagBody) ?? '', contentType: 'text' },
  };
  if (due !== undefined) out.dueDateTime = dateTimeTimeZone(dateFromFiletime(due));
  if (startD !== undefined) out.startDateTime = dateTimeTimeZone(dateFromFiletime(startD));
  if (done !== undefined) out.completedDateTime = dateTimeTimeZone(dateFromFiletime(done));
  return out;
}
