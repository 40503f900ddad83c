/**
 * The sandbox's non-mail items, built as MapiItems with the classes and named properties Outlook
 * writes: contacts (IPM.Contact, PSETID_Address; MS-OXOCNTC), appointments with recurrence and
 * exceptions (IPM.Appointment, PSETID_Appointment; MS-OXOCAL), tasks (IPM.Task, PSETID_Task;
 * MS-OXOTASK), sticky notes (IPM.StickyNote, PSETID_Note; MS-OXONOTE) and journal entries
 * (IPM.Activity, PSETID_Log; MS-OXOJRNL). Deterministic: built from the user list and fixed dates.
 */
import { AttachMethod, newMapiItem, PropertyBag, type MapiItem } from '../mapi/item';
import { NAMED, PSETID } from '../mapi/named';
import { TAG } from '../mapi/tags';
import { filetimeFromDate, PropType } from '../mapi/types';
import { appointmentRecurrenceBlob, occurrenceStarts, type RecurrenceSpec } from './recurrence';

/** Who a PIM item is about (another user of the tenant, or an external person). */
export interface PersonRef {
  readonly displayName: string;
  readonly givenName: string;
  readonly surname: string;
  readonly mail: string;
  readonly jobTitle?: string;
}

/** PidLidAppointmentStateFlags asfMeeting (MS-OXOCAL 2.2.1.10). */
const ASF_MEETING = 0x1;
/** Message class of an exception's embedded message (MS-OXOCAL 2.2.10.1.2). */
export const EXCEPTION_MESSAGE_CLASS = 'IPM.OLE.CLASS.{00061055-0000-0000-C000-000000000046}';

function base(messageClass: string, subject: string, created: Date): MapiItem {
  const item = newMapiItem();
  const p = item.properties;
  p.setTag(TAG.PidTagMessageClass, messageClass);
  p.setTag(TAG.PidTagSubject, subject);
  p.setTag(TAG.PidTagNormalizedSubject, subject);
  p.setTag(TAG.PidTagCreationTime, filetimeFromDate(created));
  p.setTag(TAG.PidTagLastModificationTime, filetimeFromDate(new Date(created.getTime() + 60000)));
  p.setTag(TAG.PidTagMessageFlags, 0x1); // mfRead
  p.setTag(TAG.PidTagImportance, 1);
  p.setTag(TAG.PidTagSensitivity, 0);
  return item;
}

/** A contact (MS-OXOCNTC) for `person`, with email 1, phones, company and a business address. */
export function contactItem(person: PersonRef, company: string, n: number, created: Date): MapiItem {
  const item = base('IPM.Contact', person.displayName, created);
  const p = item.properties;
  p.setTag(TAG.PidTagDisplayName, person.displayName);
  p.setTag(TAG.PidTagGivenName, person.givenName);
  p.setTag(TAG.PidTagSurname, person.surname);
  p.setTag(TAG.PidTagCompanyName, company);
  p.setTag(TAG.PidTagTitle, person.jobTitle ?? 'Consultant');
  p.setTag(TAG.PidTagBusinessTelephoneNumber, `+1 425 555 01${String(10 + n).padStart(2, '0')}`);
  p.setTag(TAG.PidTagMobileTelephoneNumber, `+1 206 555 02${String(10 + n).padStart(2, '0')}`);
  p.setTag(TAG.PidTagBody, `Met ${person.givenName} at the ${2000 + n} planning review.`);
  if (n % 2 === 0) p.setTag(TAG.PidTagBirthday, filetimeFromDate(new Date(Date.UTC(1970 + n, n % 12, 1 + n))));
  p.setNamedDef(NAMED.PidLidFileUnder, `${person.surname}, ${person.givenName}`);
  p.setNamedDef(NAMED.PidLidFileUnderId, 0x8017);
  p.setNamedDef(NAMED.PidLidEmail1DisplayName, `${person.displayName} (${person.mail})`);
  p.setNamedDef(NAMED.PidLidEmail1AddressType, 'SMTP');
  p.setNamedDef(NAMED.PidLidEmail1EmailAddress, person.mail);
  p.setNamedDef(NAMED.PidLidEmail1OriginalDisplayName, person.mail);
  p.setNamedDef(NAMED.PidLidWorkAddressStreet, `${100 + n} Main Street`);
  p.setNamedDef(NAMED.PidLidWorkAddressCity, 'Redmond');
  p.setNamedDef(NAMED.PidLidWorkAddressPostalCode, '98052');
  p.setNamedDef(NAMED.PidLidWorkAddressCountry, 'United States');
  p.setNamedDef(NAMED.PidLidAddressBookProviderArrayType, 0x1);
  p.setNamedDef(NAMED.PidLidAddressBookProviderEmailList, [0]);
  return item;
}

/** A calendar item: single, or recurring per `recurrence` (with exceptions as hidden embedded messages). */
export interface AppointmentSpec {
  readonly subject: string;
  readonly location: string;
  readonly start: Date;
  readonly durationMinutes: number;
  readonly organizer: PersonRef;
  readonly attendees: readonly PersonRef[];
  readonly body: string;
  readonly recurrence?: Omit<RecurrenceSpec, 'start' | 'durationMinutes'>;
  readonly reminderMinutes?: number;
}

function appointmentProps(p: PropertyBag, start: Date, end: Date, location: string, durationMinutes: number): void {
  p.setNamedDef(NAMED.PidLidAppointmentStartWhole, filetimeFromDate(start));
  p.setNamedDef(NAMED.PidLidAppointmentEndWhole, filetimeFromDate(end));
  p.setNamedDef(NAMED.PidLidCommonStart, filetimeFromDate(start));
  p.setNamedDef(NAMED.PidLidCommonEnd, filetimeFromDate(end));
  p.setNamedDef(NAMED.PidLidAppointmentDuration, durationMinutes);
  p.setNamedDef(NAMED.PidLidLocation, location);
  p.setNamedDef(NAMED.PidLidBusyStatus, 2); // olBusy
  p.setTag(TAG.PidTagStartDate, filetimeFromDate(start));
  p.setTag(TAG.PidTagEndDate, filetimeFromDate(end));
}

const SPECS = new WeakMap<MapiItem, AppointmentSpec>();

/** The spec an appointment was built from (the REST event JSON is made from it), or undefined. */
export function appointmentSpecOf(item: MapiItem): AppointmentSpec | undefined {
  return SPECS.get(item);
}

/** An appointment or meeting (MS-OXOCAL), recurring when `spec.recurrence` is set. */
export function appointmentItem(spec: AppointmentSpec, created: Date): MapiItem {
  const item = base('IPM.Appointment', spec.subject, created);
  SPECS.set(item, spec);
  const p = item.properties;
  const end = new Date(spec.start.getTime() + spec.durationMinutes * 60000);
  appointmentProps(p, spec.start, end, spec.location, spec.durationMinutes);
  p.setTag(TAG.PidTagBody, spec.body);
  p.setTag(TAG.PidTagSenderName, spec.organizer.displayName);
  p.setTag(TAG.PidTagSenderEmailAddress, spec.organizer.mail);
  p.setTag(TAG.PidTagSenderAddressType, 'SMTP');
  p.setNamedDef(NAMED.PidLidAppointmentSubType, false);
  p.setNamedDef(NAMED.PidLidAppointmentSequence, 0);
  p.setNamedDef(NAMED.PidLidAppointmentStateFlags, spec.attendees.length ? ASF_MEETING : 0);
  p.setNamedDef(NAMED.PidLidResponseStatus, spec.attendees.length ? 1 : 0); // respOrganized
  p.setNamedDef(NAMED.PidLidReminderSet, spec.reminderMinutes !== undefined);
  p.setNamedDef(NAMED.PidLidReminderDelta, spec.reminderMinutes ?? 15);
  p.setNamedDef(NAMED.PidLidSideEffects, 0x171);
  p.setNamedDef(NAMED.PidLidTimeZoneDescription, '(UTC) Coordinated Universal Time');
  if (spec.attendees.length) {
    p.setNamedDef(NAMED.PidLidToAttendeesString, spec.attendees.map((a) => a.displayName).join('; '));
    p.setNamedDef(NAMED.PidLidAllAttendeesString, spec.attendees.map((a) => a.displayName).join('; '));
  }
  spec.attendees.forEach((a, i) => {
    const r = new PropertyBag();
    r.setTag(TAG.PidTagRecipientType, 1);
    r.setTag(TAG.PidTagDisplayName, a.displayName);
    r.setTag(TAG.PidTagEmailAddress, a.mail);
    r.setTag(TAG.PidTagAddressType, 'SMTP');
    r.setTag(TAG.PidTagSmtpAddress, a.mail);
    r.setTag(TAG.PidTagRecipientTrackStatus, 0);
    r.setTag(TAG.PidTagRecipientFlags, 1);
    r.setTag(TAG.PidTagRowid, i);
    item.recipients.push(r);
  });
  const rec = spec.recurrence;
  p.setNamedDef(NAMED.PidLidRecurring, !!rec);
  p.setNamedDef(NAMED.PidLidIsRecurring, !!rec);
  if (!rec) return item;
  const full: RecurrenceSpec = { ...rec, start: spec.start, durationMinutes: spec.durationMinutes };
  const starts = occurrenceStarts(full);
  const last = starts[starts.length - 1];
  p.setNamedDef(NAMED.PidLidAppointmentRecur, appointmentRecurrenceBlob(full));
  p.setNamedDef(NAMED.PidLidRecurrenceType, rec.kind === 'weekly' ? 2 : 1);
  p.setNamedDef(NAMED.PidLidRecurrencePattern, rec.kind === 'weekly' ? `every ${rec.interval === 1 ? '' : rec.interval + ' '}week(s) for ${rec.occurrences} occurrences` : `every ${rec.interval} day(s) for ${rec.occurrences} occurrences`);
  p.setNamedDef(NAMED.PidLidClipStart, filetimeFromDate(new Date(Date.UTC(spec.start.getUTCFullYear(), spec.start.getUTCMonth(), spec.start.getUTCDate()))));
  p.setNamedDef(NAMED.PidLidClipEnd, filetimeFromDate(new Date(Date.UTC(last.getUTCFullYear(), last.getUTCMonth(), last.getUTCDate()))));
  // Each modified occurrence: a hidden attachment holding the exception's embedded message (MS-OXOCAL 2.2.10.1).
  for (const [n, ex] of (rec.modified ?? []).entries()) {
    const exStart = ex.originalStart;
    const exEnd = new Date(exStart.getTime() + spec.durationMinutes * 60000);
    const embedded = base(EXCEPTION_MESSAGE_CLASS, ex.subject, created);
    appointmentProps(embedded.properties, exStart, exEnd, spec.location, spec.durationMinutes);
    embedded.properties.setNamedDef(NAMED.PidLidAppointmentSubType, false);
    const a = new PropertyBag();
    a.setTag(TAG.PidTagAttachNumber, n);
    a.setTag(TAG.PidTagAttachMethod, AttachMethod.EmbeddedMessage);
    a.setTag(TAG.PidTagAttachmentHidden, true);
    a.setTag(TAG.PidTagAttachmentFlags, 0x2); // afException
    a.setTag(TAG.PidTagAttachFlags, 0);
    a.setTag(TAG.PidTagExceptionStartTime, filetimeFromDate(exStart));
    a.setTag(TAG.PidTagExceptionEndTime, filetimeFromDate(exEnd));
    a.set(0x7ff9, PropType.Time, filetimeFromDate(exStart)); // PidTagExceptionReplaceTime
    a.setTag(TAG.PidTagDisplayName, ex.subject);
    a.setTag(TAG.PidTagRenderingPosition, -1);
    item.attachments.push({ properties: a, embedded });
  }
  return item;
}

/** A task (MS-OXOTASK): status 0 not started, 1 in progress, 2 complete. */
export function taskItem(subject: string, status: 0 | 1 | 2, due: Date, created: Date, owner: string): MapiItem {
  const item = base('IPM.Task', subject, created);
  const p = item.properties;
  const percent = status === 2 ? 1 : status === 1 ? 0.5 : 0;
  p.setTag(TAG.PidTagBody, `${subject}: see the project plan.`);
  p.setNamedDef(NAMED.PidLidTaskStatus, status);
  p.setNamedDef(NAMED.PidLidPercentComplete, percent);
  p.setNamedDef(NAMED.PidLidTaskStartDate, filetimeFromDate(new Date(due.getTime() - 7 * 86400000)));
  p.setNamedDef(NAMED.PidLidTaskDueDate, filetimeFromDate(due));
  p.setNamedDef(NAMED.PidLidTaskComplete, status === 2);
  p.setNamedDef(NAMED.PidLidTaskOwner, owner);
  p.setNamedDef(NAMED.PidLidTaskFRecurring, false);
  if (status === 2) p.setNamedDef(NAMED.PidLidTaskDateCompleted, filetimeFromDate(new Date(due.getTime() - 86400000)));
  p.setNamedDef(NAMED.PidLidToDoTitle, subject);
  p.setNamedDef(NAMED.PidLidReminderSet, status !== 2);
  p.setNamedDef(NAMED.PidLidReminderTime, filetimeFromDate(new Date(due.getTime() - 3600000)));
  p.setNamedDef(NAMED.PidLidCommonStart, filetimeFromDate(new Date(due.getTime() - 7 * 86400000)));
  p.setNamedDef(NAMED.PidLidCommonEnd, filetimeFromDate(due));
  return item;
}

/** A sticky note (MS-OXONOTE): colour 0 blue, 1 green, 2 pink, 3 yellow, 4 white. */
export function noteItem(text: string, color: number, created: Date): MapiItem {
  const title = text.split('\n')[0];
  const item = base('IPM.StickyNote', title, created);
  const p = item.properties;
  p.setTag(TAG.PidTagBody, text);
  p.setTag(TAG.PidTagIconIndex, 0x300 + color);
  p.setNamedDef(NAMED.PidLidNoteColor, color);
  p.setNamedDef(NAMED.PidLidNoteWidth, 200);
  p.setNamedDef(NAMED.PidLidNoteHeight, 166);
  p.setNamedDef(NAMED.PidLidNoteX, 40 + 20 * color);
  p.setNamedDef(NAMED.PidLidNoteY, 40 + 20 * color);
  return item;
}

/** A journal entry (MS-OXOJRNL), e.g. type "Phone call". */
export function journalItem(subject: string, logType: string, start: Date, durationMinutes: number, created: Date): MapiItem {
  const item = base('IPM.Activity', subject, created);
  const p = item.properties;
  const end = new Date(start.getTime() + durationMinutes * 60000);
  p.setTag(TAG.PidTagBody, `${logType}: ${subject}`);
  p.setNamedDef(NAMED.PidLidLogType, logType);
  p.setNamedDef(NAMED.PidLidLogTypeDesc, logType);
  p.setNamedDef(NAMED.PidLidLogStart, filetimeFromDate(start));
  p.setNamedDef(NAMED.PidLidLogEnd, filetimeFromDate(end));
  p.setNamedDef(NAMED.PidLidLogDuration, durationMinutes);
  p.setNamedDef(NAMED.PidLidCommonStart, filetimeFromDate(start));
  p.setNamedDef(NAMED.PidLidCommonEnd, filetimeFromDate(end));
  return item;
}

/** The PSETIDs these items use, for documentation and tests. */
export const PIM_PROPERTY_SETS = { contact: PSETID.Address, appointment: PSETID.Appointment, task: PSETID.Task, note: PSETID.Note, journal: PSETID.Log } as const;
