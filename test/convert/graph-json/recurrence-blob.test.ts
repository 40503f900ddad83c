/**
 * MS-OXOCAL 4.1.1 example recurrence BLOBs: decoded, re-encoded byte for byte, and — for the Gregorian
 * examples — rebuilt from a Graph patternedRecurrence through Outport's calendar arithmetic.
 * Hex from MS-OXOCAL 4.1.1.1 (weekly), 4.1.1.2 (weekly with a modified instance), 4.1.1.3 (daily with
 * deleted instances) and 4.1.1.6 (Hebrew lunar yearly with an exception).
 */
import fc from 'fast-check';
import {
  ARO, decodeAppointmentRecurrence, decodeRecurrencePattern, encodeAppointmentRecurrence, encodeRecurrencePattern, EndType,
  PatternType, RecurFrequency, RecurrenceBlobError, type AppointmentRecurrencePattern, type RecurrencePattern,
} from '../../../worker-service/src/convert/graph-json';
import { JsonReader, Warnings } from '../../../worker-service/src/convert/graph-json/json';
import { dayNumber, readRecurrence, recurrencePatternOf, seriesExtent } from '../../../worker-service/src/convert/graph-json/recurrence';

const SPEC = {
  '4.1.1.1': '043004300B2001000000C0210000010000000000000032000000222000000C0000000000000000000000000000008020BC0C20ADBC0C0630000009300000580200007602000000000000000000000000',
  '4.1.1.2': '043004300B2001000000C0210000010000000000000032000000222000000C0000000000000001000000A096BC0C01000000A096BC0C8020BC0C20ADBC0C0630000009300000580200007602000001003499BC0C5299BC0CF898BC0C11002200210053696D706C6520526563757272656E6365207769746820657863657074696F6E730800070033342F34313431000000000400000000000000000000003499BC0C5299BC0CF898BC0C2100530069006D0070006C006500200052006500630075007200720065006E006300650020007700690074006800200065007800630065007000740069006F006E0073000700330034002F0034003100340031000000000000000000',
  '4.1.1.3': '043004300A2000000000A0050000E010000000000000212000000A0000000000000002000000A0C1DC0C80D2DC0C00000000207EDC0C0016DD0C0630000009300000E0010000FE01000000000000000000000000',
  '4.1.1.6': '043004300D200200080080750A000C0000000000000003000000232000000A0000000000000001000000207EDC0C01000000207EDC0C6074C40CDF80E95A0630000009300000E0010000FE01000001000080DC0C1E80DC0C0080DC0C24023C000000010000000000000004000000000000000000000000000000',
} as const;
const bytes = (hex: string) => Uint8Array.from(Buffer.from(hex, 'hex'));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase();
const MIN = 1440;

describe('MS-OXOCAL 4.1.1 examples decode and re-encode byte for byte', () => {
  it.each(Object.entries(SPEC))('%s', (_name, h) => {
    const d = decodeAppointmentRecurrence(bytes(h));
    expect(hex(encodeAppointmentRecurrence(d))).toBe(h);
  });

  it('4.1.1.1: the fields the spec table lists', () => {
    const d = decodeAppointmentRecurrence(bytes(SPEC['4.1.1.1']));
    const p = d.recurrencePattern;
    expect([p.recurFrequency, p.patternType, p.firstDateTime, p.period, p.dayMask, p.endType, p.occurrenceCount]).toEqual([0x200b, 1, 8640, 1, 0x32, 0x2022, 12]);
    expect([d.readerVersion2, d.writerVersion2, d.startTimeOffset, d.endTimeOffset]).toEqual([0x3006, 0x3009, 600, 630]);
    expect(p.startDate).toBe(dayNumber(2007, 3, 26) * MIN);
    expect(p.endDate).toBe(dayNumber(2007, 4, 20) * MIN);
  });

  it('4.1.1.2: the exception (subject and location overridden, ANSI and Unicode)', () => {
    const d = decodeAppointmentRecurrence(bytes(SPEC['4.1.1.2']));
    expect(d.exceptions).toEqual([{
      startDateTime: dayNumber(2007, 4, 16) * MIN + 660, endDateTime: dayNumber(2007, 4, 16) * MIN + 690,
      originalStartDate: dayNumber(2007, 4, 16) * MIN + 600, overrideFlags: ARO.SUBJECT | ARO.LOCATION,
      subject: 'Simple Recurrence with exceptions', location: '34/4141',
    }]);
    expect(d.extendedExceptions[0].wideCharSubject).toBe('Simple Recurrence with exceptions');
    expect(d.extendedExceptions[0].wideCharLocation).toBe('34/4141');
    expect(d.recurrencePattern.deletedInstanceDates).toEqual([dayNumber(2007, 4, 16) * MIN]);
    expect(d.recurrencePattern.modifiedInstanceDates).toEqual([dayNumber(2007, 4, 16) * MIN]);
  });

  it('4.1.1.6: Hebrew calendar, busy status / reminder / body exception', () => {
    const d = decodeAppointmentRecurrence(bytes(SPEC['4.1.1.6']));
    expect(d.recurrencePattern.calendarType).toBe(8);
    expect(d.recurrencePattern.endType).toBe(EndType.Never);
    expect(d.exceptions[0].overrideFlags).toBe(ARO.REMINDERDELTA | ARO.BUSYSTATUS | ARO.EXCEPTIONAL_BODY);
    expect([d.exceptions[0].reminderDelta, d.exceptions[0].busyStatus]).toEqual([60, 1]);
  });
});

/** Builds the RecurrencePattern from a Graph recurrence as convertEvent does. */
function fromGraph(recurrence: object, deleted: number[] = [], modified: number[] = []): RecurrencePattern {
  const w = new Warnings();
  const rule = readRecurrence(new JsonReader(recurrence as Record<string, unknown>, w, 'recurrence'), w, 0)!;
  expect(w.list).toEqual([]);
  return recurrencePatternOf(rule, seriesExtent(rule), deleted, modified);
}

function withPattern(h: string, pattern: RecurrencePattern): string {
  const d = decodeAppointmentRecurrence(bytes(h));
  return hex(encodeAppointmentRecurrence({ ...d, recurrencePattern: pattern }));
}

describe('Graph patternedRecurrence → the spec examples\' RecurrencePattern bytes', () => {
  it('4.1.1.1: weekly Mon/Thu/Fri from 2007-03-26, 12 occurrences (FirstDateTime, EndDate computed)', () => {
    const p = fromGraph({
      pattern: { type: 'weekly', interval: 1, daysOfWeek: ['monday', 'thursday', 'friday'], firstDayOfWeek: 'sunday' },
      range: { type: 'numbered', startDate: '2007-03-26', numberOfOccurrences: 12 },
    });
    expect(withPattern(SPEC['4.1.1.1'], p)).toBe(SPEC['4.1.1.1']);
  });

  it('4.1.1.2: the same series with the 4/16 occurrence moved to 11:00', () => {
    const d16 = dayNumber(2007, 4, 16);
    const p = fromGraph({
      pattern: { type: 'weekly', interval: 1, daysOfWeek: ['monday', 'thursday', 'friday'], firstDayOfWeek: 'sunday' },
      range: { type: 'numbered', startDate: '2007-03-26', numberOfOccurrences: 12 },
    }, [d16], [d16]);
    expect(withPattern(SPEC['4.1.1.2'], p)).toBe(SPEC['4.1.1.2']);
  });

  it('4.1.1.3: every 3 days from 2011-04-07 until 2011-05-04, 4/19 and 4/22 deleted (OccurrenceCount 10)', () => {
    const p = fromGraph({
      pattern: { type: 'daily', interval: 3, firstDayOfWeek: 'sunday' },
      range: { type: 'endDate', startDate: '2011-04-07', endDate: '2011-05-04' },
    }, [dayNumber(2011, 4, 19), dayNumber(2011, 4, 22)]);
    expect(withPattern(SPEC['4.1.1.3'], p)).toBe(SPEC['4.1.1.3']);
  });
});

describe('RecurrencePattern details', () => {
  it('monthly FirstDateTime: every 2 months from August 2012 is 44640 (1601-02-01), as Outlook writes', () => {
    const p = fromGraph({ pattern: { type: 'absoluteMonthly', interval: 2, dayOfMonth: 30 }, range: { type: 'numbered', startDate: '2012-08-30', numberOfOccurrences: 10 } });
    expect(p.firstDateTime).toBe(44640);
    expect([p.recurFrequency, p.patternType, p.period, p.day]).toEqual([RecurFrequency.Monthly, PatternType.Month, 2, 30]);
    expect(p.endDate).toBe(dayNumber(2014, 2, 28) * MIN); // 30th clamped to February's last day
  });

  it('relative yearly: the last Thursday of November, Period 12', () => {
    const p = fromGraph({ pattern: { type: 'relativeYearly', interval: 1, month: 11, daysOfWeek: ['thursday'], index: 'last' }, range: { type: 'numbered', startDate: '2020-01-01', numberOfOccurrences: 3 } });
    expect([p.recurFrequency, p.patternType, p.period, p.dayMask, p.nth]).toEqual([RecurFrequency.Yearly, PatternType.MonthNth, 12, 1 << 4, 5]);
    expect(p.startDate).toBe(dayNumber(2020, 11, 26) * MIN);
    expect(p.endDate).toBe(dayNumber(2022, 11, 24) * MIN);
    expect(p.firstDateTime).toBe(dayNumber(1601, 11, 1) * MIN);
  });

  it('noEnd: EndType 0x2023, OccurrenceCount 10, EndDate 0x5AE980DF', () => {
    const p = fromGraph({ pattern: { type: 'absoluteYearly', interval: 1, month: 7, dayOfMonth: 4 }, range: { type: 'noEnd', startDate: '2019-01-01' } });
    expect([p.endType, p.occurrenceCount, p.endDate, p.startDate]).toEqual([0x2023, 10, 0x5ae980df, dayNumber(2019, 7, 4) * MIN]);
  });

  it('truncated input is a RecurrenceBlobError with code and offset', () => {
    const b = bytes(SPEC['4.1.1.2']).subarray(0, 100);
    expect(() => decodeAppointmentRecurrence(b)).toThrow(RecurrenceBlobError);
    try { decodeAppointmentRecurrence(b); } catch (e) { expect((e as RecurrenceBlobError).code).toBe('Truncated'); expect((e as RecurrenceBlobError).offset).toBeGreaterThan(80); }
    const bad = bytes(SPEC['4.1.1.1']); bad[6] = 0x09;
    expect(() => decodeRecurrencePattern(bad)).toThrow(expect.objectContaining({ code: 'UnknownPatternType', offset: 6 }));
  });
});

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const latin1 = fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 40 });
const wide = fc.string({ unit: 'grapheme', maxLength: 20 });
const blob = fc.uint8Array({ maxLength: 8 });

const patternArb: fc.Arbitrary<RecurrencePattern> = fc.record({
  patternType: fc.constantFrom(0, 1, 2, 3, 4, 0xa, 0xb, 0xc), recurFrequency: fc.constantFrom(0x200a, 0x200b, 0x200c, 0x200d),
  calendarType: u16, firstDateTime: u32, period: u32, slidingFlag: u32, a: u32, b: u32, endType: u32, occurrenceCount: u32, firstDOW: fc.integer({ min: 0, max: 6 }),
  deletedInstanceDates: fc.array(u32, { maxLength: 5 }), modifiedInstanceDates: fc.array(u32, { maxLength: 5 }), startDate: u32, endDate: u32,
}).map(({ a, b, ...r }) => {
  const p: RecurrencePattern = { readerVersion: 0x3004, writerVersion: 0x3004, ...r };
  if (r.patternType === 1) p.dayMask = a;
  else if (r.patternType === 3 || r.patternType === 0xb) { p.dayMask = a; p.nth = b; } else if (r.patternType !== 0) p.day = a;
  return p;
});

const exceptionArb = fc.record({
  flags: fc.integer({ min: 0, max: 0x3ff }), start: u32, end: u32, orig: u32, subject: latin1, location: latin1, n: u32,
  wsubject: wide, wlocation: wide, highlight: u32, hr: blob, ee1: blob, ee2: blob,
});

const appointmentArb = fc.record({ pattern: patternArb, writerVersion2: fc.constantFrom(0x3008, 0x3009), start: u32, end: u32, exceptions: fc.array(exceptionArb, { maxLength: 4 }), rb1: blob, rb2: blob })
  .map(({ pattern, writerVersion2, start, end, exceptions, rb1, rb2 }): AppointmentRecurrencePattern => ({
    recurrencePattern: pattern, readerVersion2: 0x3006, writerVersion2, startTimeOffset: start, endTimeOffset: end, reservedBlock1: rb1, reservedBlock2: rb2,
    exceptions: exceptions.map((x) => {
      const f = x.flags;
      return {
        startDateTime: x.start, endDateTime: x.end, originalStartDate: x.orig, overrideFlags: f,
        ...(f & ARO.SUBJECT ? { subject: x.subject } : {}), ...(f & ARO.MEETINGTYPE ? { meetingType: x.n } : {}),
        ...(f & ARO.REMINDERDELTA ? { reminderDelta: x.n } : {}), ...(f & ARO.REMINDER ? { reminderSet: x.n } : {}),
        ...(f & ARO.LOCATION ? { location: x.location } : {}), ...(f & ARO.BUSYSTATUS ? { busyStatus: x.n } : {}),
        ...(f & ARO.ATTACHMENT ? { attachment: x.n } : {}), ...(f & ARO.SUBTYPE ? { subType: x.n } : {}), ...(f & ARO.APPTCOLOR ? { appointmentColor: x.n } : {}),
      };
    }),
    extendedExceptions: exceptions.map((x) => ({
      ...(writerVersion2 >= 0x3009 ? { changeHighlight: { value: x.highlight, reserved: x.hr } } : {}),
      reservedBlockEE1: x.ee1,
      ...(x.flags & (ARO.SUBJECT | ARO.LOCATION) ? {
        startDateTime: x.start, endDateTime: x.end, originalStartDate: x.orig, reservedBlockEE2: x.ee2,
        ...(x.flags & ARO.SUBJECT ? { wideCharSubject: x.wsubject } : {}), ...(x.flags & ARO.LOCATION ? { wideCharLocation: x.wlocation } : {}),
      } : {}),
    })),
  }));

describe('round trips (fast-check)', () => {
  it('decode(encode(RecurrencePattern)) is the identity', () => {
    fc.assert(fc.property(patternArb, (p) => { expect(decodeRecurrencePattern(encodeRecurrencePattern(p))).toEqual(p); }), { numRuns: 100 });
  });
  it('decode(encode(AppointmentRecurrencePattern)) is the identity, and re-encoding gives the same bytes', () => {
    fc.assert(fc.property(appointmentArb, (a) => {
      const b = encodeAppointmentRecurrence(a);
      const d = decodeAppointmentRecurrence(b);
      expect(d).toEqual(a);
      expect(encodeAppointmentRecurrence(d)).toEqual(b);
    }), { numRuns: 60 });
  });
  it('every prefix of a valid BLOB fails with Truncated, never anything else', () => {
    fc.assert(fc.property(appointmentArb, fc.nat(), (a, cut) => {
      const b = encodeAppointmentRecurrence(a);
      const n = cut % b.length;
      try { decodeAppointmentRecurrence(b.subarray(0, n)); } catch (e) { expect(e).toBeInstanceOf(RecurrenceBlobError); return; }
      throw new Error(`a ${n}-byte prefix of ${b.length} decoded`);
    }), { numRuns: 100 });
  });
});
