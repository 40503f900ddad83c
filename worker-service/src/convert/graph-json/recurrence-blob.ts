/**
 * The recurrence BLOBs of MS-OXOCAL 2.2.1.44: RecurrencePattern (2.2.1.44.1, also the whole of
 * PidLidTaskRecurrence, MS-OXOTASK 2.2.2.2.15) and AppointmentRecurrencePattern (2.2.1.44.5, the value
 * of PidLidAppointmentRecur) with ExceptionInfo (2.2.1.44.2), ChangeHighlight (2.2.1.44.3) and
 * ExtendedException (2.2.1.44.4). Pure byte layout: no calendar logic (that is recurrence.ts).
 *
 * All dates and times are minutes since 1601-01-01 00:00 in the series' local time zone, as the spec
 * stores them. All integers are little-endian.
 */

/** RecurrencePattern.ReaderVersion / WriterVersion (MS-OXOCAL 2.2.1.44.1). */
export const RECUR_VERSION = 0x3004;
/** AppointmentRecurrencePattern.ReaderVersion2 (2.2.1.44.5). */
export const RECUR_READER_VERSION2 = 0x3006;
/** WriterVersion2 that adds ChangeHighlight to every ExtendedException (Outlook 2007 and later). */
export const RECUR_WRITER_VERSION2 = 0x3009;

/** RecurFrequency values (2.2.1.44.1). */
export const RecurFrequency = { Daily: 0x200a, Weekly: 0x200b, Monthly: 0x200c, Yearly: 0x200d } as const;
/** PatternType values (2.2.1.44.1); Hj* are the Hijri variants. */
export const PatternType = {
  Day: 0x0000, Week: 0x0001, Month: 0x0002, MonthNth: 0x0003, MonthEnd: 0x0004,
  HjMonth: 0x000a, HjMonthNth: 0x000b, HjMonthEnd: 0x000c,
} as const;
/** EndType values (2.2.1.44.1); 0xFFFFFFFF is read as "never ends" too. */
export const EndType = { EndDate: 0x2021, AfterN: 0x2022, Never: 0x2023, NeverAlt: 0xffffffff } as const;
/** EndDate value for a series without end: 4500-08-31 23:59 (2.2.1.44.1). */
export const RECUR_NO_END_DATE = 0x5ae980df;

/** ExceptionInfo.OverrideFlags bits (2.2.1.44.2). */
export const ARO = {
  SUBJECT: 0x0001, MEETINGTYPE: 0x0002, REMINDERDELTA: 0x0004, REMINDER: 0x0008, LOCATION: 0x0010,
  BUSYSTATUS: 0x0020, ATTACHMENT: 0x0040, SUBTYPE: 0x0080, APPTCOLOR: 0x0100, EXCEPTIONAL_BODY: 0x0200,
} as const;

/**
 * RecurrencePattern (MS-OXOCAL 2.2.1.44.1). PatternTypeSpecific is `dayMask` (Week, MonthNth: bit 0 =
 * Sunday … bit 6 = Saturday), `day` (Month, MonthEnd, Hj…: day of month) and `nth` (MonthNth: 1-4, 5 =
 * last); which of them are written follows `patternType`.
 */
export interface RecurrencePattern {
  readerVersion: number;
  writerVersion: number;
  recurFrequency: number;
  patternType: number;
  calendarType: number;
  firstDateTime: number;
  /** Minutes for daily patterns, weeks for weekly, months for monthly and yearly. */
  period: number;
  slidingFlag: number;
  dayMask?: number;
  day?: number;
  nth?: number;
  endType: number;
  occurrenceCount: number;
  /** First day of the week, 0 = Sunday. */
  firstDOW: number;
  /** Original dates (midnight) of deleted and of modified instances, ascending. */
  deletedInstanceDates: number[];
  /** Dates (midnight) on which modified instances now occur, ascending. */
  modifiedInstanceDates: number[];
  startDate: number;
  endDate: number;
}

/** ExceptionInfo (2.2.1.44.2): the fields present are those whose ARO_* bit is in `overrideFlags`. */
export interface ExceptionInfo {
  startDateTime: number;
  endDateTime: number;
  originalStartDate: number;
  overrideFlags: number;
  /** 8-bit subject; read and written as Latin-1 so that any byte string round-trips. */
  subject?: string;
  meetingType?: number;
  reminderDelta?: number;
  reminderSet?: number;
  /** 8-bit location (Latin-1, like `subject`). */
  location?: string;
  busyStatus?: number;
  attachment?: number;
  subType?: number;
  appointmentColor?: number;
}

/** ExtendedException (2.2.1.44.4); `changeHighlight` is present iff WriterVersion2 ≥ 0x3009. */
export interface ExtendedException {
  changeHighlight?: { value: number; reserved: Uint8Array };
  reservedBlockEE1: Uint8Array;
  /** Present iff the matching ExceptionInfo overrides the subject or the location. */
  startDateTime?: number;
  endDateTime?: number;
  originalStartDate?: number;
  wideCharSubject?: string;
  wideCharLocation?: string;
  reservedBlockEE2?: Uint8Array;
}

/** AppointmentRecurrencePattern (2.2.1.44.5). `extendedExceptions` has one entry per exception. */
export interface AppointmentRecurrencePattern {
  recurrencePattern: RecurrencePattern;
  readerVersion2: number;
  writerVersion2: number;
  /** Minutes after midnight (local) at which each instance starts / ends. */
  startTimeOffset: number;
  endTimeOffset: number;
  exceptions: ExceptionInfo[];
  reservedBlock1: Uint8Array;
  extendedExceptions: ExtendedException[];
  reservedBlock2: Uint8Array;
}

/** Error of the recurrence BLOB decoder: `code` is "Truncated" or "UnknownPatternType"; `offset` in bytes. */
export class RecurrenceBlobError extends Error {
  constructor(readonly code: 'Truncated' | 'UnknownPatternType' | 'Invalid', readonly offset: number, detail: string) {
    super(`recurrence BLOB (MS-OXOCAL 2.2.1.44) at byte ${offset}: ${detail}`);
    this.name = 'RecurrenceBlobError';
  }
}

/** Number of PatternTypeSpecific bytes for a PatternType (2.2.1.44.1.2-5), or -1 when unknown. */
export function patternTypeSpecificSize(patternType: number): number {
  switch (patternType) {
    case PatternType.Day: return 0;
    case PatternType.Week: case PatternType.Month: case PatternType.MonthEnd:
    case PatternType.HjMonth: case PatternType.HjMonthEnd: return 4;
    case PatternType.MonthNth: case PatternType.HjMonthNth: return 8;
    default: return -1;
  }
}

class Writer {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  length = 0;
  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u16(v: number): void { this.ensure(2); this.view.setUint16(this.length, v, true); this.length += 2; }
  u32(v: number): void { this.ensure(4); this.view.setUint32(this.length, v >>> 0, true); this.length += 4; }
  bytes(b: Uint8Array): void { this.ensure(b.length); this.buf.set(b, this.length); this.length += b.length; }
  result(): Uint8Array { return this.buf.slice(0, this.length); }
}

class Reader {
  private readonly view: DataView;
  offset = 0;
  constructor(private readonly buf: Uint8Array) { this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength); }
  private need(n: number, what: string): void {
    if (this.offset + n > this.buf.length) throw new RecurrenceBlobError('Truncated', this.offset, `${what} needs ${n} bytes, ${this.buf.length - this.offset} left`);
  }
  u16(what: string): number { this.need(2, what); const v = this.view.getUint16(this.offset, true); this.offset += 2; return v; }
  u32(what: string): number { this.need(4, what); const v = this.view.getUint32(this.offset, true); this.offset += 4; return v; }
  bytes(n: number, what: string): Uint8Array { this.need(n, what); const b = this.buf.slice(this.offset, this.offset + n); this.offset += n; return b; }
  get remaining(): number { return this.buf.length - this.offset; }
}

/** Writes a RecurrencePattern into `w`. */
function writePattern(w: Writer, p: RecurrencePattern): void {
  w.u16(p.readerVersion); w.u16(p.writerVersion); w.u16(p.recurFrequency); w.u16(p.patternType);
  w.u16(p.calendarType); w.u32(p.firstDateTime); w.u32(p.period); w.u32(p.slidingFlag);
  switch (patternTypeSpecificSize(p.patternType)) {
    case 4: w.u32(p.patternType === PatternType.Week ? p.dayMask ?? 0 : p.day ?? 0); break;
    case 8: w.u32(p.dayMask ?? 0); w.u32(p.nth ?? 0); break;
    case -1: throw new RangeError(`RecurrencePattern.patternType 0x${p.patternType.toString(16)} is not one of MS-OXOCAL 2.2.1.44.1's values`);
  }
  w.u32(p.endType); w.u32(p.occurrenceCount); w.u32(p.firstDOW);
  w.u32(p.deletedInstanceDates.length); for (const d of p.deletedInstanceDates) w.u32(d);
  w.u32(p.modifiedInstanceDates.length); for (const d of p.modifiedInstanceDates) w.u32(d);
  w.u32(p.startDate); w.u32(p.endDate);
}

function readPattern(r: Reader): RecurrencePattern {
  const readerVersion = r.u16('ReaderVersion');
  const writerVersion = r.u16('WriterVersion');
  const recurFrequency = r.u16('RecurFrequency');
  const patternTypeAt = r.offset;
  const patternType = r.u16('PatternType');
  const calendarType = r.u16('CalendarType');
  const firstDateTime = r.u32('FirstDateTime');
  const period = r.u32('Period');
  const slidingFlag = r.u32('SlidingFlag');
  const p: RecurrencePattern = {
    readerVersion, writerVersion, recurFrequency, patternType, calendarType, firstDateTime, period, slidingFlag,
    endType: 0, occurrenceCount: 0, firstDOW: 0, deletedInstanceDates: [], modifiedInstanceDates: [], startDate: 0, endDate: 0,
  };
  const size = patternTypeSpecificSize(patternType);
  if (size < 0) throw new RecurrenceBlobError('UnknownPatternType', patternTypeAt, `PatternType 0x${patternType.toString(16)} is unknown`);
  if (patternType === PatternType.Week) p.dayMask = r.u32('PatternTypeSpecific.Week');
  else if (size === 4) p.day = r.u32('PatternTypeSpecific.Month.Day');
  else if (size === 8) { p.dayMask = r.u32('PatternTypeSpecific.MonthNth days'); p.nth = r.u32('PatternTypeSpecific.MonthNth.N'); }
  p.endType = r.u32('EndType');
  p.occurrenceCount = r.u32('OccurrenceCount');
  p.firstDOW = r.u32('FirstDOW');
  p.deletedInstanceDates = readDates(r, 'DeletedInstance');
  p.modifiedInstanceDates = readDates(r, 'ModifiedInstance');
  p.startDate = r.u32('StartDate');
  p.endDate = r.u32('EndDate');
  return p;
}

function readDates(r: Reader, what: string): number[] {
  const at = r.offset;
  const n = r.u32(`${what}Count`);
  if (n * 4 > r.remaining) throw new RecurrenceBlobError('Truncated', at, `${what}Count ${n} exceeds the bytes left`);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(r.u32(`${what}Dates[${i}]`));
  return out;
}

/** Encodes a RecurrencePattern (MS-OXOCAL 2.2.1.44.1), e.g. PidLidTaskRecurrence. @throws RangeError for an unknown patternType */
export function encodeRecurrencePattern(p: RecurrencePattern): Uint8Array {
  const w = new Writer();
  writePattern(w, p);
  return w.result();
}

/** Decodes a RecurrencePattern; bytes after it are ignored. @throws RecurrenceBlobError */
export function decodeRecurrencePattern(bytes: Uint8Array): RecurrencePattern {
  return readPattern(new Reader(bytes));
}

const latin1 = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));
const utf16 = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'utf16le'));

/**
 * Encodes PidLidAppointmentRecur (MS-OXOCAL 2.2.1.44.5). ExceptionInfo string lengths are derived
 * from the strings (SubjectLength = SubjectLength2 + 1, as the spec requires).
 * @throws RangeError when `extendedExceptions` and `exceptions` differ in length or a pattern type is unknown
 */
export function encodeAppointmentRecurrence(a: AppointmentRecurrencePattern): Uint8Array {
  if (a.extendedExceptions.length !== a.exceptions.length) {
    throw new RangeError(`AppointmentRecurrencePattern: ${a.exceptions.length} ExceptionInfo but ${a.extendedExceptions.length} ExtendedException (MS-OXOCAL 2.2.1.44.5 needs one each)`);
  }
  const w = new Writer();
  writePattern(w, a.recurrencePattern);
  w.u32(a.readerVersion2); w.u32(a.writerVersion2); w.u32(a.startTimeOffset); w.u32(a.endTimeOffset);
  w.u16(a.exceptions.length);
  for (const e of a.exceptions) {
    w.u32(e.startDateTime); w.u32(e.endDateTime); w.u32(e.originalStartDate); w.u16(e.overrideFlags);
    const f = e.overrideFlags;
    if (f & ARO.SUBJECT) { const b = latin1(e.subject ?? ''); w.u16(b.length + 1); w.u16(b.length); w.bytes(b); }
    if (f & ARO.MEETINGTYPE) w.u32(e.meetingType ?? 0);
    if (f & ARO.REMINDERDELTA) w.u32(e.reminderDelta ?? 0);
    if (f & ARO.REMINDER) w.u32(e.reminderSet ?? 0);
    if (f & ARO.LOCATION) { const b = latin1(e.location ?? ''); w.u16(b.length + 1); w.u16(b.length); w.bytes(b); }
    if (f & ARO.BUSYSTATUS) w.u32(e.busyStatus ?? 0);
    if (f & ARO.ATTACHMENT) w.u32(e.attachment ?? 0);
    if (f & ARO.SUBTYPE) w.u32(e.subType ?? 0);
    if (f & ARO.APPTCOLOR) w.u32(e.appointmentColor ?? 0);
  }
  w.u32(a.reservedBlock1.length); w.bytes(a.reservedBlock1);
  a.extendedExceptions.forEach((x, i) => {
    const f = a.exceptions[i].overrideFlags;
    if (a.writerVersion2 >= RECUR_WRITER_VERSION2) {
      const ch = x.changeHighlight ?? { value: 0, reserved: new Uint8Array(0) };
      w.u32(4 + ch.reserved.length); w.u32(ch.value); w.bytes(ch.reserved);
    }
    w.u32(x.reservedBlockEE1.length); w.bytes(x.reservedBlockEE1);
    if (f & (ARO.SUBJECT | ARO.LOCATION)) {
      w.u32(x.startDateTime ?? a.exceptions[i].startDateTime);
      w.u32(x.endDateTime ?? a.exceptions[i].endDateTime);
      w.u32(x.originalStartDate ?? a.exceptions[i].originalStartDate);
      if (f & ARO.SUBJECT) { const s = x.wideCharSubject ?? a.exceptions[i].subject ?? ''; w.u16(s.length); w.bytes(utf16(s)); }
      if (f & ARO.LOCATION) { const s = x.wideCharLocation ?? a.exceptions[i].location ?? ''; w.u16(s.length); w.bytes(utf16(s)); }
      const ee2 = x.reservedBlockEE2 ?? new Uint8Array(0);
      w.u32(ee2.length); w.bytes(ee2);
    }
  });
  w.u32(a.reservedBlock2.length); w.bytes(a.reservedBlock2);
  return w.result();
}

/**
 * Decodes PidLidAppointmentRecur (MS-OXOCAL 2.2.1.44.5). Bytes after ReservedBlock2 are ignored.
 * @throws RecurrenceBlobError ("Truncated" with the offset of the field that did not fit, "UnknownPatternType")
 */
export function decodeAppointmentRecurrence(bytes: Uint8Array): AppointmentRecurrencePattern {
  const r = new Reader(bytes);
  const recurrencePattern = readPattern(r);
  const readerVersion2 = r.u32('ReaderVersion2');
  const writerVersion2 = r.u32('WriterVersion2');
  const startTimeOffset = r.u32('StartTimeOffset');
  const endTimeOffset = r.u32('EndTimeOffset');
  const count = r.u16('ExceptionCount');
  const exceptions: ExceptionInfo[] = [];
  const str8 = (what: string): string => {
    const at = r.offset;
    const len = r.u16(`${what}Length`);
    const len2 = r.u16(`${what}Length2`);
    if (len !== len2 + 1) throw new RecurrenceBlobError('Invalid', at, `${what}Length ${len} is not ${what}Length2 ${len2} + 1`);
    return Buffer.from(r.bytes(len2, what)).toString('latin1');
  };
  for (let i = 0; i < count; i++) {
    const e: ExceptionInfo = {
      startDateTime: r.u32('ExceptionInfo.StartDateTime'), endDateTime: r.u32('ExceptionInfo.EndDateTime'),
      originalStartDate: r.u32('ExceptionInfo.OriginalStartDate'), overrideFlags: r.u16('ExceptionInfo.OverrideFlags'),
    };
    const f = e.overrideFlags;
    if (f & ARO.SUBJECT) e.subject = str8('Subject');
    if (f & ARO.MEETINGTYPE) e.meetingType = r.u32('MeetingType');
    if (f & ARO.REMINDERDELTA) e.reminderDelta = r.u32('ReminderDelta');
    if (f & ARO.REMINDER) e.reminderSet = r.u32('ReminderSet');
    if (f & ARO.LOCATION) e.location = str8('Location');
    if (f & ARO.BUSYSTATUS) e.busyStatus = r.u32('BusyStatus');
    if (f & ARO.ATTACHMENT) e.attachment = r.u32('Attachment');
    if (f & ARO.SUBTYPE) e.subType = r.u32('SubType');
    if (f & ARO.APPTCOLOR) e.appointmentColor = r.u32('AppointmentColor');
    exceptions.push(e);
  }
  const reservedBlock1 = r.bytes(r.u32('ReservedBlock1Size'), 'ReservedBlock1');
  const extendedExceptions: ExtendedException[] = [];
  for (const e of exceptions) {
    const x: ExtendedException = { reservedBlockEE1: new Uint8Array(0) };
    if (writerVersion2 >= RECUR_WRITER_VERSION2) {
      const at = r.offset;
      const size = r.u32('ChangeHighlightSize');
      if (size < 4) throw new RecurrenceBlobError('Invalid', at, `ChangeHighlightSize ${size} < 4`);
      x.changeHighlight = { value: r.u32('ChangeHighlightValue'), reserved: r.bytes(size - 4, 'ChangeHighlight.Reserved') };
    }
    x.reservedBlockEE1 = r.bytes(r.u32('ReservedBlockEE1Size'), 'ReservedBlockEE1');
    if (e.overrideFlags & (ARO.SUBJECT | ARO.LOCATION)) {
      x.startDateTime = r.u32('ExtendedException.StartDateTime');
      x.endDateTime = r.u32('ExtendedException.EndDateTime');
      x.originalStartDate = r.u32('ExtendedException.OriginalStartDate');
      if (e.overrideFlags & ARO.SUBJECT) { const n = r.u16('WideCharSubjectLength'); x.wideCharSubject = Buffer.from(r.bytes(n * 2, 'WideCharSubject')).toString('utf16le'); }
      if (e.overrideFlags & ARO.LOCATION) { const n = r.u16('WideCharLocationLength'); x.wideCharLocation = Buffer.from(r.bytes(n * 2, 'WideCharLocation')).toString('utf16le'); }
      x.reservedBlockEE2 = r.bytes(r.u32('ReservedBlockEE2Size'), 'ReservedBlockEE2');
    }
    extendedExceptions.push(x);
  }
  const reservedBlock2 = r.bytes(r.u32('ReservedBlock2Size'), 'ReservedBlock2');
  return { recurrencePattern, readerVersion2, writerVersion2, startTimeOffset, endTimeOffset, exceptions, reservedBlock1, extendedExceptions, reservedBlock2 };
}
