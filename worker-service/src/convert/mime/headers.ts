/**
 * Header-level helpers for Internet mail (RFC 5322 section 2.2 and 3.3, RFC 2047): locating the
 * header block, repairing 8-bit header bytes, decoding encoded words in any charset and reading
 * dates without depending on the machine's time zone.
 */
import { decodeCharset, isKnownCharset, isValidUtf8, normalizeCharsetLabel } from './charset';

/** Where the header block of a message lies in its raw bytes. */
export interface HeaderBlockBounds {
  /** Offset of the first header byte (after an mbox "From " envelope line, if any). */
  readonly start: number;
  /** Offset just past the last header line's terminator (the blank line is not included). */
  readonly end: number;
  /** Offset of the first body byte (after the blank line), or raw.length when there is no body. */
  readonly bodyStart: number;
  /** True when an mbox envelope line ("From addr date") preceded the headers and was skipped. */
  readonly hadEnvelope: boolean;
  /** True when no blank line ends the headers (the whole input is taken as headers). */
  readonly unterminated: boolean;
}

const LF = 0x0a;
const CR = 0x0d;

/** True when `raw` at `pos` starts with the mbox envelope marker "From " (not "From:"). */
export function isEnvelopeLine(raw: Uint8Array, pos: number): boolean {
  return raw.length >= pos + 5 && raw[pos] === 0x46 && raw[pos + 1] === 0x72 && raw[pos + 2] === 0x6f &&
    raw[pos + 3] === 0x6d && raw[pos + 4] === 0x20;
}

/** Finds the header block (RFC 5322 2.1: header fields, then an empty line, then the body). */
export function findHeaderBlock(raw: Uint8Array): HeaderBlockBounds {
  let start = 0;
  let hadEnvelope = false;
  if (isEnvelopeLine(raw, 0)) {
    const nl = raw.indexOf(LF);
    start = nl < 0 ? raw.length : nl + 1;
    hadEnvelope = true;
  }
  let lineStart = start;
  while (lineStart < raw.length) {
    let nl = raw.indexOf(LF, lineStart);
    const lineEnd = nl < 0 ? raw.length : nl;
    const contentEnd = lineEnd > lineStart && raw[lineEnd - 1] === CR ? lineEnd - 1 : lineEnd;
    if (contentEnd === lineStart) {
      // empty line: end of headers
      return { start, end: lineStart, bodyStart: nl < 0 ? raw.length : nl + 1, hadEnvelope, unterminated: false };
    }
    if (nl < 0) break;
    lineStart = nl + 1;
    nl = -1;
  }
  return { start, end: raw.length, bodyStart: raw.length, hadEnvelope, unterminated: true };
}

/** True when the first line at `pos` looks like a header field ("Name:" with RFC 5322 ftext). */
export function startsWithHeaderField(raw: Uint8Array, pos: number): boolean {
  let i = pos;
  while (i < raw.length && i - pos < 200) {
    const c = raw[i];
    if (c === 0x3a) return i > pos; // ':'
    if (c === 0x20 || c === 0x09) {
      // "Name :" (obsolete WSP before the colon, RFC 5322 4.5)
      let j = i;
      while (j < raw.length && (raw[j] === 0x20 || raw[j] === 0x09)) j++;
      return j < raw.length && raw[j] === 0x3a && i > pos;
    }
    if (c < 0x21 || c > 0x7e) return false;
    i++;
  }
  return false;
}

/**
 * Decodes a header block to text. Valid UTF-8 (RFC 6532) is read as UTF-8; other 8-bit bytes are
 * read in `fallbackCharset` (the message's declared charset, else windows-1252) and reported by
 * `eightBit: true`.
 */
export function decodeHeaderBlock(bytes: Uint8Array, fallbackCharset: string | undefined): { text: string; eightBit: boolean } {
  if (isValidUtf8(bytes)) return { text: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'), eightBit: false };
  const cs = fallbackCharset && isKnownCharset(fallbackCharset) && normalizeCharsetLabel(fallbackCharset) !== 'utf-8'
    ? fallbackCharset : 'windows-1252';
  return { text: decodeCharset(bytes, cs).text, eightBit: true };
}

/** The `charset` parameter of the first Content-Type field in an ASCII-readable header block, if any. */
export function sniffHeaderCharset(headerText: string): string | undefined {
  const m = /^content-type:[^\n]*(?:\n[ \t][^\n]*)*/im.exec(headerText);
  if (!m) return undefined;
  const cs = /charset\s*=\s*"?([^";\s]+)/i.exec(m[0]);
  return cs ? cs[1] : undefined;
}

/** Result of {@link decodeEncodedWords}. */
export interface DecodedHeader {
  readonly text: string;
  /** Charset labels of encoded words that were decoded as windows-1252 because the label was unknown. */
  readonly unknownCharsets: string[];
  /** True when an encoded word's payload was malformed (bad base64 length, bad Q escape). */
  readonly malformed: boolean;
}

const ENCODED_WORD = /=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g;

function qBytes(text: string): { bytes: Uint8Array; malformed: boolean } {
  const out: number[] = [];
  let malformed = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5f) out.push(0x20);
    else if (c === 0x3d) {
      const h = text.substr(i + 1, 2);
      if (/^[0-9a-fA-F]{2}$/.test(h)) { out.push(parseInt(h, 16)); i += 2; } else { out.push(c); malformed = true; }
    } else out.push(c & 0xff);
  }
  return { bytes: Uint8Array.from(out), malformed };
}

function bBytes(text: string): { bytes: Uint8Array; malformed: boolean } {
  const clean = text.replace(/[^A-Za-z0-9+/]/g, '');
  const malformed = clean.length % 4 === 1;
  return { bytes: new Uint8Array(Buffer.from(clean, 'base64')), malformed };
}

/**
 * Decodes RFC 2047 encoded words in an unstructured header value (Subject, Thread-Topic, …) in any
 * charset TextDecoder or iconv-lite knows. Adjacent encoded words in the same charset are joined
 * before decoding, so a multi-byte character split across two words survives (RFC 2047 section 6.2
 * forbids the split, but writers do it). Whitespace between encoded words is dropped (RFC 2047 6.2).
 */
export function decodeEncodedWords(value: string): DecodedHeader {
  const unknown = new Set<string>();
  let malformed = false;
  let out = '';
  let last = 0;
  let pending: { charset: string; chunks: Uint8Array[] } | null = null;
  const flush = () => {
    if (!pending) return;
    const total = pending.chunks.reduce((n, c) => n + c.length, 0);
    const all = new Uint8Array(total);
    let o = 0;
    for (const c of pending.chunks) { all.set(c, o); o += c.length; }
    // Adjacent words are joined before decoding (a multibyte character may be split between them),
    // except in the stateful ISO-2022 charsets: each word ends in ASCII state (RFC 1468), and a
    // WHATWG decoder reads "ESC ( B" directly followed by "ESC $ B" as an error (U+FFFD).
    const stateful = /^iso-2022-/.test(normalizeCharsetLabel(pending.charset));
    const d = decodeCharset(stateful ? pending.chunks[0] : all, pending.charset);
    if (!d.known) unknown.add(pending.charset);
    out += d.text;
    if (stateful) for (const c of pending.chunks.slice(1)) out += decodeCharset(c, pending.charset).text;
    pending = null;
  };
  ENCODED_WORD.lastIndex = 0;
  for (let m = ENCODED_WORD.exec(value); m; m = ENCODED_WORD.exec(value)) {
    const between = value.slice(last, m.index);
    const charset = m[1].replace(/\*.*$/, '');
    const decoded = m[2].toUpperCase() === 'B' ? bBytes(m[3]) : qBytes(m[3]);
    if (decoded.malformed) malformed = true;
    if (pending && /^[ \t\r\n]*$/.test(between)) {
      if (normalizeCharsetLabel(pending.charset) === normalizeCharsetLabel(charset)) pending.chunks.push(decoded.bytes);
      else { flush(); pending = { charset, chunks: [decoded.bytes] }; }
    } else {
      flush();
      out += between;
      pending = { charset, chunks: [decoded.bytes] };
    }
    last = m.index + m[0].length;
  }
  flush();
  out += value.slice(last);
  return { text: out, unknownCharsets: [...unknown], malformed };
}

const MONTHS: Record<string, number> = { jan: 0, feb: 1, mar: 2, apr: 3, may: 4, jun: 5, jul: 6, aug: 7, sep: 8, oct: 9, nov: 10, dec: 11 };

/** Zone abbreviations RFC 5322 4.3 defines, plus a few that real mail uses; minutes east of UTC. */
const ZONES: Record<string, number> = {
  UT: 0, UTC: 0, GMT: 0, Z: 0, EST: -300, EDT: -240, CST: -360, CDT: -300, MST: -420, MDT: -360,
  PST: -480, PDT: -420, CET: 60, CEST: 120, MET: 60, MEST: 120, BST: 60, EET: 120, EEST: 180,
  WET: 0, WEST: 60, JST: 540, KST: 540, HKT: 480, SGT: 480, AEST: 600, AEDT: 660, NZST: 720, NZDT: 780,
};

/** A parsed mail date. `zoneKnown` is false when the zone was absent or unknown and UTC was assumed. */
export interface MailDate {
  readonly date: Date;
  readonly zoneKnown: boolean;
}

/**
 * Parses an RFC 5322 date-time (section 3.3, with the obsolete forms of 4.3: two-digit years,
 * zone names, comments) or an asctime / ISO 8601 form. A missing zone is taken as UTC (never the
 * machine's local zone), so the result is deterministic. Returns undefined when nothing parses or a
 * field is out of range.
 */
export function parseMailDate(value: string | undefined): MailDate | undefined {
  if (!value) return undefined;
  const s = value.replace(/\([^()]*\)/g, ' ').replace(/\s+/g, ' ').trim();
  let day: number, mon: number, year: number, hh: number, mi: number, ss: number, zoneText: string;
  let m = /^(?:[A-Za-z]+\.?,?\s*)?(\d{1,2})[\s-]*([A-Za-z]{3})[A-Za-z]*\.?[\s,-]+(\d{2,4})[\s,]+(\d{1,2})[:.](\d{1,2})(?:[:.](\d{1,2}))?(?:\.\d+)?\s*(.*)$/.exec(s);
  if (m) {
    [day, mon, year, hh, mi, ss, zoneText] = [+m[1], MONTHS[m[2].toLowerCase()], +m[3], +m[4], +m[5], m[6] ? +m[6] : 0, m[7]];
  } else if ((m = /^(?:[A-Za-z]+,?\s+)?([A-Za-z]{3})[A-Za-z]*\s+(\d{1,2}),?\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s+(?:([A-Za-z]+|[+-]\d{4})\s+)?(\d{4})\s*(.*)$/.exec(s))) {
    // asctime: "Tue Aug  6 11:51:02 2002", optionally with a zone before or after the year
    [mon, day, hh, mi, ss, year, zoneText] = [MONTHS[m[1].toLowerCase()], +m[2], +m[3], +m[4], m[5] ? +m[5] : 0, +m[7], m[6] ?? m[8]];
  } else if ((m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?\s*(Z|[+-]\d{2}:?\d{2})?$/i.exec(s))) {
    [year, mon, day, hh, mi, ss, zoneText] = [+m[1], +m[2] - 1, +m[3], +m[4], +m[5], m[6] ? +m[6] : 0, m[7] ?? ''];
  } else return undefined;
  if (mon === undefined || !(mon >= 0 && mon <= 11)) return undefined;
  if (year < 50) year += 2000;
  else if (year < 1000) year += 1900;
  if (day < 1 || day > 31 || hh > 23 || mi > 59 || ss > 60 || year > 9999) return undefined;
  let offsetMin = 0;
  let zoneKnown = false;
  const z = (zoneText ?? '').trim().split(' ')[0] ?? '';
  const num = /^([+-])(\d{2}):?(\d{2})$/.exec(z);
  if (num) {
    offsetMin = (num[1] === '-' ? -1 : 1) * (+num[2] * 60 + +num[3]);
    zoneKnown = +num[2] < 24 && +num[3] < 60;
    if (!zoneKnown) offsetMin = 0;
  } else if (z && ZONES[z.toUpperCase()] !== undefined) {
    offsetMin = ZONES[z.toUpperCase()];
    zoneKnown = true;
  }
  const ms = Date.UTC(year, mon, day, hh, mi, Math.min(ss, 59)) - offsetMin * 60000;
  const date = new Date(ms);
  if (Number.isNaN(date.getTime()) || new Date(Date.UTC(year, mon, day)).getUTCDate() !== day) return undefined;
  return { date, zoneKnown };
}

/** The date of a Received field: the date-time after its last ';' (RFC 5322 3.6.7). */
export function receivedDate(value: string): MailDate | undefined {
  const semi = value.lastIndexOf(';');
  if (semi < 0) return undefined;
  return parseMailDate(value.slice(semi + 1));
}
