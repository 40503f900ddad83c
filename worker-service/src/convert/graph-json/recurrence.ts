/**
 * Graph patternedRecurrence → MS-OXOCAL RecurrencePattern (2.2.1.44.1): the Gregorian calendar
 * arithmetic (occurrence expansion, FirstDateTime, StartDate/EndDate, OccurrenceCount) and the
 * PidLidRecurrenceType / PidLidRecurrencePattern values. Dates are "day numbers": days since
 * 1601-01-01 in the series' local time zone; minutes = day × 1440.
 */
import type { JsonReader, Warnings } from './json';
import { EndType, PatternType, RECUR_NO_END_DATE, RECUR_VERSION, RecurFrequency, type RecurrencePattern } from './recurrence-blob';

/** Minutes in a day. */
export const MINUTES_PER_DAY = 1440;
/** Minutes in a week (the unit of weekly FirstDateTime arithmetic, MS-OXOCAL 2.2.1.44.1.1). */
export const MINUTES_PER_WEEK = 10080;
/** Expansion stops after this many occurrences (an end date centuries away would otherwise loop for long). */
export const MAX_EXPANDED_OCCURRENCES = 50_000;
/** Last day a series may reach: 4500-08-31, the spec's "no end" date (RECUR_NO_END_DATE). */
export const MAX_RECURRENCE_DAY = Math.floor(RECUR_NO_END_DATE / MINUTES_PER_DAY);
/** OccurrenceCount written for a series without end (MS-OXCICAL 2.1.3.2.2 import tables). */
export const NO_END_OCCURRENCE_COUNT = 10;

const DAY0_MS = Date.UTC(1601, 0, 1);
const DAY_MS = 86_400_000;

/** Day number of a Gregorian date (month 1-12). */
export function dayNumber(year: number, month: number, day: number): number {
  return Math.round((Date.UTC(year, month - 1, day) - DAY0_MS) / DAY_MS);
}
/** Day number of a UTC-midnight ms value (or of the date part of any ms value). */
export function dayFromMs(ms: number): number {
  return Math.floor((ms - DAY0_MS) / DAY_MS);
}
/** ms (UTC midnight, "as if UTC" for local dates) of a day number. */
export function msFromDay(day: number): number {
  return DAY0_MS + day * DAY_MS;
}
/** Day of week of a day number, 0 = Sunday (1601-01-01 was a Monday). */
export function dayOfWeek(day: number): number {
  return (day + 1) % 7;
}
function ymd(day: number): [number, number, number] {
  const d = new Date(msFromDay(day));
  return [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()];
}
function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Graph dayOfWeek names, index = MAPI day bit (0 = Sunday). */
export const DAY_NAMES = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;
/** Graph weekIndex → MonthNth.N (5 = last). */
export const WEEK_INDEX: Readonly<Record<string, number>> = { first: 1, second: 2, third: 3, fourth: 4, last: 5 };

/** Graph recurrencePatternType values. */
export type RecurrenceKind = 'daily' | 'weekly' | 'absoluteMonthly' | 'relativeMonthly' | 'absoluteYearly' | 'relativeYearly';

/** A validated Graph patternedRecurrence. */
export interface RecurrenceRule {
  kind: RecurrenceKind;
  /** ≥ 1: days, weeks, months or years. */
  interval: number;
  /** Days of week (bit 0 = Sunday) for weekly and relative patterns. */
  dayMask: number;
  firstDOW: number;
  /** 1-31 for absolute patterns. */
  dayOfMonth: number;
  /** 1-12 for yearly patterns. */
  month: number;
  /** 1-5 (5 = last) for relative patterns. */
  nth: number;
  /** First day of the range (day number). */
  rangeStart: number;
  end: { type: 'endDate'; day: number } | { type: 'numbered'; count: number } | { type: 'noEnd' };
  /** range.recurrenceTimeZone, when given. */
  timeZone?: string;
}

const KINDS: Readonly<Record<string, RecurrenceKind>> = {
  daily: 'daily', weekly: 'weekly', absoluteMonthly: 'absoluteMonthly', relativeMonthly: 'relativeMonthly',
  absoluteYearly: 'absoluteYearly', relativeYearly: 'relativeYearly',
};

/**
 * Reads `recurrence` ({ pattern, range }). Missing parts are filled from `defaultStartDay` (the event's
 * local start date) with warnings; an unknown pattern type gives undefined (and a warning).
 */
export function readRecurrence(r: JsonReader, w: Warnings, defaultStartDay: number): RecurrenceRule | undefined {
  const pat = r.obj_('pattern');
  const range = r.obj_('range');
  if (!pat) { w.add('Recurrence', r.path, 'recurrence without pattern'); return undefined; }
  const kind = pat.enumOf('type', KINDS);
  if (!kind) return undefined;
  let interval = pat.num('interval') ?? 1;
  if (!Number.isInteger(interval) || interval < 1 || interval > 999) { w.add('BadValue', `${pat.path}.interval`, `interval ${interval} is not 1-999; 1 was used`); interval = 1; }
  let rangeStart = defaultStartDay;
  const sd = range?.date('startDate');
  if (sd !== undefined) rangeStart = dayFromMs(sd);
  else w.add('Recurrence', `${r.path}.range.startDate`, 'no range start date; the event start date was used');

  let dayMask = 0;
  for (const name of pat.strings('daysOfWeek')) {
    const i = DAY_NAMES.indexOf(name.toLowerCase() as (typeof DAY_NAMES)[number]);
    if (i < 0) w.add('UnknownEnum', `${pat.path}.daysOfWeek`, `"${name}" is not a day of the week`); else dayMask |= 1 << i;
  }
  if (dayMask === 0 && (kind === 'weekly' || kind === 'relativeMonthly' || kind === 'relativeYearly')) {
    dayMask = 1 << dayOfWeek(rangeStart);
    if (kind !== 'weekly' || pat.raw('daysOfWeek') !== undefined) w.add('Recurrence', `${pat.path}.daysOfWeek`, `no days of week; ${DAY_NAMES[dayOfWeek(rangeStart)]} (the start day) was used`);
  }
  const firstDOWName = (pat.str('firstDayOfWeek') ?? 'sunday').toLowerCase();
  let firstDOW = DAY_NAMES.indexOf(firstDOWName as (typeof DAY_NAMES)[number]);
  if (firstDOW < 0) { w.add('UnknownEnum', `${pat.path}.firstDayOfWeek`, `"${firstDOWName}"; sunday was used`); firstDOW = 0; }
  const [, startMonth, startDom] = ymd(rangeStart);
  let dayOfMonth = pat.num('dayOfMonth') ?? 0;
  if (kind === 'absoluteMonthly' || kind === 'absoluteYearly') {
    if (!Number.isInteger(dayOfMonth) || dayOfMonth < 1 || dayOfMonth > 31) {
      if (dayOfMonth !== 0) w.add('BadValue', `${pat.path}.dayOfMonth`, `${dayOfMonth} is not 1-31`);
      dayOfMonth = startDom;
    }
  }
  let month = pat.num('month') ?? 0;
  if (kind === 'absoluteYearly' || kind === 'relativeYearly') {
    if (!Number.isInteger(month) || month < 1 || month > 12) {
      if (month !== 0) w.add('BadValue', `${pat.path}.month`, `${month} is not 1-12`);
      month = startMonth;
    }
  }
  let nth = 0;
  if (kind === 'relativeMonthly' || kind === 'relativeYearly') {
    nth = pat.enumOf('index', WEEK_INDEX) ?? 1;
  }

  let end: RecurrenceRule['end'] = { type: 'noEnd' };
  const rangeType = range?.enumOf('type', { endDate: 'endDate', numbered: 'numbered', noEnd: 'noEnd' } as const) ?? 'noEnd';
  if (rangeType === 'endDate') {
    const ed = range?.date('endDate');
    if (ed === undefined) w.add('Recurrence', `${r.path}.range.endDate`, 'range type endDate without endDate; the series was written without end');
    else end = { type: 'endDate', day: Math.max(dayFromMs(ed), rangeStart) };
  } else if (rangeType === 'numbered') {
    const n = range?.num('numberOfOccurrences');
    if (n === undefined || !Number.isInteger(n) || n < 1) w.add('Recurrence', `${r.path}.range.numberOfOccurrences`, `${n} is not a positive count; the series was written without end`);
    else end = { type: 'numbered', count: Math.min(n, 999) };
    if (n !== undefined && n > 999) w.add('Recurrence', `${r.path}.range.numberOfOccurrences`, `${n} occurrences; Outlook allows 999`);
  }
  return { kind, interval, dayMask, firstDOW, dayOfMonth, month, nth, rangeStart, end, timeZone: range?.text('recurrenceTimeZone') };
}

function monthDay(rule: RecurrenceRule, year: number, month: number): number | undefined {
  if (rule.kind === 'absoluteMonthly' || rule.kind === 'absoluteYearly') {
    return dayNumber(year, month, Math.min(rule.dayOfMonth, daysInMonth(year, month)));
  }
  const matches: number[] = [];
  const first = dayNumber(year, month, 1);
  for (let i = 0; i < daysInMonth(year, month); i++) if (rule.dayMask & (1 << dayOfWeek(first + i))) matches.push(first + i);
  return rule.nth >= 5 ? matches[matches.length - 1] : matches[rule.nth - 1];
}

/** The week (its first day) that contains `day`, weeks starting on `firstDOW`. */
function weekStart(day: number, firstDOW: number): number {
  return day - ((dayOfWeek(day) - firstDOW + 7) % 7);
}

/** All occurrence days from the range start on, ascending, up to {@link MAX_RECURRENCE_DAY} (end conditions are the caller's). */
export function* occurrenceDays(rule: RecurrenceRule): Generator<number> {
  const start = rule.rangeStart;
  if (rule.kind === 'daily') {
    for (let d = start; d <= MAX_RECURRENCE_DAY; d += rule.interval) yield d;
    return;
  }
  if (rule.kind === 'weekly') {
    for (let ws = weekStart(start, rule.firstDOW); ws <= MAX_RECURRENCE_DAY; ws += 7 * rule.interval) {
      for (let i = 0; i < 7; i++) {
        const d = ws + i;
        if (d >= start && d <= MAX_RECURRENCE_DAY && rule.dayMask & (1 << dayOfWeek(d))) yield d;
      }
    }
    return;
  }
  const [sy, sm] = ymd(start);
  const yearly = rule.kind === 'absoluteYearly' || rule.kind === 'relativeYearly';
  let idx = sy * 12 + (sm - 1);
  const step = yearly ? 12 * rule.interval : rule.interval;
  if (yearly) {
    idx = sy * 12 + (rule.month - 1);
    if (idx < sy * 12 + (sm - 1)) idx += 12;
  }
  for (; ; idx += step) {
    const d = monthDay(rule, Math.floor(idx / 12), (idx % 12) + 1);
    if (d === undefined) continue;
    if (d > MAX_RECURRENCE_DAY) return;
    if (d >= start) yield d;
  }
}

/** First and last occurrence and the count of a series (last/count absent for a series without end). */
export interface SeriesExtent {
  firstDay: number;
  lastDay?: number;
  count?: number;
}

/** Expands the series as far as its end needs (at most {@link MAX_EXPANDED_OCCURRENCES}). */
export function seriesExtent(rule: RecurrenceRule, w?: Warnings): SeriesExtent {
  const it = occurrenceDays(rule);
  const first = it.next();
  if (first.done) return { firstDay: rule.rangeStart, lastDay: rule.rangeStart, count: 0 };
  const firstDay = first.value;
  if (rule.end.type === 'noEnd') return { firstDay };
  let lastDay = firstDay;
  let count = 1;
  if (rule.end.type === 'endDate' && firstDay > rule.end.day) return { firstDay, lastDay: firstDay, count: 0 };
  for (const d of it) {
    if (rule.end.type === 'numbered' && count >= rule.end.count) break;
    if (rule.end.type === 'endDate' && d > rule.end.day) break;
    if (count >= MAX_EXPANDED_OCCURRENCES) { w?.add('Recurrence', 'recurrence.range', `more than ${MAX_EXPANDED_OCCURRENCES} occurrences; the count was capped`); break; }
    lastDay = d;
    count++;
  }
  return { firstDay, lastDay, count };
}

/** PidLidRecurrenceType (MS-OXOCAL 2.2.1.45): 1 daily, 2 weekly, 3 monthly, 4 yearly, 5 monthly nth, 6 yearly nth. */
export function recurrenceType(kind: RecurrenceKind): number {
  return { daily: 1, weekly: 2, absoluteMonthly: 3, absoluteYearly: 4, relativeMonthly: 5, relativeYearly: 6 }[kind];
}

/**
 * The RecurrencePattern of a rule (MS-OXOCAL 2.2.1.44.1): FirstDateTime per 2.2.1.44.1.1's formulas
 * (daily: StartDate mod Period; weekly: the week's first day mod Period weeks; monthly/yearly: months
 * since 1601-01 mod Period, as a 1601 date), StartDate = first occurrence, EndDate = last occurrence
 * (or 0x5AE980DF), OccurrenceCount = occurrences in the range (10 without end).
 * @param deleted   original dates (day numbers) of cancelled and modified occurrences
 * @param modified  new dates (day numbers) of modified occurrences
 */
export function recurrencePatternOf(rule: RecurrenceRule, extent: SeriesExtent, deleted: number[] = [], modified: number[] = []): RecurrencePattern {
  const first = extent.firstDay;
  let recurFrequency: number, patternType: number, period: number, firstDateTime: number;
  const p: Partial<RecurrencePattern> = {};
  switch (rule.kind) {
    case 'daily':
      recurFrequency = RecurFrequency.Daily; patternType = PatternType.Day; period = rule.interval * MINUTES_PER_DAY;
      firstDateTime = (first * MINUTES_PER_DAY) % period;
      break;
    case 'weekly':
      recurFrequency = RecurFrequency.Weekly; patternType = PatternType.Week; period = rule.interval;
      firstDateTime = (weekStart(first, rule.firstDOW) * MINUTES_PER_DAY) % (period * MINUTES_PER_WEEK);
      p.dayMask = rule.dayMask;
      break;
    default: {
      const yearly = rule.kind === 'absoluteYearly' || rule.kind === 'relativeYearly';
      recurFrequency = yearly ? RecurFrequency.Yearly : RecurFrequency.Monthly;
      const relative = rule.kind === 'relativeMonthly' || rule.kind === 'relativeYearly';
      patternType = relative ? PatternType.MonthNth : PatternType.Month;
      period = yearly ? rule.interval * 12 : rule.interval;
      const [y, m] = ymd(first);
      const months = ((y - 1601) * 12 + (m - 1)) % period;
      firstDateTime = dayNumber(1601 + Math.floor(months / 12), (months % 12) + 1, 1) * MINUTES_PER_DAY;
      if (relative) { p.dayMask = rule.dayMask; p.nth = rule.nth; } else p.day = rule.dayOfMonth;
    }
  }
  const sortedUnique = (a: number[]) => [...new Set(a)].sort((x, y) => x - y).map((d) => d * MINUTES_PER_DAY);
  const end = rule.end;
  return {
    readerVersion: RECUR_VERSION, writerVersion: RECUR_VERSION, recurFrequency, patternType, calendarType: 0,
    firstDateTime, period, slidingFlag: 0, ...p,
    endType: end.type === 'endDate' ? EndType.EndDate : end.type === 'numbered' ? EndType.AfterN : EndType.Never,
    occurrenceCount: end.type === 'noEnd' ? NO_END_OCCURRENCE_COUNT : extent.count ?? 0,
    firstDOW: rule.firstDOW,
    deletedInstanceDates: sortedUnique(deleted), modifiedInstanceDates: sortedUnique(modified),
    startDate: first * MINUTES_PER_DAY,
    endDate: end.type === 'noEnd' ? RECUR_NO_END_DATE : (extent.lastDay ?? first) * MINUTES_PER_DAY,
  };
}

const ORDINAL = ['', 'first', 'second', 'third', 'fourth', 'last'];
const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

function clock(minutes: number): string {
  const h = Math.floor(minutes / 60) % 24, m = minutes % 60;
  return `${h % 12 === 0 ? 12 : h % 12}:${String(m).padStart(2, '0')} ${h < 12 ? 'AM' : 'PM'}`;
}
function shortDate(day: number): string {
  const [y, m, d] = ymd(day);
  return `${m}/${d}/${y}`;
}
function dayList(mask: number): string {
  const names = DAY_NAMES.filter((_, i) => mask & (1 << i)).map((n) => n[0].toUpperCase() + n.slice(1));
  return names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/**
 * PidLidRecurrencePattern (MS-OXOCAL 2.2.1.46): Outlook-style English, e.g. "every Monday effective
 * 9/4/2017 until 12/25/2017 from 12:00 PM to 2:00 PM". Times are omitted when not given (tasks, all-day).
 */
export function describeRecurrence(rule: RecurrenceRule, extent: SeriesExtent, startMinutes?: number, endMinutes?: number): string {
  const every = (n: number, unit: string) => (n === 1 ? `every ${unit}` : `every ${n} ${unit}s`);
  let what: string;
  switch (rule.kind) {
    case 'daily': what = rule.interval === 1 ? 'every day' : `every ${rule.interval} days`; break;
    case 'weekly': what = rule.interval === 1 ? `every ${dayList(rule.dayMask)}` : `every ${rule.interval} weeks on ${dayList(rule.dayMask)}`; break;
    case 'absoluteMonthly': what = `day ${rule.dayOfMonth} of ${every(rule.interval, 'month')}`; break;
    case 'relativeMonthly': what = `the ${ORDINAL[rule.nth]} ${dayList(rule.dayMask)} of ${every(rule.interval, 'month')}`; break;
    case 'absoluteYearly': what = `every ${MONTH_NAMES[rule.month - 1]} ${rule.dayOfMonth}${rule.interval > 1 ? ` of every ${rule.interval} years` : ''}`; break;
    case 'relativeYearly': what = `the ${ORDINAL[rule.nth]} ${dayList(rule.dayMask)} of ${MONTH_NAMES[rule.month - 1]}${rule.interval > 1 ? ` of every ${rule.interval} years` : ''}`; break;
  }
  let text = `${what} effective ${shortDate(extent.firstDay)}`;
  if (rule.end.type !== 'noEnd' && extent.lastDay !== undefined) text += ` until ${shortDate(extent.lastDay)}`;
  if (startMinutes !== undefined && endMinutes !== undefined) text += ` from ${clock(startMinutes)} to ${clock(endMinutes)}`;
  return text;
}
