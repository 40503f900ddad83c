/**
 * The recurrence blob of a recurring appointment (PidLidAppointmentRecur): MS-OXOCAL 2.2.1.44.5
 * AppointmentRecurrencePattern = RecurrencePattern (2.2.1.44.1) + exception data (2.2.1.44.2
 * ExceptionInfo, 2.2.1.44.3 ExtendedException). Only what the sandbox seeds: weekly or daily
 * patterns ending after N occurrences, with deleted occurrences and occurrences whose subject
 * changed. Times are UTC (the sandbox's events carry no time zone rules).
 */

/** Minutes between 1601-01-01 and 1970-01-01 (the blob counts minutes since 1601). */
const MINUTES_1601_TO_1970 = 194074560;
/** Minutes in a day / week. */
const DAY_MINUTES = 1440;
const WEEK_MINUTES = 10080;

/** An occurrence changed from the pattern: a new subject (and the same times). */
export interface RecurrenceException {
  /** The original start of the occurrence (UTC). */
  readonly originalStart: Date;
  readonly subject: string;
}

/** A daily or weekly pattern, ending after `occurrences`. */
export interface RecurrenceSpec {
  readonly kind: 'daily' | 'weekly';
  /** Every `interval` days / weeks. */
  readonly interval: number;
  /** Weekly: days of the week, 0 = Sunday. Ignored for daily. */
  readonly daysOfWeek?: readonly number[];
  /** Start of the first occurrence (UTC) and duration in minutes. */
  readonly start: Date;
  readonly durationMinutes: number;
  readonly occurrences: number;
  /** Original starts of deleted occurrences. */
  readonly deleted?: readonly Date[];
  readonly modified?: readonly RecurrenceException[];
}

/** Minutes since 1601-01-01 of a Date (UTC). */
export function minutesSince1601(d: Date): number {
  return Math.floor(d.getTime() / 60000) + MINUTES_1601_TO_1970;
}
/** Midnight (UTC) of a Date's day, in minutes since 1601. */
function midnight(d: Date): number {
  const m = minutesSince1601(d);
  return m - (m % DAY_MINUTES);
}

/** The occurrence starts of a spec (before deletions), in order. */
export function occurrenceStarts(spec: RecurrenceSpec): Date[] {
  const out: Date[] = [];
  const startMs = spec.start.getTime();
  if (spec.kind === 'daily') {
    for (let i = 0; i < spec.occurrences; i++) out.push(new Date(startMs + i * spec.interval * 86400000));
    return out;
  }
  const days = [...(spec.daysOfWeek ?? [spec.start.getUTCDay()])].sort((a, b) => a - b);
  const weekStart = startMs - spec.start.getUTCDay() * 86400000;
  for (let week = 0; out.length < spec.occurrences; week += spec.interval) {
    for (const dow of days) {
      const t = weekStart + (week * 7 + dow) * 86400000;
      if (t >= startMs && out.length < spec.occurrences) out.push(new Date(t));
    }
  }
  return out;
}

class Writer {
  private readonly parts: Buffer[] = [];
  u16(v: number): void { const b = Buffer.alloc(2); b.writeUInt16LE(v); this.parts.push(b); }
  u32(v: number): void { const b = Buffer.alloc(4); b.writeUInt32LE(v >>> 0); this.parts.push(b); }
  raw(b: Buffer): void { this.parts.push(b); }
  bytes(): Uint8Array { return new Uint8Array(Buffer.concat(this.parts)); }
}

/**
 * Writes the AppointmentRecurrencePattern (MS-OXOCAL 2.2.1.44.5) of `spec`: ReaderVersion/Writer
 * 0x3004, ReaderVersion2 0x3006, WriterVersion2 0x3009 (so ExtendedException carries
 * ChangeHighlight), EndType 0x2022 (after N occurrences), FirstDOW Sunday.
 */
export function appointmentRecurrenceBlob(spec: RecurrenceSpec): Uint8Array {
  const w = new Writer();
  const starts = occurrenceStarts(spec);
  const startDate = midnight(spec.start);
  const endDate = midnight(starts[starts.length - 1]);
  const weekly = spec.kind === 'weekly';
  const period = weekly ? spec.interval : spec.interval * DAY_MINUTES;
  // 2.2.1.44.1.1 FirstDateTime: daily = StartDate % Period (minutes); weekly = the first day of
  // StartDate's week (FirstDOW Sunday) % (Period weeks in minutes).
  const firstDateTime = weekly
    ? (startDate - spec.start.getUTCDay() * DAY_MINUTES) % (period * WEEK_MINUTES)
    : startDate % period;
  w.u16(0x3004); w.u16(0x3004);
  w.u16(weekly ? 0x200b : 0x200a); // RecurFrequency
  w.u16(weekly ? 0x0001 : 0x0000); // PatternType week / day
  w.u16(0); // CalendarType Gregorian
  w.u32(firstDateTime);
  w.u32(period);
  w.u32(0); // SlidingFlag
  if (weekly) w.u32((spec.daysOfWeek ?? [spec.start.getUTCDay()]).reduce((m, d) => m | (1 << d), 0));
  w.u32(0x2022); // EndType: after N occurrences
  w.u32(spec.occurrences);
  w.u32(0); // FirstDOW Sunday
  const modified = [...(spec.modified ?? [])].sort((a, b) => a.originalStart.getTime() - b.originalStart.getTime());
  // Deleted dates list both deleted and modified occurrences (2.2.1.44.1: "a modified instance is
  // also a deleted instance"); both lists hold midnight of the original start, ascending.
  const deletedDates = [...(spec.deleted ?? []).map(midnight), ...modified.map((m) => midnight(m.originalStart))].sort((a, b) => a - b);
  w.u32(deletedDates.length);
  for (const d of deletedDates) w.u32(d);
  w.u32(modified.length);
  for (const m of modified) w.u32(midnight(m.originalStart));
  w.u32(startDate);
  w.u32(endDate);
  w.u32(0x3006); w.u32(0x3009);
  const startOffset = minutesSince1601(spec.start) - startDate;
  w.u32(startOffset);
  w.u32(startOffset + spec.durationMinutes);
  w.u16(modified.length);
  for (const m of modified) {
    const s = minutesSince1601(m.originalStart);
    w.u32(s); w.u32(s + spec.durationMinutes); w.u32(s);
    w.u16(0x0001); // OverrideFlags: ARO_SUBJECT
    const subject8 = Buffer.from(m.subject, 'latin1');
    w.u16(subject8.length + 1); w.u16(subject8.length); w.raw(subject8);
  }
  w.u32(0); // ReservedBlock1Size
  for (const m of modified) {
    w.u32(4); w.u32(0); // ChangeHighlightSize, ChangeHighlightValue
    w.u32(0); // ReservedBlockEE1Size
    const s = minutesSince1601(m.originalStart);
    w.u32(s); w.u32(s + spec.durationMinutes); w.u32(s);
    const wide = Buffer.from(m.subject, 'utf16le');
    w.u16(m.subject.length); w.raw(wide);
    w.u32(0); // ReservedBlockEE2Size
  }
  w.u32(0); // ReservedBlock2Size
  return w.bytes();
}
