/**
 * The converters on hand-written input: odd values become warnings, never exceptions (fast-check on
 * arbitrary JSON), a non-object is a TypeError, and the flag / task / recurrence paths the samples
 * do not reach.
 */
import fc from 'fast-check';
import { NAMED, newMapiItem, TAG, filetimeFromDate, type MapiItem, type NamedPropertyDef } from '../../../worker-service/src/mapi';
import {
  convertContact, convertEvent, convertTodoTask, decodeRecurrencePattern, dayNumber, mergeMessageMetadata, goidFromICalUid, isGoid,
} from '../../../worker-service/src/convert/graph-json';

const ft = (iso: string) => filetimeFromDate(new Date(iso));
const named = (item: MapiItem, def: NamedPropertyDef) => item.properties.getNamed(def.key)?.value;
const tag = (item: MapiItem, def: { id: number }) => item.properties.get(def.id);

describe('never throws on content', () => {
  const fields = ['subject', 'title', 'displayName', 'start', 'end', 'recurrence', 'attendees', 'organizer', 'emailAddresses', 'phones', 'flag', 'isRead',
    'categories', 'dueDateTime', 'status', 'importance', 'showAs', 'body', 'birthday', 'exceptionOccurrences', 'cancelledOccurrences', 'postalAddresses', 'homeAddress'];
  const value = fc.oneof(fc.anything(), fc.record({ dateTime: fc.oneof(fc.string(), fc.constant('2020-02-30T10:00:00')), timeZone: fc.oneof(fc.string(), fc.constant('Mars Standard Time')) }),
    fc.record({ pattern: fc.record({ type: fc.constantFrom('daily', 'weekly', 'absoluteMonthly', 'relativeMonthly', 'absoluteYearly', 'relativeYearly', 'hourly'), interval: fc.integer({ min: -2, max: 1000 }),
      daysOfWeek: fc.array(fc.constantFrom('monday', 'friday', 'funday')), dayOfMonth: fc.integer({ min: -1, max: 40 }), month: fc.integer({ min: -1, max: 14 }), index: fc.constantFrom('first', 'last', 'fifth') }),
    range: fc.record({ type: fc.constantFrom('endDate', 'numbered', 'noEnd', 'forever'), startDate: fc.constantFrom('2020-01-31', 'x', '4499-12-01'), endDate: fc.constantFrom('2021-02-28', '1999-01-01', '9999-12-31'), numberOfOccurrences: fc.integer({ min: -1, max: 5000 }) }) }));
  const input = fc.dictionary(fc.constantFrom(...fields), value, { maxKeys: 8 });
  it.each([['contact', convertContact], ['event', convertEvent], ['task', convertTodoTask], ['merge', (j: unknown) => mergeMessageMetadata(newMapiItem(), j)]] as const)('%s', (_n, fn) => {
    fc.assert(fc.property(input, (j) => { const r = fn(j); expect(r.fidelity).toBe('rest'); }), { numRuns: 100 });
  });
  it('a non-object is a TypeError', () => {
    for (const bad of [null, 'x', 3, [], undefined]) {
      expect(() => convertContact(bad)).toThrow(TypeError);
      expect(() => convertEvent(bad)).toThrow(TypeError);
      expect(() => convertTodoTask(bad)).toThrow(TypeError);
      expect(() => mergeMessageMetadata(newMapiItem(), bad)).toThrow(TypeError);
    }
  });
});

describe('warnings', () => {
  it('unknown enum values, an unknown zone and a fourth e-mail address', () => {
    const e = convertEvent({ subject: 's', showAs: 'away', start: { dateTime: '2020-01-01T10:00:00', timeZone: 'Mars Standard Time' }, end: { dateTime: '2020-01-01T11:00:00', timeZone: 'UTC' } });
    expect(e.warnings.map((w) => [w.code, w.field])).toEqual([['UnknownTimeZone', 'start.timeZone'], ['UnknownEnum', 'showAs']]);
    expect(named(e.item, NAMED.PidLidBusyStatus)).toBeUndefined();
    const c = convertContact({ displayName: 'x', emailAddresses: [1, 2, 3, 4].map((i) => ({ address: `a${i}@x.test` })) });
    expect(c.warnings.map((w) => w.code)).toEqual(['Truncated']);
    expect(named(c.item, NAMED.PidLidEmail3EmailAddress)).toBe('a3@x.test');
  });
});

describe('mail flags (MS-OXOFLAG)', () => {
  it('flagged with start and due dates', () => {
    const item = newMapiItem();
    mergeMessageMetadata(item, { flag: { flagStatus: 'flagged', startDateTime: { dateTime: '2021-03-01T00:00:00', timeZone: 'UTC' }, dueDateTime: { dateTime: '2021-03-05T00:00:00', timeZone: 'UTC' } }, importance: 'high', categories: ['Red category'] });
    expect([tag(item, TAG.PidTagFlagStatus), tag(item, TAG.PidTagFollowupIcon), tag(item, TAG.PidTagToDoItemFlags), tag(item, TAG.PidTagImportance)]).toEqual([2, 6, 1, 2]);
    expect(named(item, NAMED.PidLidFlagRequest)).toBe('Follow up');
    expect(named(item, NAMED.PidLidTaskStartDate)).toBe(ft('2021-03-01T00:00:00Z'));
    expect(named(item, NAMED.PidLidTaskDueDate)).toBe(ft('2021-03-05T00:00:00Z'));
    expect(named(item, NAMED.PidNameKeywords)).toEqual(['Red category']);
    // then completed: the icon goes, completion is recorded; then notFlagged clears everything
    mergeMessageMetadata(item, { isRead: false, flag: { flagStatus: 'complete', completedDateTime: { dateTime: '2021-03-04T09:30:00', timeZone: 'UTC' } } });
    expect([tag(item, TAG.PidTagFlagStatus), tag(item, TAG.PidTagFollowupIcon), tag(item, TAG.PidTagMessageFlags)]).toEqual([1, undefined, 0]);
    expect(tag(item, TAG.PidTagFlagCompleteTime)).toBe(ft('2021-03-04T09:30:00Z'));
    expect([named(item, NAMED.PidLidTaskComplete), named(item, NAMED.PidLidPercentComplete), named(item, NAMED.PidLidTaskStatus)]).toEqual([true, 1, 2]);
    mergeMessageMetadata(item, { flag: { flagStatus: 'notFlagged' } });
    expect([tag(item, TAG.PidTagFlagStatus), tag(item, TAG.PidTagToDoItemFlags), named(item, NAMED.PidLidFlagRequest)]).toEqual([undefined, undefined, undefined]);
  });
});

describe('tasks', () => {
  it('completed, recurring monthly on the last Friday', () => {
    const { item, warnings } = convertTodoTask({
      title: 'Report', status: 'completed', completedDateTime: { dateTime: '2021-01-29T15:00:00', timeZone: 'UTC' },
      dueDateTime: { dateTime: '2021-01-29T00:00:00', timeZone: 'UTC' }, isReminderOn: true, reminderDateTime: { dateTime: '2021-01-29T09:00:00', timeZone: 'UTC' },
      recurrence: { pattern: { type: 'relativeMonthly', interval: 1, daysOfWeek: ['friday'], index: 'last' }, range: { type: 'noEnd', startDate: '2021-01-29' } },
    });
    expect(warnings).toEqual([]);
    expect([named(item, NAMED.PidLidTaskStatus), named(item, NAMED.PidLidTaskComplete), named(item, NAMED.PidLidPercentComplete)]).toEqual([2, true, 1]);
    expect(named(item, NAMED.PidLidTaskDateCompleted)).toBe(ft('2021-01-29T00:00:00Z'));
    expect(named(item, NAMED.PidLidReminderTime)).toBe(ft('2021-01-29T09:00:00Z'));
    expect(named(item, NAMED.PidLidTaskFRecurring)).toBe(true);
    const p = decodeRecurrencePattern(named(item, NAMED.PidLidTaskRecurrence) as Uint8Array);
    expect([p.recurFrequency, p.patternType, p.dayMask, p.nth, p.startDate]).toEqual([0x200c, 3, 1 << 5, 5, dayNumber(2021, 1, 29) * 1440]);
    expect(named(item, NAMED.PidLidRecurrencePattern)).toBe('the last Friday of every month effective 1/29/2021');
  });
});

describe('Global Object IDs', () => {
  it('a non-Exchange UID is wrapped as vCal-Uid', () => {
    const g = goidFromICalUid('abc@example.com');
    expect(isGoid(g)).toBe(true);
    expect(Buffer.from(g.subarray(40)).toString('latin1')).toBe('vCal-Uid\x01\x00\x00\x00abc@example.com\x00');
  });
});

describe('all-day events and exceptions in a zone with DST', () => {
  it('an all-day daily series in Berlin; a moved occurrence keeps local times in the BLOB', () => {
    const master = {
      subject: 'Holiday', isAllDay: true, start: { dateTime: '2021-03-26T00:00:00', timeZone: 'W. Europe Standard Time' }, end: { dateTime: '2021-03-27T00:00:00', timeZone: 'W. Europe Standard Time' },
      recurrence: { pattern: { type: 'daily', interval: 1 }, range: { type: 'numbered', startDate: '2021-03-26', numberOfOccurrences: 5, recurrenceTimeZone: 'W. Europe Standard Time' } },
      exceptionOccurrences: [{ originalStart: '2021-03-28T22:00:00Z', subject: 'Holiday (moved)', start: { dateTime: '2021-03-30T00:00:00', timeZone: 'W. Europe Standard Time' }, end: { dateTime: '2021-03-31T00:00:00', timeZone: 'W. Europe Standard Time' } }],
    };
    const { item, warnings } = convertEvent(master);
    expect(warnings).toEqual([]);
    expect(named(item, NAMED.PidLidAppointmentSubType)).toBe(true);
    expect(named(item, NAMED.PidLidAppointmentStartWhole)).toBe(ft('2021-03-25T23:00:00Z'));
    expect(named(item, NAMED.PidLidClipEnd)).toBe(ft('2021-03-29T22:00:00Z')); // last day 3/30 after the switch to CEST
    const x = item.attachments[0];
    expect(x.properties.get(TAG.PidTagExceptionStartTime.id)).toBe(ft('2021-03-30T00:00:00Z'));
    expect(named(x.embedded!, NAMED.PidLidExceptionReplaceTime)).toBe(ft('2021-03-28T22:00:00Z'));
  });
});
