/**
 * Time zones for Graph's `dateTimeTimeZone` values and the calendar's time zone properties:
 * Windows zone names (what Graph and Outlook use) mapped to IANA names, wall clock ⇄ UTC through the
 * platform's ICU (Intl), and the TZSTRUCT (PidLidTimeZoneStruct, MS-OXOCAL 2.2.1.39) and TZDEFINITION
 * (PidLidAppointmentTimeZoneDefinition*, MS-OXOCAL 2.2.1.41) structures derived from ICU's rules for
 * one year.
 */

/**
 * Windows time zone ids → IANA (the "001" territory of CLDR's windowsZones.xml). Only the zones
 * mailboxes commonly use; unknown names are tried as IANA names, then fall back to UTC with a warning.
 */
export const WINDOWS_TO_IANA: Readonly<Record<string, string>> = {
  'UTC': 'UTC', 'Coordinated Universal Time': 'UTC', 'GMT Standard Time': 'Europe/London',
  'Greenwich Standard Time': 'Atlantic/Reykjavik', 'W. Europe Standard Time': 'Europe/Berlin',
  'Central Europe Standard Time': 'Europe/Budapest', 'Romance Standard Time': 'Europe/Paris',
  'Central European Standard Time': 'Europe/Warsaw', 'E. Europe Standard Time': 'Europe/Chisinau',
  'GTB Standard Time': 'Europe/Bucharest', 'FLE Standard Time': 'Europe/Kiev', 'Russian Standard Time': 'Europe/Moscow',
  'Turkey Standard Time': 'Europe/Istanbul', 'Israel Standard Time': 'Asia/Jerusalem', 'Egypt Standard Time': 'Africa/Cairo',
  'South Africa Standard Time': 'Africa/Johannesburg', 'Arabian Standard Time': 'Asia/Dubai', 'Arab Standard Time': 'Asia/Riyadh',
  'Iran Standard Time': 'Asia/Tehran', 'Pakistan Standard Time': 'Asia/Karachi', 'India Standard Time': 'Asia/Calcutta',
  'Nepal Standard Time': 'Asia/Katmandu', 'Bangladesh Standard Time': 'Asia/Dhaka', 'SE Asia Standard Time': 'Asia/Bangkok',
  'China Standard Time': 'Asia/Shanghai', 'Singapore Standard Time': 'Asia/Singapore', 'Taipei Standard Time': 'Asia/Taipei',
  'Tokyo Standard Time': 'Asia/Tokyo', 'Korea Standard Time': 'Asia/Seoul', 'AUS Eastern Standard Time': 'Australia/Sydney',
  'E. Australia Standard Time': 'Australia/Brisbane', 'Cen. Australia Standard Time': 'Australia/Adelaide',
  'W. Australia Standard Time': 'Australia/Perth', 'New Zealand Standard Time': 'Pacific/Auckland',
  'Hawaiian Standard Time': 'Pacific/Honolulu', 'Alaskan Standard Time': 'America/Anchorage',
  'Pacific Standard Time': 'America/Los_Angeles', 'US Mountain Standard Time': 'America/Phoenix',
  'Mountain Standard Time': 'America/Denver', 'Central Standard Time': 'America/Chicago',
  'Eastern Standard Time': 'America/New_York', 'US Eastern Standard Time': 'America/Indianapolis',
  'Atlantic Standard Time': 'America/Halifax', 'Newfoundland Standard Time': 'America/St_Johns',
  'Canada Central Standard Time': 'America/Regina', 'Central America Standard Time': 'America/Guatemala',
  'Central Standard Time (Mexico)': 'America/Mexico_City', 'SA Pacific Standard Time': 'America/Bogota',
  'E. South America Standard Time': 'America/Sao_Paulo', 'Argentina Standard Time': 'America/Buenos_Aires',
  'Pacific SA Standard Time': 'America/Santiago', 'Venezuela Standard Time': 'America/Caracas',
};

/** A resolved zone: the Windows key name Outlook shows and the IANA name ICU computes with. */
export interface ResolvedZone {
  readonly windowsName: string;
  readonly iana: string;
}

const IANA_TO_WINDOWS = new Map<string, string>(Object.entries(WINDOWS_TO_IANA).reverse().map(([w, i]) => [i, w]));
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(iana: string): Intl.DateTimeFormat {
  let f = formatters.get(iana);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: iana, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formatters.set(iana, f);
  }
  return f;
}

/** Resolves a Windows or IANA zone name; undefined when neither is known. */
export function resolveZone(name: string): ResolvedZone | undefined {
  const trimmed = name.trim();
  const iana = WINDOWS_TO_IANA[trimmed];
  if (iana) return { windowsName: trimmed === 'Coordinated Universal Time' ? 'UTC' : trimmed, iana };
  try {
    formatter(trimmed);
    return { windowsName: IANA_TO_WINDOWS.get(trimmed) ?? trimmed, iana: trimmed };
  } catch {
    return undefined;
  }
}

/** The zone's offset from UTC in minutes (east positive) at the instant `utcMs`. */
export function offsetMinutesAt(iana: string, utcMs: number): number {
  const parts = formatter(iana).formatToParts(new Date(utcMs));
  const n = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  const wall = Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second'));
  return Math.round((wall - Math.floor(utcMs / 1000) * 1000) / 60000);
}

/**
 * The UTC instant (ms) of a wall-clock time in a zone, where the wall clock is given as ms "as if UTC".
 * In a gap (spring forward) the later offset is used; in an overlap, the earlier instant.
 */
export function wallToUtcMs(iana: string, wallMs: number): number {
  const o1 = offsetMinutesAt(iana, wallMs);
  const t1 = wallMs - o1 * 60000;
  const o2 = offsetMinutesAt(iana, t1);
  if (o2 === o1) return t1;
  const t2 = wallMs - o2 * 60000;
  return offsetMinutesAt(iana, t2) === o2 ? Math.min(t1, t2) : t1;
}

/** The wall clock (ms "as if UTC") of a UTC instant in a zone. */
export function utcToWallMs(iana: string, utcMs: number): number {
  return utcMs + offsetMinutesAt(iana, utcMs) * 60000;
}

/** A SYSTEMTIME used as a transition rule (MS-OXOCAL 2.2.1.39): month, day of week, week 1-5 (5 = last), time. */
export interface TransitionRule {
  month: number;
  dayOfWeek: number;
  week: number;
  hour: number;
  minute: number;
}

/** Bias fields in minutes as Windows defines them (UTC = local + bias) and the two transitions, if any. */
export interface ZoneRule {
  bias: number;
  standardBias: number;
  daylightBias: number;
  /** When daylight time ends (absent for zones without DST in that year). */
  standardDate?: TransitionRule;
  /** When daylight time starts. */
  daylightDate?: TransitionRule;
}

/** Derives the Windows-style rule of `iana` for `year` from ICU: offsets and the two transitions. */
export function zoneRuleForYear(iana: string, year: number): ZoneRule {
  const start = Date.UTC(year, 0, 1);
  const dayMs = 86400000;
  const transitions: { at: number; before: number; after: number }[] = [];
  let prev = offsetMinutesAt(iana, start);
  for (let d = 1; d <= 366; d++) {
    const t = start + d * dayMs;
    const o = offsetMinutesAt(iana, t);
    if (o !== prev) {
      let lo = t - dayMs, hi = t; // offset(lo) = prev, offset(hi) = o
      while (hi - lo > 60000) {
        const mid = lo + Math.floor((hi - lo) / 120000) * 60000;
        if (offsetMinutesAt(iana, mid) === prev) lo = mid; else hi = mid;
      }
      transitions.push({ at: hi, before: prev, after: o });
      prev = o;
    }
  }
  const offsets = [offsetMinutesAt(iana, start), ...transitions.map((t) => t.after)];
  const std = Math.min(...offsets);
  const dst = Math.max(...offsets);
  const rule: ZoneRule = { bias: -std, standardBias: 0, daylightBias: 0 };
  if (transitions.length >= 2 && dst !== std) {
    rule.daylightBias = -(dst - std);
    for (const t of transitions.slice(0, 2)) {
      const r = systemTimeRule(t.at + t.before * 60000);
      if (t.after > t.before) rule.daylightDate = r; else rule.standardDate = r;
    }
  }
  return rule;
}

function systemTimeRule(wallMs: number): TransitionRule {
  const d = new Date(wallMs);
  const dim = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
  const day = d.getUTCDate();
  return {
    month: d.getUTCMonth() + 1, dayOfWeek: d.getUTCDay(), week: day + 7 > dim ? 5 : Math.ceil(day / 7),
    hour: d.getUTCHours(), minute: d.getUTCMinutes(),
  };
}

function writeSystemTime(v: DataView, o: number, r: TransitionRule | undefined): void {
  if (!r) return; // all zero: no transition
  v.setUint16(o + 2, r.month, true); v.setUint16(o + 4, r.dayOfWeek, true); v.setUint16(o + 6, r.week, true);
  v.setUint16(o + 8, r.hour, true); v.setUint16(o + 10, r.minute, true);
}

/** Encodes a TZSTRUCT (PidLidTimeZoneStruct, MS-OXOCAL 2.2.1.39): 48 bytes. */
export function encodeTzStruct(rule: ZoneRule): Uint8Array {
  const out = new Uint8Array(48);
  const v = new DataView(out.buffer);
  v.setInt32(0, rule.bias, true); v.setInt32(4, rule.standardBias, true); v.setInt32(8, rule.daylightBias, true);
  writeSystemTime(v, 14, rule.standardDate); // wStandardYear at 12 stays 0
  writeSystemTime(v, 32, rule.daylightDate); // wDaylightYear at 30 stays 0
  return out;
}

/** TZRULE flag: the rule is the one recurring series use now (MS-OXOCAL 2.2.1.41.1). */
export const TZRULE_FLAG_RECUR_CURRENT_TZREG = 0x0001;
/** TZRULE flag: the rule in effect (MS-OXOCAL 2.2.1.41.1). */
export const TZRULE_FLAG_EFFECTIVE_TZREG = 0x0002;

/**
 * Encodes a TZDEFINITION (MS-OXOCAL 2.2.1.41) with the zone's key name and one TZRULE (66 bytes,
 * flagged effective) for `year`.
 * @param flags  TZRULE flags, e.g. TZRULE_FLAG_EFFECTIVE_TZREG | TZRULE_FLAG_RECUR_CURRENT_TZREG for PidLidAppointmentTimeZoneDefinitionRecur
 */
export function encodeTzDefinition(keyName: string, year: number, rule: ZoneRule, flags = TZRULE_FLAG_EFFECTIVE_TZREG): Uint8Array {
  const name = Buffer.from(keyName, 'utf16le');
  const header = 6 + name.length;
  const out = new Uint8Array(4 + header + 66);
  const v = new DataView(out.buffer);
  out[0] = 0x02; out[1] = 0x01; v.setUint16(2, header, true);
  v.setUint16(4, 0x0002, true); // TZDEFINITION_FLAG_VALID_KEYNAME
  v.setUint16(6, keyName.length, true);
  out.set(name, 8);
  let o = 8 + name.length;
  v.setUint16(o, 1, true); o += 2; // cRules
  out[o] = 0x02; out[o + 1] = 0x01; v.setUint16(o + 2, 0x003e, true); v.setUint16(o + 4, flags, true);
  v.setUint16(o + 6, year, true); // then 14 reserved bytes
  v.setInt32(o + 22, rule.bias, true); v.setInt32(o + 26, rule.standardBias, true); v.setInt32(o + 30, rule.daylightBias, true);
  writeSystemTime(v, o + 34, rule.standardDate);
  writeSystemTime(v, o + 50, rule.daylightDate);
  return out;
}
