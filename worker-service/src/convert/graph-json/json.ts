/**
 * Lenient reading of Graph REST JSON: every accessor returns undefined (and records a warning) for a
 * value of the wrong shape instead of throwing, so one odd field never loses an item.
 */
import type { MapiItem } from '../../mapi';
import { resolveZone, wallToUtcMs, type ResolvedZone } from './timezone';

/**
 * Stable warning codes of the Graph JSON converters:
 * - BadValue: a field has the wrong JSON type or an unparseable value (it was skipped, or coerced when
 *   the intent is clear, e.g. the string "true").
 * - UnknownEnum: an enumeration value Outport does not know (the property was left unset).
 * - UnknownTimeZone: a time zone name that is neither a Windows nor an IANA zone (UTC was used).
 * - KeyCase: a field was found only under a different letter case (e.g. "Subject").
 * - Recurrence: the recurrence could not be written completely (see the message).
 * - Exception: an exception or cancelled occurrence could not be placed in the series.
 * - Truncated: more values than MAPI has properties for (e.g. a fourth e-mail address).
 * - Unmapped: Graph carries the field but MAPI has no documented property for it.
 */
export type GraphJsonWarningCode =
  | 'BadValue' | 'UnknownEnum' | 'UnknownTimeZone' | 'KeyCase' | 'Recurrence' | 'Exception' | 'Truncated' | 'Unmapped';

/** One lenient decision; `field` is the JSON path (e.g. "recurrence.pattern.type"). */
export interface GraphJsonWarning {
  readonly code: GraphJsonWarningCode;
  readonly field: string;
  readonly message: string;
}

/** Result of every Graph JSON converter: the item, its fidelity ('rest': converted from REST JSON, lossy) and warnings. */
export interface GraphJsonConversion {
  readonly item: MapiItem;
  readonly fidelity: 'rest';
  readonly warnings: GraphJsonWarning[];
}

/** Options shared by the converters. */
export interface GraphJsonOptions {
  /**
   * The mailbox owner's time zone (Windows or IANA name; default "UTC"). Used for the floating dates
   * MAPI stores as local midnight (PidLidTaskStartDate/DueDate) and for events without a zone.
   */
  readonly timeZone?: string;
}

/** Collects warnings (deduplicated). */
export class Warnings {
  readonly list: GraphJsonWarning[] = [];
  private readonly seen = new Set<string>();
  add(code: GraphJsonWarningCode, field: string, message: string): void {
    const k = `${code}\u0000${field}\u0000${message}`;
    if (this.seen.has(k)) return;
    this.seen.add(k);
    this.list.push({ code, field, message });
  }
}

/** A JSON object. */
export type JsonObject = Record<string, unknown>;

/** True for a non-null, non-array object. */
export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** FILETIME ticks between 1601-01-01 and 1970-01-01. */
const EPOCH_TICKS = 116444736000000000n;

/** FILETIME (bigint, 100 ns ticks since 1601) of a UTC instant in ms plus extra 100 ns ticks. */
export function filetimeFromMs(ms: number, extraTicks = 0): bigint {
  return BigInt(Math.round(ms)) * 10000n + BigInt(extraTicks) + EPOCH_TICKS;
}

const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;

/** A parsed ISO 8601 date-time: ms "as written" (as if UTC), sub-ms ticks, and the zone offset in minutes if written. */
export interface ParsedIso {
  wallMs: number;
  extraTicks: number;
  offsetMinutes?: number;
}

/** Parses ISO 8601 as Graph writes it (up to 7 fractional digits); undefined when it does not parse. */
export function parseIso(text: string): ParsedIso | undefined {
  const m = ISO_RE.exec(text.trim());
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4] ?? '0', m[5] ?? '0', m[6] ?? '0'].map(Number);
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return undefined;
  const frac = (m[7] ?? '').padEnd(7, '0').slice(0, 7);
  const ticks = Number(frac);
  const wallMs = Date.UTC(y, mo - 1, d, h, mi, s) + Math.floor(ticks / 10000);
  const wall = new Date(wallMs);
  if (wall.getUTCDate() !== d && s < 60) return undefined; // 2021-02-30
  let offsetMinutes: number | undefined;
  if (m[8]) {
    if (m[8].toUpperCase() === 'Z') offsetMinutes = 0;
    else {
      const sign = m[8][0] === '-' ? -1 : 1;
      const digits = m[8].slice(1).replace(':', '');
      offsetMinutes = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2)));
    }
  }
  return { wallMs, extraTicks: ticks % 10000, offsetMinutes };
}

/** A Graph dateTimeTimeZone resolved to UTC: `utcMs` (+ `extraTicks`), the zone, and the wall clock. */
export interface ZonedTime {
  utcMs: number;
  extraTicks: number;
  wallMs: number;
  zone: ResolvedZone;
}

const UTC_ZONE: ResolvedZone = { windowsName: 'UTC', iana: 'UTC' };

/**
 * Reads Graph JSON fields by name. `path` prefixes warning fields. Missing and null fields are
 * simply absent; wrong shapes are warnings.
 */
export class JsonReader {
  constructor(readonly obj: JsonObject, readonly w: Warnings, readonly path = '') {}

  private field(key: string): string { return this.path ? `${this.path}.${key}` : key; }

  /** The raw value; falls back to a key differing only in case (warning KeyCase). */
  raw(key: string): unknown {
    if (key in this.obj) return this.obj[key];
    const lower = key.toLowerCase();
    for (const k of Object.keys(this.obj)) {
      if (k.toLowerCase() === lower) {
        this.w.add('KeyCase', this.field(key), `found as "${k}"`);
        return this.obj[k];
      }
    }
    return undefined;
  }

  /** A string; empty strings are returned as is. */
  str(key: string): string | undefined {
    const v = this.raw(key);
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'string') return v;
    if (typeof v === 'number') { this.w.add('BadValue', this.field(key), `number ${v} where a string was expected; used as text`); return String(v); }
    this.w.add('BadValue', this.field(key), `expected a string, got ${typeof v}`);
    return undefined;
  }

  /** A non-empty string (blank strings count as absent). */
  text(key: string): string | undefined {
    const s = this.str(key);
    return s !== undefined && s.trim() !== '' ? s : undefined;
  }

  bool(key: string): boolean | undefined {
    const v = this.raw(key);
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'boolean') return v;
    if (v === 'true' || v === 'false') { this.w.add('BadValue', this.field(key), `string "${v}" where a boolean was expected; read as ${v}`); return v === 'true'; }
    this.w.add('BadValue', this.field(key), `expected a boolean, got ${JSON.stringify(v)}`);
    return undefined;
  }

  num(key: string): number | undefined {
    const v = this.raw(key);
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) { this.w.add('BadValue', this.field(key), `string "${v}" where a number was expected`); return Number(v); }
    this.w.add('BadValue', this.field(key), `expected a number, got ${JSON.stringify(v)}`);
    return undefined;
  }

  /** A child object as a reader. */
  obj_(key: string): JsonReader | undefined {
    const v = this.raw(key);
    if (v === undefined || v === null) return undefined;
    if (isObject(v)) return new JsonReader(v, this.w, this.field(key));
    this.w.add('BadValue', this.field(key), 'expected an object');
    return undefined;
  }

  /** An array (empty when absent). */
  arr(key: string): unknown[] {
    const v = this.raw(key);
    if (v === undefined || v === null) return [];
    if (Array.isArray(v)) return v;
    this.w.add('BadValue', this.field(key), 'expected an array');
    return [];
  }

  /** Array elements that are objects, as readers (others are warnings). */
  objects(key: string): JsonReader[] {
    const out: JsonReader[] = [];
    this.arr(key).forEach((v, i) => {
      if (isObject(v)) out.push(new JsonReader(v, this.w, `${this.field(key)}[${i}]`));
      else this.w.add('BadValue', `${this.field(key)}[${i}]`, 'expected an object');
    });
    return out;
  }

  /** Array elements that are non-empty strings. */
  strings(key: string): string[] {
    const out: string[] = [];
    this.arr(key).forEach((v, i) => {
      if (typeof v === 'string') { if (v.trim() !== '') out.push(v); } else this.w.add('BadValue', `${this.field(key)}[${i}]`, 'expected a string');
    });
    return out;
  }

  /** An enumeration value mapped through `map` (case-insensitive); unknown values are warnings. */
  enumOf<T>(key: string, map: Readonly<Record<string, T>>): T | undefined {
    const s = this.str(key);
    if (s === undefined) return undefined;
    const hit = Object.keys(map).find((k) => k.toLowerCase() === s.toLowerCase());
    if (hit === undefined) { this.w.add('UnknownEnum', this.field(key), `"${s}" is not one of ${Object.keys(map).join(', ')}`); return undefined; }
    return map[hit];
  }

  /** An ISO 8601 instant (Graph's DateTimeOffset, always UTC "Z") as FILETIME; no zone = UTC. */
  instant(key: string): { ms: number; filetime: bigint } | undefined {
    const s = this.str(key);
    if (s === undefined) return undefined;
    const p = parseIso(s);
    if (!p) { this.w.add('BadValue', this.field(key), `"${s}" is not an ISO 8601 date-time`); return undefined; }
    const ms = p.wallMs - (p.offsetMinutes ?? 0) * 60000;
    return { ms, filetime: filetimeFromMs(ms, p.extraTicks) };
  }

  /** A date "yyyy-mm-dd" (e.g. a birthday or a recurrence range date) as ms at UTC midnight. */
  date(key: string): number | undefined {
    const s = this.str(key);
    if (s === undefined) return undefined;
    const p = parseIso(s);
    if (!p) { this.w.add('BadValue', this.field(key), `"${s}" is not an ISO 8601 date`); return undefined; }
    const d = new Date(p.wallMs);
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  }

  /**
   * A Graph dateTimeTimeZone `{ dateTime, timeZone }` → UTC. `fallbackZone` is used when timeZone is
   * absent; an unknown zone is a warning and UTC.
   */
  zoned(key: string, fallbackZone = 'UTC'): ZonedTime | undefined {
    const o = this.obj_(key);
    if (!o) return undefined;
    const dt = o.str('dateTime');
    if (dt === undefined) { this.w.add('BadValue', this.field(key), 'dateTimeTimeZone without dateTime'); return undefined; }
    const p = parseIso(dt);
    if (!p) { this.w.add('BadValue', `${this.field(key)}.dateTime`, `"${dt}" is not an ISO 8601 date-time`); return undefined; }
    const zone = zoneOrUtc(o.str('timeZone') ?? fallbackZone, this.w, `${this.field(key)}.timeZone`);
    if (p.offsetMinutes !== undefined) {
      const utcMs = p.wallMs - p.offsetMinutes * 60000;
      return { utcMs, extraTicks: p.extraTicks, wallMs: p.wallMs, zone };
    }
    return { utcMs: wallToUtcMs(zone.iana, p.wallMs), extraTicks: p.extraTicks, wallMs: p.wallMs, zone };
  }
}

/** Resolves a zone name, or UTC with an UnknownTimeZone warning. */
export function zoneOrUtc(name: string, w: Warnings, field: string): ResolvedZone {
  const z = resolveZone(name);
  if (z) return z;
  w.add('UnknownTimeZone', field, `"${name}" is neither a Windows nor an IANA time zone; UTC was used`);
  return UTC_ZONE;
}

/** Root reader for a converter's input. @throws TypeError when `input` is not a JSON object (a programming error) */
export function rootReader(input: unknown, fn: string, w: Warnings): JsonReader {
  if (!isObject(input)) throw new TypeError(`${fn}: input must be a parsed Graph JSON object, got ${input === null ? 'null' : Array.isArray(input) ? 'an array' : typeof input}`);
  return new JsonReader(input, w);
}
