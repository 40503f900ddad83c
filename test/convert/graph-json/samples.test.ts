/**
 * Microsoft's Graph example payloads (../shared/samples/graph, see its INDEX.md) through the
 * converters: specific values from each payload must land in the right MAPI properties.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { NAMED, newMapiItem, TAG, filetimeFromDate, type MapiItem, type NamedPropertyDef } from '../../../worker-service/src/mapi';
import {
  AF_EXCEPTION, ARO, ASF, convertContact, convertEvent, convertTodoTask, decodeAppointmentRecurrence, EXCEPTION_MESSAGE_CLASS,
  mergeMessageMetadata, dayNumber,
} from '../../../worker-service/src/convert/graph-json';
import { describeWithShared, SHARED_DIR } from '../../pst/shared-samples';

const GRAPH = path.join(SHARED_DIR, 'samples/graph');
const load = (rel: string): Record<string, unknown> => JSON.parse(readFileSync(path.join(GRAPH, rel), 'utf8'));
const ft = (iso: string) => filetimeFromDate(new Date(iso));
const tag = (item: MapiItem, def: { id: number }) => item.properties.get(def.id);
const named = (item: MapiItem, def: NamedPropertyDef) => item.properties.getNamed(def.key)?.value;
const MIN = 1440;

describeWithShared('Graph samples → IPM.Contact', () => {
  it('v1.0 contact-get: Alex Wilber', () => {
    const { item, fidelity, warnings } = convertContact(load('v1.0/contact-get.response.json'));
    expect(fidelity).toBe('rest');
    expect(warnings).toEqual([]);
    expect(tag(item, TAG.PidTagMessageClass)).toBe('IPM.Contact');
    expect(tag(item, TAG.PidTagDisplayName)).toBe('Alex Wilber');
    expect(tag(item, TAG.PidTagSubject)).toBe('Alex Wilber');
    expect(tag(item, TAG.PidTagGivenName)).toBe('Alex');
    expect(tag(item, TAG.PidTagSurname)).toBe('Wilber');
    expect(named(item, NAMED.PidLidFileUnder)).toBe('Wilber, Alex'); // fileAs "" → Outlook's default "Last, First"
    expect(named(item, NAMED.PidLidEmail1EmailAddress)).toBe('Alex@FineArtSchool.net');
    expect(named(item, NAMED.PidLidEmail1AddressType)).toBe('SMTP');
    expect(named(item, NAMED.PidLidEmail1DisplayName)).toBe('Alex@FineArtSchool.net');
    expect(named(item, NAMED.PidLidAddressBookProviderEmailList)).toEqual([0]);
    expect(named(item, NAMED.PidLidAddressBookProviderArrayType)).toBe(1);
    expect(tag(item, TAG.PidTagCreationTime)).toBe(ft('2017-09-04T15:54:01Z'));
    expect(tag(item, TAG.PidTagLastModificationTime)).toBe(ft('2017-09-04T15:54:02Z'));
    // null / "" / [] / {} fields set nothing
    for (const d of [TAG.PidTagMiddleName, TAG.PidTagNickname, TAG.PidTagBody, TAG.PidTagStreetAddress, TAG.PidTagBusinessTelephoneNumber]) expect(tag(item, d)).toBeUndefined();
    expect(named(item, NAMED.PidNameKeywords)).toBeUndefined();
  });

  it('beta contact-get: Garth Fort (phones[], postalAddresses[], websites[], birthday, IM)', () => {
    const { item, warnings } = convertContact(load('beta/contact-get.response.json'));
    expect(warnings).toEqual([]);
    expect(named(item, NAMED.PidLidFileUnder)).toBe('Fort, Garth');
    expect(tag(item, TAG.PidTagInitials)).toBe('G.F.');
    expect(tag(item, TAG.PidTagNickname)).toBe('Garth');
    expect(tag(item, TAG.PidTagTitle)).toBe('Web Marketing Manager');
    expect(tag(item, TAG.PidTagCompanyName)).toBe('Contoso, Inc.');
    expect(tag(item, TAG.PidTagDepartmentName)).toBe('Sales & Marketing');
    expect(tag(item, TAG.PidTagOfficeLocation)).toBe('20/1101');
    expect(tag(item, TAG.PidTagBusinessTelephoneNumber)).toBe('+1 918 555 0101');
    expect(named(item, NAMED.PidLidWorkAddressStreet)).toBe('123 Some street');
    expect(named(item, NAMED.PidLidWorkAddressCity)).toBe('Seattle');
    expect(named(item, NAMED.PidLidWorkAddressState)).toBe('WA');
    expect(named(item, NAMED.PidLidWorkAddressPostalCode)).toBe('98121');
    expect(named(item, NAMED.PidLidWorkAddressCountry)).toBe('USA');
    expect(named(item, NAMED.PidLidWorkAddressPostOfficeBox)).toBe('P.O. Box 100');
    expect(named(item, NAMED.PidLidPostalAddressId)).toBe(2);
    expect(tag(item, TAG.PidTagLocality)).toBe('Seattle');
    expect(named(item, NAMED.PidLidWorkAddress)).toBe('P.O. Box 100\r\n123 Some street\r\nSeattle, WA  98121\r\nUSA');
    expect(tag(item, TAG.PidTagBusinessHomePage)).toBe('https://www.contoso.com');
    expect(named(item, NAMED.PidLidInstantMessagingAddress)).toBe('sip:garthf@a830edad9050849nda1.onmicrosoft.com');
    expect(named(item, NAMED.PidLidEmail1EmailAddress)).toBe('garth@a830edad9050849NDA1.onmicrosoft.com');
    expect(named(item, NAMED.PidLidEmail1DisplayName)).toBe('Garth (garth@a830edad9050849NDA1.onmicrosoft.com)');
    expect(named(item, NAMED.PidLidEmail2EmailAddress)).toBe('garth@contoso.onmicrosoft.com');
    expect(named(item, NAMED.PidLidAddressBookProviderEmailList)).toEqual([0, 1]);
    expect(named(item, NAMED.PidLidAddressBookProviderArrayType)).toBe(3);
    expect(named(item, NAMED.PidLidBirthdayLocal)).toBe(ft('1974-07-22T00:00:00Z'));
    expect(tag(item, TAG.PidTagBirthday)).toBe(ft('1974-07-22T00:00:00Z')); // mailbox zone UTC
    const eastern = convertContact(load('beta/contact-get.response.json'), { timeZone: 'Eastern Standard Time' }).item;
    expect(tag(eastern, TAG.PidTagBirthday)).toBe(ft('1974-07-22T04:00:00Z')); // EDT midnight
  });

  it('beta user-list-contacts: each contact, two e-mail slots', () => {
    const list = load('beta/user-list-contacts.response.json').value as unknown[];
    const items = list.map((c) => convertContact(c).item);
    expect(items.map((i) => tag(i, TAG.PidTagDisplayName))).toEqual(['Elvis Blank', 'Pavel Bansky']);
    expect(named(items[0], NAMED.PidLidEmail2EmailAddress)).toBe('elvisb@fabrikam.onmicrosoft.com');
    expect(named(items[1], NAMED.PidLidEmail1EmailAddress)).toBe('pavelb@contoso.onmicrosoft.com');
    expect(named(items[1], NAMED.PidLidFileUnder)).toBe('Pavel Bansky'); // no given/surname selected
  });
});

describeWithShared('Graph samples → IPM.Appointment', () => {
  it('v1.0 event-get example 1: Pacific times to UTC, attendees, tentative with a proposed time', () => {
    const { item, warnings } = convertEvent(load('v1.0/event-get.example1-attendees-proposednewtime.response.json'));
    expect(warnings).toEqual([]);
    expect(tag(item, TAG.PidTagMessageClass)).toBe('IPM.Appointment');
    expect(tag(item, TAG.PidTagSubject)).toBe('Orientation ');
    expect(named(item, NAMED.PidLidAppointmentStartWhole)).toBe(ft('2017-04-21T17:00:00Z')); // 10:00 PDT
    expect(named(item, NAMED.PidLidAppointmentEndWhole)).toBe(ft('2017-04-21T19:00:00Z'));
    expect(tag(item, TAG.PidTagStartDate)).toBe(ft('2017-04-21T17:00:00Z'));
    expect(named(item, NAMED.PidLidCommonEnd)).toBe(ft('2017-04-21T19:00:00Z'));
    expect(named(item, NAMED.PidLidAppointmentDuration)).toBe(120);
    expect(named(item, NAMED.PidLidLocation)).toBe('Assembly Hall');
    expect(new TextDecoder().decode(tag(item, TAG.PidTagHtml) as Uint8Array)).toContain('Please bring the notes I sent you.');
    expect(tag(item, TAG.PidTagBody)).toContain('Dana, this is the time you selected for our orientation.');
    expect(tag(item, TAG.PidTagSenderName)).toBe('Samantha Booth');
    // organizer row first, then the attendees
    expect(item.recipients.map((r) => [r.get(TAG.PidTagDisplayName.id), r.get(TAG.PidTagRecipientType.id), r.get(TAG.PidTagRecipientFlags.id), r.get(TAG.PidTagRecipientTrackStatus.id)]))
      .toEqual([['Samantha Booth', 1, 3, 0], ['Samantha Booth', 1, 1, 0], ['Dana Swope', 1, 1, 2]]);
    const dana = item.recipients[2];
    expect(dana.get(TAG.PidTagSmtpAddress.id)).toBe('danas@a830edad905084922E17020313.onmicrosoft.com');
    expect(dana.get(TAG.PidTagRecipientProposed.id)).toBe(true);
    expect(dana.get(TAG.PidTagRecipientProposedStartTime.id)).toBe(ft('2019-08-16T19:00:00Z'));
    expect(named(item, NAMED.PidLidToAttendeesString)).toBe('Samantha Booth; Dana Swope');
    expect(named(item, NAMED.PidLidAppointmentStateFlags)).toBe(ASF.Meeting);
    // the Pacific TZDEFINITION: key name and the 2017 rule (bias 480, DST -60, 2nd Sunday of March / 1st of November at 2:00)
    const tz = Buffer.from(named(item, NAMED.PidLidAppointmentTimeZoneDefinitionStartDisplay) as Uint8Array);
    expect(tz.subarray(8, 8 + 2 * 'Pacific Standard Time'.length).toString('utf16le')).toBe('Pacific Standard Time');
    const rule = 8 + 42 + 2;
    expect([tz.readInt32LE(rule + 22), tz.readInt32LE(rule + 30)]).toEqual([480, -60]);
    expect([tz.readUInt16LE(rule + 36), tz.readUInt16LE(rule + 38), tz.readUInt16LE(rule + 40), tz.readUInt16LE(rule + 42)]).toEqual([11, 0, 1, 2]);
    expect([tz.readUInt16LE(rule + 52), tz.readUInt16LE(rule + 54), tz.readUInt16LE(rule + 56), tz.readUInt16LE(rule + 58)]).toEqual([3, 0, 2, 2]);
  });

  it('v1.0 event-get example 2: UTC times, three locations joined', () => {
    const { item } = convertEvent(load('v1.0/event-get.example2-multiple-locations.response.json'));
    expect(named(item, NAMED.PidLidLocation)).toBe('Conf Room 3; Fourth Coffee; Home Office');
    expect(named(item, NAMED.PidLidAppointmentStartWhole)).toBe(ft('2017-08-30T11:00:00Z'));
    expect(item.recipients.map((r) => r.get(TAG.PidTagEmailAddress.id))).toEqual(['AdeleV@contoso.onmicrosoft.com', 'DanaS@contoso.onmicrosoft.com', 'AlexW@contoso.onmicrosoft.com']);
  });

  it('v1.0 user-post-events example 3: weekly series master → PidLidAppointmentRecur and friends', () => {
    const { item, warnings } = convertEvent(load('v1.0/user-post-events.example3-recurring.response.json'));
    expect(warnings).toEqual([]);
    expect(named(item, NAMED.PidLidRecurring)).toBe(true);
    expect(named(item, NAMED.PidLidRecurrenceType)).toBe(2);
    expect(named(item, NAMED.PidLidBusyStatus)).toBe(2);
    expect(named(item, NAMED.PidLidReminderSet)).toBe(true);
    expect(named(item, NAMED.PidLidReminderDelta)).toBe(15);
    expect(named(item, NAMED.PidLidReminderSignalTime)).toBe(ft('2017-09-04T18:45:00Z'));
    expect(named(item, NAMED.PidLidResponseStatus)).toBe(1);
    expect(tag(item, TAG.PidTagImportance)).toBe(1);
    expect(tag(item, TAG.PidTagSensitivity)).toBe(0);
    expect(named(item, NAMED.PidLidTimeZoneDescription)).toBe('Pacific Standard Time');
    const rec = decodeAppointmentRecurrence(named(item, NAMED.PidLidAppointmentRecur) as Uint8Array);
    const p = rec.recurrencePattern;
    expect([p.recurFrequency, p.patternType, p.period, p.dayMask, p.endType, p.firstDOW]).toEqual([0x200b, 1, 1, 0x2, 0x2021, 0]);
    expect(p.startDate).toBe(dayNumber(2017, 9, 4) * MIN);
    expect(p.endDate).toBe(dayNumber(2017, 12, 25) * MIN); // last Monday on or before 2017-12-31
    expect(p.occurrenceCount).toBe(17);
    expect([rec.startTimeOffset, rec.endTimeOffset]).toEqual([720, 840]); // 12:00-14:00 Pacific
    expect(named(item, NAMED.PidLidRecurrencePattern)).toBe('every Monday effective 9/4/2017 until 12/25/2017 from 12:00 PM to 2:00 PM');
    expect(named(item, NAMED.PidLidClipStart)).toBe(ft('2017-09-04T07:00:00Z'));
    expect(named(item, NAMED.PidLidClipEnd)).toBe(ft('2017-12-25T08:00:00Z'));
    const goid = Buffer.from(named(item, NAMED.PidLidGlobalObjectId) as Uint8Array).toString('hex').toUpperCase();
    expect(goid).toBe('040000008200E00074C5B7101A82E0080000000028CEBE04293FD3010000000000000000100000009F85AB8AF8ED4D4FAC777FA89954BDB7');
  });

  it('v1.0 user-post-events example 4: Teams join URL', () => {
    const { item } = convertEvent(load('v1.0/user-post-events.example4-online-meeting.response.json'));
    expect(named(item, NAMED.PidLidNetShowUrl)).toMatch(/^https:\/\/teams\.microsoft\.com\/l\/meetup-join\//);
    expect(named(item, NAMED.PidLidRecurring)).toBe(false);
  });

  it('beta event-get example 4: series master expansion → deleted/modified dates and a hidden exception attachment', () => {
    // The published example $selects no recurrence; its dates (all Thursdays from 2020-04-23) are a
    // weekly series, which the test supplies.
    const json = { ...load('beta/event-get.example4-seriesmaster-expansion.response.json'),
      recurrence: { pattern: { type: 'weekly', interval: 1, daysOfWeek: ['thursday'] }, range: { type: 'noEnd', startDate: '2020-04-23', recurrenceTimeZone: 'UTC' } } };
    const { item, warnings } = convertEvent(json);
    expect(warnings.map((w) => w.code)).toEqual(['KeyCase']); // the example writes "Subject"
    const rec = decodeAppointmentRecurrence(named(item, NAMED.PidLidAppointmentRecur) as Uint8Array);
    const d = (m: number, day: number) => dayNumber(2020, m, day) * MIN;
    expect(rec.recurrencePattern.deletedInstanceDates).toEqual([d(4, 30), d(5, 7), d(5, 14), d(5, 21)]);
    expect(rec.recurrencePattern.modifiedInstanceDates).toEqual([d(5, 21)]);
    expect(rec.exceptions).toEqual([{ startDateTime: d(5, 21) + 690, endDateTime: d(5, 21) + 720, originalStartDate: d(5, 21) + 690, overrideFlags: ARO.SUBJECT, subject: 'SM update 24' }]);
    expect(rec.extendedExceptions[0].wideCharSubject).toBe('SM update 24');
    expect(item.attachments).toHaveLength(1);
    const a = item.attachments[0];
    expect(a.properties.get(TAG.PidTagAttachMethod.id)).toBe(5);
    expect(a.properties.get(TAG.PidTagAttachmentHidden.id)).toBe(true);
    expect(a.properties.get(TAG.PidTagAttachmentFlags.id)).toBe(AF_EXCEPTION);
    expect(a.properties.get(TAG.PidTagExceptionStartTime.id)).toBe(ft('2020-05-21T11:30:00Z'));
    expect(a.properties.get(TAG.PidTagExceptionEndTime.id)).toBe(ft('2020-05-21T12:00:00Z'));
    const x = a.embedded!;
    expect(x.properties.get(TAG.PidTagMessageClass.id)).toBe(EXCEPTION_MESSAGE_CLASS);
    expect(x.properties.get(TAG.PidTagSubject.id)).toBe('SM update 24');
    expect(named(x, NAMED.PidLidExceptionReplaceTime)).toBe(ft('2020-05-21T11:30:00Z'));
    expect(named(x, NAMED.PidLidAppointmentStartWhole)).toBe(ft('2020-05-21T11:30:00Z'));
  });

  it('v1.0 event-list-instances: instances convert alone; without originalStart they cannot join a series (warning)', () => {
    const instances = load('v1.0/event-list-instances.response.json').value as Record<string, unknown>[];
    const exception = convertEvent(instances[0]).item;
    expect(tag(exception, TAG.PidTagSubject)).toBe('Review strategy for Q3');
    expect(named(exception, NAMED.PidLidAppointmentStartWhole)).toBe(ft('2019-04-16T20:30:00Z'));
    const master = { subject: 'Review strategy for Q3', start: { dateTime: '2019-04-08T20:30:00', timeZone: 'UTC' }, end: { dateTime: '2019-04-08T21:00:00', timeZone: 'UTC' },
      recurrence: { pattern: { type: 'weekly', interval: 1, daysOfWeek: ['monday'] }, range: { type: 'endDate', startDate: '2019-04-08', endDate: '2019-04-29', recurrenceTimeZone: 'UTC' } } };
    const r1 = convertEvent(master, { instances });
    expect(r1.warnings.map((w) => w.code)).toEqual(['Exception']);
    expect(r1.item.attachments).toHaveLength(0);
    // With originalStart (which Graph returns when selected) the moved 4/15 occurrence becomes an exception.
    const withOriginal = instances.map((i) => (i.type === 'exception' ? { ...i, originalStart: '2019-04-15T20:30:00Z' } : i));
    const r2 = convertEvent(master, { instances: withOriginal });
    expect(r2.warnings).toEqual([]);
    const rec = decodeAppointmentRecurrence(named(r2.item, NAMED.PidLidAppointmentRecur) as Uint8Array);
    expect(rec.recurrencePattern.deletedInstanceDates).toEqual([dayNumber(2019, 4, 15) * MIN]);
    expect(rec.recurrencePattern.modifiedInstanceDates).toEqual([dayNumber(2019, 4, 16) * MIN]);
    expect(rec.recurrencePattern.occurrenceCount).toBe(4);
    expect(rec.exceptions[0].overrideFlags).toBe(0); // only the time moved: same subject, no body in the $select
    expect(r2.item.attachments).toHaveLength(1);
  });

  it('beta event-get example 2 (text body), beta user-list-events', () => {
    const { item } = convertEvent(load('beta/event-get.example2-text-body.response.json'));
    expect(tag(item, TAG.PidTagBody)).toBe('Dana, this is the time you selected for our orientation. Please bring the notes I sent you.\r\n');
    expect(tag(item, TAG.PidTagNativeBody)).toBe(1);
    const list = load('beta/user-list-events.example1.response.json').value as unknown[];
    for (const e of list) expect(tag(convertEvent(e).item, TAG.PidTagMessageClass)).toBe('IPM.Appointment');
  });
});

describeWithShared('Graph samples → IPM.Task', () => {
  it('beta todotask-get: Shop for dinner', () => {
    const { item, warnings } = convertTodoTask(load('beta/todotask-get.response.json'));
    expect(warnings).toEqual([]);
    expect(tag(item, TAG.PidTagMessageClass)).toBe('IPM.Task');
    expect(tag(item, TAG.PidTagSubject)).toBe('Shop for dinner');
    expect(tag(item, TAG.PidTagImportance)).toBe(0);
    expect(named(item, NAMED.PidLidTaskStatus)).toBe(0);
    expect(named(item, NAMED.PidLidTaskComplete)).toBe(false);
    expect(named(item, NAMED.PidLidPercentComplete)).toBe(0);
    expect(named(item, NAMED.PidLidReminderSet)).toBe(false);
    expect(named(item, NAMED.PidLidTaskDueDate)).toBe(ft('2020-08-25T00:00:00Z'));
    expect(named(item, NAMED.PidLidCommonEnd)).toBe(ft('2020-08-25T00:00:00Z'));
    expect(tag(item, TAG.PidTagCreationTime)).toBe(ft('2020-07-22T10:39:03.793Z') + 7971n); // .7937971: all 7 fractional digits kept
    expect(tag(item, TAG.PidTagBody)).toBeUndefined(); // empty body
    // In a mailbox on Eastern time the due date stays 8/25 (04:00 UTC is midnight EDT).
    const e = convertTodoTask(load('beta/todotask-get.response.json'), { timeZone: 'Eastern Standard Time' }).item;
    expect(named(e, NAMED.PidLidTaskDueDate)).toBe(ft('2020-08-25T00:00:00Z'));
    expect(named(e, NAMED.PidLidCommonEnd)).toBe(ft('2020-08-25T04:00:00Z'));
  });

  it('beta todotasklist-list-tasks: linkedResources reported as unmapped', () => {
    const list = load('beta/todotasklist-list-tasks.response.json').value as unknown[];
    const { item, warnings } = convertTodoTask(list[0]);
    expect(tag(item, TAG.PidTagSubject)).toBe('Linked entity new task 1');
    expect(warnings.map((w) => [w.code, w.field])).toEqual([['Unmapped', 'linkedResources']]);
  });
});

describeWithShared('Graph samples → mail metadata merge', () => {
  it('v1.0 message-get example 1: read, normal importance, received time, not flagged', () => {
    const item = newMapiItem();
    item.properties.setTag(TAG.PidTagMessageFlags, 0x10);
    item.properties.setNamedDef(NAMED.PidNameKeywords, ['from-mime']);
    const { warnings } = mergeMessageMetadata(item, load('v1.0/message-get.example1.response.json'));
    expect(warnings).toEqual([]);
    expect(tag(item, TAG.PidTagMessageFlags)).toBe(0x11);
    expect(tag(item, TAG.PidTagImportance)).toBe(1);
    expect(tag(item, TAG.PidTagMessageDeliveryTime)).toBe(ft('2018-09-09T03:15:08Z'));
    expect(named(item, NAMED.PidNameKeywords)).toBeUndefined(); // Graph's [] is the mailbox's state
    expect(tag(item, TAG.PidTagFlagStatus)).toBeUndefined();
  });

  it('concepts delta round 2: isRead published as the string "true" is read, with a warning', () => {
    const msg = (load('concepts/delta-query-messages.round2-removed.response.json').value as unknown[])[1];
    const item = newMapiItem();
    const { warnings } = mergeMessageMetadata(item, msg);
    expect(tag(item, TAG.PidTagMessageFlags)).toBe(1);
    expect(warnings.map((w) => [w.code, w.field])).toEqual([['BadValue', 'isRead']]);
  });
});
