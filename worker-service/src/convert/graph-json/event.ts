/**
 * Graph event → IPM.Appointment MapiItem (MS-OXOCAL 2.2.1 appointment properties, 2.2.4.10 meeting
 * recipients, 2.2.1.44 recurrence, 2.2.10.1 exception attachments). Field table:
 * docs/graph-json-mapping.md.
 */
import { AttachMethod, NAMED, newMapiItem, PropertyBag, TAG, type MapiItem } from '../../mapi';
import { IMPORTANCE, readAddress, SENSITIVITY, setBody, setCategories, setSender, setSubject, setTimes, smtpRecipient } from './common';
import { goidFromICalUid, withInstanceDate } from './goid';
import { filetimeFromMs, isObject, type GraphJsonConversion, type GraphJsonOptions, type JsonObject, JsonReader, rootReader, Warnings, zoneOrUtc, type ZonedTime } from './json';
import { dayFromMs, describeRecurrence, MINUTES_PER_DAY, msFromDay, readRecurrence, recurrencePatternOf, recurrenceType, seriesExtent } from './recurrence';
import { ARO, encodeAppointmentRecurrence, RECUR_NO_END_DATE, RECUR_READER_VERSION2, RECUR_WRITER_VERSION2, type ExceptionInfo, type ExtendedException } from './recurrence-blob';
import { encodeTzDefinition, encodeTzStruct, TZRULE_FLAG_EFFECTIVE_TZREG, TZRULE_FLAG_RECUR_CURRENT_TZREG, utcToWallMs, wallToUtcMs, zoneRuleForYear, type ResolvedZone } from './timezone';

/** PidLidBusyStatus for Graph's showAs (MS-OXOCAL 2.2.1.2). */
export const BUSY_STATUS: Readonly<Record<string, number>> = { free: 0, tentative: 1, busy: 2, oof: 3, workingElsewhere: 4 };
/** PidLidResponseStatus for Graph's responseStatus.response (MS-OXOCAL 2.2.1.11). */
export const RESPONSE_STATUS: Readonly<Record<string, number>> = { none: 0, organizer: 1, tentativelyAccepted: 2, accepted: 3, declined: 4, notResponded: 5 };
/** PidTagRecipientTrackStatus for an attendee's status.response (MS-OXOCAL 2.2.4.10.2; same values). */
export const TRACK_STATUS = RESPONSE_STATUS;
/** PidTagRecipientType for Graph's attendee type (MS-OXOCAL 2.2.4.10.1: required To, optional Cc, resource Bcc). */
export const ATTENDEE_TYPE: Readonly<Record<string, number>> = { required: 1, optional: 2, resource: 3 };
/** PidLidAppointmentStateFlags bits (MS-OXOCAL 2.2.1.10). */
export const ASF = { Meeting: 0x1, Received: 0x2, Canceled: 0x4 } as const;
/** PidTagRecipientFlags bits (MS-OXOCAL 2.2.4.10.1): recipSendable, recipOrganizer. */
export const RECIP_FLAGS = { Sendable: 0x1, Organizer: 0x2 } as const;
/** PidTagAttachmentFlags afException (MS-OXOCAL 2.2.10.1.2). */
export const AF_EXCEPTION = 0x2;
/** Message class of an exception's embedded message (MS-OXOCAL 2.2.10.1.1). */
export const EXCEPTION_MESSAGE_CLASS = 'IPM.OLE.CLASS.{00061055-0000-0000-C000-000000000046}';

/** Options of {@link convertEvent}. */
export interface EventConversionOptions extends GraphJsonOptions {
  /**
   * The series' instances (GET /events/{id}/instances); those of type "exception" that carry
   * `originalStart` become exceptions, like the beta `exceptionOccurrences`.
   */
  readonly instances?: readonly unknown[];
}

/** Master fields an exception inherits when its own JSON leaves them out. */
const INHERITED = ['subject', 'body', 'location', 'locations', 'showAs', 'isReminderOn', 'reminderMinutesBeforeStart', 'sensitivity', 'importance',
  'organizer', 'attendees', 'categories', 'isAllDay', 'iCalUId', 'originalStartTimeZone', 'originalEndTimeZone', 'isCancelled', 'isOrganizer', 'responseStatus'];


/**
 * Converts a Graph event to an IPM.Appointment item. A series master (recurrence present) gets
 * PidLidAppointmentRecur with its cancelled and modified occurrences (beta `cancelledOccurrences`,
 * `exceptionOccurrences`, or `options.instances`) and one hidden exception attachment per modified
 * occurrence. Never throws on content: odd fields are warnings.
 * @param json  a parsed event resource
 * @throws TypeError when `json` is not an object
 */
export function convertEvent(json: unknown, options: EventConversionOptions = {}): GraphJsonConversion {
  const w = new Warnings();
  const r = rootReader(json, 'convertEvent', w);
  const single = appointment(r, w, options);
  const item = single.item;
  const rec = r.obj_('recurrence');
  if (rec && single.start && single.end) addRecurrence(item, r, rec, w, options, single.start, single.end, single.displayZone);
  return { item, fidelity: 'rest', warnings: w.list };
}

interface Appointment { item: MapiItem; start?: ZonedTime; end?: ZonedTime; displayZone: ResolvedZone }

function appointment(r: JsonReader, w: Warnings, options: GraphJsonOptions): Appointment {
  const item = newMapiItem();
  const p = item.properties;
  p.setTag(TAG.PidTagMessageClass, 'IPM.Appointment');
  setSubject(p, r.str('subject'));
  setBody(p, r);
  setCategories(p, r);
  setTimes(p, r);
  const imp = r.enumOf('importance', IMPORTANCE);
  if (imp !== undefined) p.setTag(TAG.PidTagImportance, imp);
  const sens = r.enumOf('sensitivity', SENSITIVITY);
  if (sens !== undefined) { p.setTag(TAG.PidTagSensitivity, sens); p.setNamedDef(NAMED.PidLidPrivate, sens === SENSITIVITY.private); }

  // Times: Graph gives wall clock + zone; MAPI wants UTC (MS-OXOCAL 2.2.1.5-2.2.1.7).
  const fallback = options.timeZone ?? 'UTC';
  const start = r.zoned('start', fallback);
  const end = r.zoned('end', fallback);
  const zoneName = r.text('originalStartTimeZone');
  const displayZone = zoneName && !zoneName.startsWith('tzone://') ? zoneOrUtc(zoneName, w, 'originalStartTimeZone') : start?.zone ?? zoneOrUtc(fallback, w, 'options.timeZone');
  if (!start || !end) w.add('BadValue', !start ? 'start' : 'end', 'the event has no usable start or end; its times were left unset');
  const allDay = r.bool('isAllDay') ?? false;
  p.setNamedDef(NAMED.PidLidAppointmentSubType, allDay);
  if (start && end) {
    const s = filetimeFromMs(start.utcMs, start.extraTicks);
    const e = filetimeFromMs(end.utcMs, end.extraTicks);
    p.setNamedDef(NAMED.PidLidAppointmentStartWhole, s); p.setNamedDef(NAMED.PidLidAppointmentEndWhole, e);
    p.setNamedDef(NAMED.PidLidCommonStart, s); p.setNamedDef(NAMED.PidLidCommonEnd, e);
    p.setTag(TAG.PidTagStartDate, s); p.setTag(TAG.PidTagEndDate, e);
    p.setNamedDef(NAMED.PidLidAppointmentDuration, Math.round((end.utcMs - start.utcMs) / 60000));
    p.setNamedDef(NAMED.PidLidClipStart, s); p.setNamedDef(NAMED.PidLidClipEnd, e);
    const endZoneName = r.text('originalEndTimeZone');
    const endZone = endZoneName && !endZoneName.startsWith('tzone://') ? zoneOrUtc(endZoneName, w, 'originalEndTimeZone') : displayZone;
    const year = new Date(start.utcMs).getUTCFullYear();
    p.setNamedDef(NAMED.PidLidAppointmentTimeZoneDefinitionStartDisplay, encodeTzDefinition(displayZone.windowsName, year, zoneRuleForYear(displayZone.iana, year)));
    p.setNamedDef(NAMED.PidLidAppointmentTimeZoneDefinitionEndDisplay, encodeTzDefinition(endZone.windowsName, year, zoneRuleForYear(endZone.iana, year)));
  }

  // Location(s) (MS-OXOCAL 2.2.1.4): Graph joins several into location.displayName already.
  const loc = r.obj_('location')?.text('displayName') ?? (r.objects('locations').map((l) => l.text('displayName')).filter(Boolean).join('; ') || undefined);
  if (loc !== undefined) { p.setNamedDef(NAMED.PidLidLocation, loc); }

  const busy = r.enumOf('showAs', BUSY_STATUS);
  if (busy !== undefined) p.setNamedDef(NAMED.PidLidBusyStatus, busy);

  // Reminder (MS-OXORMDR 2.2.1): signal time = start − delta.
  const remOn = r.bool('isReminderOn');
  const remMin = r.num('reminderMinutesBeforeStart');
  if (remOn !== undefined) p.setNamedDef(NAMED.PidLidReminderSet, remOn);
  if (remMin !== undefined) p.setNamedDef(NAMED.PidLidReminderDelta, Math.round(remMin));
  if (start) {
    p.setNamedDef(NAMED.PidLidReminderTime, filetimeFromMs(start.utcMs));
    if (remOn) p.setNamedDef(NAMED.PidLidReminderSignalTime, filetimeFromMs(start.utcMs - (remMin ?? 15) * 60000));
  }

  // Organizer and attendees (MS-OXOCAL 2.2.4.10).
  const organizer = readAddress(r.obj_('organizer'));
  if (organizer) setSender(p, organizer);
  const attendees = r.objects('attendees');
  const names: Record<number, string[]> = { 1: [], 2: [], 3: [] };
  if (organizer && attendees.length) {
    const row = smtpRecipient(organizer, 1);
    row.setTag(TAG.PidTagRecipientFlags, RECIP_FLAGS.Sendable | RECIP_FLAGS.Organizer);
    row.setTag(TAG.PidTagRecipientTrackStatus, 0);
    item.recipients.push(row);
  }
  for (const a of attendees) {
    const addr = readAddress(a);
    if (!addr) { w.add('BadValue', a.path, 'attendee without name or address; skipped'); continue; }
    const type = a.enumOf('type', ATTENDEE_TYPE) ?? 1;
    const row = smtpRecipient(addr, type);
    const status = a.obj_('status');
    const track = status?.enumOf('response', TRACK_STATUS);
    row.setTag(TAG.PidTagRecipientTrackStatus, track ?? 0);
    const when = status?.instant('time');
    if (when && when.ms > Date.UTC(1601, 0, 2)) row.setTag(TAG.PidTagRecipientTrackStatusTime, when.filetime);
    const proposed = a.obj_('proposedNewTime');
    if (proposed) {
      const ps = proposed.zoned('start', fallback);
      const pe = proposed.zoned('end', fallback);
      if (ps && pe) {
        row.setTag(TAG.PidTagRecipientProposed, true);
        row.setTag(TAG.PidTagRecipientProposedStartTime, filetimeFromMs(ps.utcMs));
        row.setTag(TAG.PidTagRecipientProposedEndTime, filetimeFromMs(pe.utcMs));
      }
    }
    item.recipients.push(row);
    names[type].push(addr.name ?? addr.address ?? '');
  }
  if (attendees.length) {
    const all = [...names[1], ...names[2], ...names[3]];
    p.setNamedDef(NAMED.PidLidAllAttendeesString, all.join('; '));
    p.setNamedDef(NAMED.PidLidToAttendeesString, names[1].join('; '));
    p.setNamedDef(NAMED.PidLidCcAttendeesString, names[2].join('; '));
    p.setTag(TAG.PidTagDisplayTo, names[1].join('; '));
    p.setTag(TAG.PidTagDisplayCc, names[2].join('; '));
  }
  const isOrganizer = r.bool('isOrganizer');
  const cancelled = r.bool('isCancelled') ?? false;
  let flags = 0;
  if (attendees.length) flags |= ASF.Meeting;
  if (attendees.length && isOrganizer === false) flags |= ASF.Received;
  if (cancelled) flags |= ASF.Canceled;
  p.setNamedDef(NAMED.PidLidAppointmentStateFlags, flags);

  const response = r.obj_('responseStatus');
  const resp = response?.enumOf('response', RESPONSE_STATUS);
  if (resp !== undefined) p.setNamedDef(NAMED.PidLidResponseStatus, resp);
  const replyTime = response?.instant('time');
  if (replyTime && replyTime.ms > Date.UTC(1601, 0, 2)) p.setNamedDef(NAMED.PidLidAppointmentReplyTime, replyTime.filetime);

  const allow = r.bool('allowNewTimeProposals');
  if (allow !== undefined) p.setNamedDef(NAMED.PidLidAppointmentNotAllowPropose, !allow);
  const joinUrl = r.obj_('onlineMeeting')?.text('joinUrl') ?? r.text('onlineMeetingUrl');
  if (joinUrl) p.setNamedDef(NAMED.PidLidNetShowUrl, joinUrl);

  const uid = r.text('iCalUId');
  if (uid) {
    const goid = goidFromICalUid(uid);
    p.setNamedDef(NAMED.PidLidGlobalObjectId, goid);
    p.setNamedDef(NAMED.PidLidCleanGlobalObjectId, goid);
  }
  p.setNamedDef(NAMED.PidLidRecurring, false);
  return { item, start, end, displayZone };
}

/** "OID.<id>.2020-04-30" (Graph occurrence ids) → day number, or undefined. */
function occurrenceIdDay(id: string): number | undefined {
  const m = /(\d{4})-(\d{2})-(\d{2})$/.exec(id);
  return m ? dayFromMs(Date.UTC(+m[1], +m[2] - 1, +m[3])) : undefined;
}

function addRecurrence(item: MapiItem, r: JsonReader, rec: JsonReader, w: Warnings, options: EventConversionOptions, start: ZonedTime, end: ZonedTime, displayZone: ResolvedZone): void {
  const p = item.properties;
  const zoneName = rec.obj_('range')?.text('recurrenceTimeZone');
  const zone = zoneName ? zoneOrUtc(zoneName, w, 'recurrence.range.recurrenceTimeZone') : displayZone;
  const wallStart = utcToWallMs(zone.iana, start.utcMs);
  const startDay = dayFromMs(wallStart);
  const startOffset = Math.round((wallStart - msFromDay(startDay)) / 60000);
  const durationMin = Math.max(0, Math.round((end.utcMs - start.utcMs) / 60000));
  const rule = readRecurrence(rec, w, startDay);
  if (!rule) { w.add('Recurrence', 'recurrence', 'the recurrence could not be read; the event was written as a single appointment'); return; }
  const extent = seriesExtent(rule, w);
  const wallMinutes = (utcMs: number) => Math.round((utcToWallMs(zone.iana, utcMs) - msFromDay(0)) / 60000);

  const deleted: number[] = [];
  const modified: number[] = [];
  r.strings('cancelledOccurrences').forEach((id, i) => {
    const d = occurrenceIdDay(id);
    if (d === undefined) w.add('Exception', `cancelledOccurrences[${i}]`, `"${id}" has no occurrence date`); else deleted.push(d);
  });

  // Exceptions: beta exceptionOccurrences and instances of type "exception".
  const master = r.obj;
  const sources: JsonReader[] = [...r.objects('exceptionOccurrences')];
  (options.instances ?? []).forEach((v, i) => {
    if (!isObject(v)) { w.add('BadValue', `instances[${i}]`, 'expected an object'); return; }
    const ir = new JsonReader(v, w, `instances[${i}]`);
    if (ir.str('type') === 'exception') sources.push(ir);
  });
  const seen = new Set<number>();
  const exceptions: { info: ExceptionInfo; ext: ExtendedException; item: MapiItem; startWall: number; endWall: number }[] = [];
  for (const x of sources) {
    let originalMinutes: number | undefined;
    const os = x.instant('originalStart');
    if (os) originalMinutes = wallMinutes(os.ms);
    else {
      const d = occurrenceIdDay(x.str('occurrenceId') ?? '');
      if (d !== undefined) originalMinutes = d * MINUTES_PER_DAY + startOffset;
    }
    if (originalMinutes === undefined) { w.add('Exception', x.path, 'exception without originalStart or occurrenceId; it was left out of the series'); continue; }
    const originalDay = Math.floor(originalMinutes / MINUTES_PER_DAY);
    if (seen.has(originalDay)) { w.add('Exception', x.path, 'a second exception for the same occurrence was ignored'); continue; }
    const merged = mergeOverMaster(master, x.obj);
    const xr = new JsonReader(merged, w, x.path);
    const conv = appointment(xr, w, options);
    if (!conv.start || !conv.end) { w.add('Exception', x.path, 'exception without start/end; it was left out of the series'); continue; }
    seen.add(originalDay);
    const startWall = wallMinutes(conv.start.utcMs);
    const endWall = wallMinutes(conv.end.utcMs);
    deleted.push(originalDay);
    modified.push(Math.floor(startWall / MINUTES_PER_DAY));

    const info: ExceptionInfo = { startDateTime: startWall, endDateTime: endWall, originalStartDate: originalMinutes, overrideFlags: 0 };
    const mr = new JsonReader(master, new Warnings());
    const ext: ExtendedException = { changeHighlight: { value: 0, reserved: new Uint8Array(0) }, reservedBlockEE1: new Uint8Array(0) };
    const subj = xr.str('subject') ?? '';
    if (subj !== (mr.str('subject') ?? '')) { info.overrideFlags |= ARO.SUBJECT; info.subject = toLatin1(subj); ext.wideCharSubject = subj; }
    const xp = conv.item.properties;
    const loc = (xp.getNamed(NAMED.PidLidLocation.key)?.value as string | undefined) ?? '';
    const mloc = (p.getNamed(NAMED.PidLidLocation.key)?.value as string | undefined) ?? '';
    if (loc !== mloc) { info.overrideFlags |= ARO.LOCATION; info.location = toLatin1(loc); ext.wideCharLocation = loc; }
    const diff = (def: { key: typeof NAMED.PidLidBusyStatus.key }) => xp.getNamed(def.key)?.value !== p.getNamed(def.key)?.value;
    if (diff(NAMED.PidLidBusyStatus)) { info.overrideFlags |= ARO.BUSYSTATUS; info.busyStatus = (xp.getNamed(NAMED.PidLidBusyStatus.key)?.value as number) ?? 0; }
    if (diff(NAMED.PidLidReminderDelta)) { info.overrideFlags |= ARO.REMINDERDELTA; info.reminderDelta = (xp.getNamed(NAMED.PidLidReminderDelta.key)?.value as number) ?? 0; }
    if (diff(NAMED.PidLidReminderSet)) { info.overrideFlags |= ARO.REMINDER; info.reminderSet = xp.getNamed(NAMED.PidLidReminderSet.key)?.value ? 1 : 0; }
    if (diff(NAMED.PidLidAppointmentSubType)) { info.overrideFlags |= ARO.SUBTYPE; info.subType = xp.getNamed(NAMED.PidLidAppointmentSubType.key)?.value ? 1 : 0; }
    const exBody = x.obj_('body')?.str('content');
    const exceptionalBody = exBody !== undefined && exBody !== (mr.obj_('body')?.str('content') ?? '');
    if (exceptionalBody) info.overrideFlags |= ARO.EXCEPTIONAL_BODY;
    if (info.overrideFlags & (ARO.SUBJECT | ARO.LOCATION)) {
      ext.startDateTime = startWall; ext.endDateTime = endWall; ext.originalStartDate = originalMinutes; ext.reservedBlockEE2 = new Uint8Array(0);
    }

    // The exception's embedded message (MS-OXOCAL 2.2.10.1.1).
    xp.setTag(TAG.PidTagMessageClass, EXCEPTION_MESSAGE_CLASS);
    const originalUtc = wallToUtcMs(zone.iana, msFromDay(0) + originalMinutes * 60000);
    xp.setNamedDef(NAMED.PidLidExceptionReplaceTime, filetimeFromMs(originalUtc));
    xp.setNamedDef(NAMED.PidLidFExceptionalBody, exceptionalBody);
    const goid = p.getNamed(NAMED.PidLidGlobalObjectId.key)?.value;
    if (goid instanceof Uint8Array) {
      const od = new Date(msFromDay(originalDay));
      xp.setNamedDef(NAMED.PidLidGlobalObjectId, withInstanceDate(goid, { year: od.getUTCFullYear(), month: od.getUTCMonth() + 1, day: od.getUTCDate() }));
    }
    exceptions.push({ info, ext, item: conv.item, startWall, endWall });
  }
  // Cancelled occurrences and exceptions must be in the series; ExceptionInfo is sorted by new start (2.2.1.44.2).
  exceptions.sort((a, b) => a.startWall - b.startWall);

  const pattern = recurrencePatternOf(rule, extent, deleted, modified);
  const blob = encodeAppointmentRecurrence({
    recurrencePattern: pattern, readerVersion2: RECUR_READER_VERSION2, writerVersion2: RECUR_WRITER_VERSION2,
    startTimeOffset: startOffset, endTimeOffset: startOffset + durationMin,
    exceptions: exceptions.map((e) => e.info), reservedBlock1: new Uint8Array(0),
    extendedExceptions: exceptions.map((e) => e.ext), reservedBlock2: new Uint8Array(0),
  });
  p.setNamedDef(NAMED.PidLidAppointmentRecur, blob);
  p.setNamedDef(NAMED.PidLidRecurring, true);
  p.setNamedDef(NAMED.PidLidIsRecurring, true);
  p.setNamedDef(NAMED.PidLidRecurrenceType, recurrenceType(rule.kind));
  p.setNamedDef(NAMED.PidLidRecurrencePattern, describeRecurrence(rule, extent, startOffset, (startOffset + durationMin) % MINUTES_PER_DAY));
  // Clip range (MS-OXOCAL 2.2.1.14/15): local midnight of the first / last occurrence, in UTC.
  p.setNamedDef(NAMED.PidLidClipStart, filetimeFromMs(wallToUtcMs(zone.iana, msFromDay(extent.firstDay))));
  p.setNamedDef(NAMED.PidLidClipEnd, rule.end.type === 'noEnd'
    ? filetimeFromMs(msFromDay(0) + RECUR_NO_END_DATE * 60000)
    : filetimeFromMs(wallToUtcMs(zone.iana, msFromDay(extent.lastDay ?? extent.firstDay))));
  const year = new Date(msFromDay(extent.firstDay)).getUTCFullYear();
  const zr = zoneRuleForYear(zone.iana, year);
  p.setNamedDef(NAMED.PidLidTimeZoneStruct, encodeTzStruct(zr));
  p.setNamedDef(NAMED.PidLidTimeZoneDescription, zone.windowsName);
  p.setNamedDef(NAMED.PidLidAppointmentTimeZoneDefinitionRecur, encodeTzDefinition(zone.windowsName, year, zr, TZRULE_FLAG_EFFECTIVE_TZREG | TZRULE_FLAG_RECUR_CURRENT_TZREG));

  exceptions.forEach((e, i) => {
    const a = new PropertyBag();
    a.setTag(TAG.PidTagAttachMethod, AttachMethod.EmbeddedMessage);
    a.setTag(TAG.PidTagAttachmentHidden, true);
    a.setTag(TAG.PidTagAttachmentFlags, AF_EXCEPTION);
    a.setTag(TAG.PidTagAttachFlags, 0);
    a.setTag(TAG.PidTagAttachmentLinkId, 0);
    // PidTagExceptionStartTime/EndTime are local wall clock written as FILETIME (2.2.10.1.3/4).
    a.setTag(TAG.PidTagExceptionStartTime, filetimeFromMs(msFromDay(0) + e.startWall * 60000));
    a.setTag(TAG.PidTagExceptionEndTime, filetimeFromMs(msFromDay(0) + e.endWall * 60000));
    a.setTag(TAG.PidTagDisplayName, (e.item.properties.get(TAG.PidTagSubject.id) as string | undefined) ?? `Exception ${i + 1}`);
    item.attachments.push({ properties: a, embedded: e.item });
  });
  if (exceptions.length) p.setTag(TAG.PidTagHasAttachments, true);
}

/** The exception's JSON over the master's inherited fields (a key in the exception hides the master's in any letter case). */
function mergeOverMaster(master: JsonObject, exception: JsonObject): JsonObject {
  const out: JsonObject = {};
  const own = new Set(Object.keys(exception).map((k) => k.toLowerCase()));
  for (const k of INHERITED) if (k in master && !own.has(k.toLowerCase())) out[k] = master[k];
  return { ...out, ...exception };
}

/** 8-bit strings of ExceptionInfo: characters outside Latin-1 become "?" (the Unicode copy is in ExtendedException). */
function toLatin1(s: string): string {
  return s.replace(/[^\u0000-\u00ff]/g, '?');
}

