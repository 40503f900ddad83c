/**
 * Character sets of Internet mail (RFC 2045 `charset`, RFC 2047 encoded words) and the Windows
 * code pages MAPI records them as (PidTagInternetCodepage, MS-OXCMAIL 2.2.3.1.2; code page numbers
 * from Microsoft's "Code Page Identifiers" list).
 *
 * Decoding tries the WHATWG TextDecoder labels first (Node ships full ICU), then iconv-lite (UTF-7
 * and the other labels the WHATWG list lacks). A label neither knows is decoded as windows-1252 and
 * reported, so that a bad label never loses the bytes.
 */
import { TextDecoder } from 'util';
import iconv from 'iconv-lite';

/** iconv-lite's check, widened to boolean (its type guard would narrow labels to never). */
const iconvKnows = (label: string): boolean => iconv.encodingExists(label);

/** Code page used when a label is unknown or absent and the bytes are not valid UTF-8. */
export const FALLBACK_CODEPAGE = 1252;
/** The charset label used with {@link FALLBACK_CODEPAGE}. */
export const FALLBACK_CHARSET = 'windows-1252';

/** Result of decoding bytes in a declared charset. */
export interface DecodedText {
  readonly text: string;
  /** False when the label was unknown and {@link FALLBACK_CHARSET} was used instead. */
  readonly known: boolean;
}

const decoders = new Map<string, Pick<TextDecoder, 'decode'> | null>();

/** WHATWG windows-1252 index for 0x80-0x9F (bytes it leaves undefined map to the same code point). */
const CP1252_HIGH = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d, 0x17d, 0x8f,
  0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178,
];

/**
 * windows-1252 as the WHATWG Encoding Standard defines it. Node's TextDecoder("windows-1252") is
 * wrong here: it decodes 0x80-0x9F as C1 controls (true ISO-8859-1), losing quotes, dashes and €.
 */
const windows1252 = {
  decode(bytes: Uint8Array): string {
    let out = '';
    for (let i = 0; i < bytes.length; i += 8192) {
      const chunk = bytes.subarray(i, i + 8192);
      const codes = new Array<number>(chunk.length);
      for (let j = 0; j < chunk.length; j++) {
        const b = chunk[j];
        codes[j] = b >= 0x80 && b < 0xa0 ? CP1252_HIGH[b - 0x80] : b;
      }
      out += String.fromCharCode(...codes);
    }
    return out;
  },
};

function textDecoderFor(label: string): Pick<TextDecoder, 'decode'> | null {
  if (label === FALLBACK_CHARSET) return windows1252;
  let d = decoders.get(label);
  if (d === undefined) {
    try {
      d = new TextDecoder(label, { fatal: false });
    } catch {
      d = null;
    }
    decoders.set(label, d);
  }
  return d;
}

/** Labels that mail writers use but neither TextDecoder nor iconv-lite accept as written. */
const LABEL_ALIASES: Record<string, string> = {
  'ansi_x3.4-1968': 'us-ascii',
  'ascii': 'us-ascii',
  'us_ascii': 'us-ascii',
  '7bit': 'us-ascii',
  '8bit': 'windows-1252',
  'latin1': 'iso-8859-1',
  'latin-1': 'iso-8859-1',
  'unicode-1-1-utf-7': 'utf-7',
  'x-unicode-2-0-utf-7': 'utf-7',
  'unicode-1-1-utf-8': 'utf-8',
  'utf8': 'utf-8',
  'x-user-defined': 'windows-1252',
  'default': 'windows-1252',
};

/**
 * Labels the WHATWG Encoding Standard decodes as windows-1252 (as browsers and Outlook do: 0x80-0x9F
 * are "smart quotes", dashes and the euro sign in real ISO-8859-1 mail). Node's TextDecoder decodes
 * "iso-8859-1"/"latin1" as true ISO-8859-1 (C1 controls), so these are mapped explicitly.
 * The code page property (PidTagInternetCodepage) still follows the declared label.
 */
const WINDOWS_1252_LABELS = new Set([
  'iso-8859-1', 'iso8859-1', 'iso_8859-1', 'iso-ir-100', 'iso_8859-1:1987', 'l1', 'cp819', 'ibm819',
  'csisolatin1', 'iso88591', 'cp1252', 'x-cp1252', 'windows-1252',
]);

/**
 * The WHATWG Encoding Standard's labels of EUC-KR, whose decoder is windows-949 (Unified Hangul
 * Code: KS X 1001 plus 8,822 syllables on lead bytes 0x81-0xC6), as browsers and Outlook read it.
 * Node 20's TextDecoder uses ICU's strict EUC-KR converter for these labels instead: it silently
 * drops a UHC lead byte (0x81 0x41 "갂" → "A") and turns 0xC6 0x52 "힣" into U+FFFD + "R".
 * iconv-lite's cp949 is the windows-949 table, so these labels are decoded with it.
 */
const EUC_KR_LABELS = new Set([
  'euc-kr', 'cseuckr', 'csksc56011987', 'iso-ir-149', 'korean', 'ks_c_5601-1987', 'ks_c_5601-1989',
  'ksc5601', 'ksc_5601', 'windows-949', 'cp949', 'x-windows-949', 'uhc',
]);

/**
 * Normalises a charset label: trims, lower-cases, strips quotes and RFC 2231 language suffixes
 * ("utf-8*en"), and applies {@link LABEL_ALIASES}. Returns "" for an empty label.
 */
export function normalizeCharsetLabel(label: string | null | undefined): string {
  if (!label) return '';
  let l = label.trim().replace(/^["']|["']$/g, '').toLowerCase();
  const star = l.indexOf('*');
  if (star > 0) l = l.slice(0, star);
  return LABEL_ALIASES[l] ?? l;
}

/** True when `label` names a charset this module can decode (TextDecoder or iconv-lite). */
export function isKnownCharset(label: string): boolean {
  const l = normalizeCharsetLabel(label);
  if (!l) return false;
  return textDecoderFor(l) !== null || iconvKnows(l) || textDecoderFor(l.replace(/^x-/, '')) !== null;
}

/**
 * Decodes `bytes` in the charset `label`. An empty label means US-ASCII per RFC 2045 5.2, read as
 * UTF-8 (a superset that also accepts the undeclared 8-bit text common in real mail).
 * Never throws: an unknown label decodes as windows-1252 with `known: false`.
 */
export function decodeCharset(bytes: Uint8Array, label: string | null | undefined): DecodedText {
  const l = normalizeCharsetLabel(label);
  if (!l || l === 'us-ascii') {
    // Undeclared 8-bit text: UTF-8 when it is valid UTF-8, else the Windows Western code page.
    if (isValidUtf8(bytes)) return { text: textDecoderFor('utf-8')!.decode(bytes), known: true };
    // Declared US-ASCII yet 8-bit: the Windows Western reading is what mail clients show.
    return { text: textDecoderFor(FALLBACK_CHARSET)!.decode(bytes), known: true };
  }
  if (EUC_KR_LABELS.has(l)) return { text: iconv.decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), 'cp949'), known: true };
  const d = textDecoderFor(WINDOWS_1252_LABELS.has(l) ? FALLBACK_CHARSET : l);
  if (d) return { text: d.decode(bytes), known: true };
  if (iconvKnows(l)) return { text: iconv.decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), l), known: true };
  const stripped = textDecoderFor(l.replace(/^x-/, ''));
  if (stripped) return { text: stripped.decode(bytes), known: true };
  return { text: textDecoderFor(FALLBACK_CHARSET)!.decode(bytes), known: false };
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
/** True when `bytes` is well-formed UTF-8 (ASCII included). */
export function isValidUtf8(bytes: Uint8Array): boolean {
  let ascii = true;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] >= 0x80) { ascii = false; break; }
  if (ascii) return true;
  try {
    strictUtf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** Charset label → Windows code page, for the labels mail commonly carries. */
const CODEPAGES: Record<string, number> = {
  'utf-8': 65001, 'utf-7': 65000, 'utf-16': 1200, 'utf-16le': 1200, 'utf-16be': 1201,
  'us-ascii': 20127,
  'iso-8859-1': 28591, 'iso-8859-2': 28592, 'iso-8859-3': 28593, 'iso-8859-4': 28594,
  'iso-8859-5': 28595, 'iso-8859-6': 28596, 'iso-8859-7': 28597, 'iso-8859-8': 28598,
  'iso-8859-8-i': 38598, 'iso-8859-9': 28599, 'iso-8859-13': 28603, 'iso-8859-15': 28605,
  'windows-874': 874, 'tis-620': 874,
  'windows-1250': 1250, 'windows-1251': 1251, 'windows-1252': 1252, 'windows-1253': 1253,
  'windows-1254': 1254, 'windows-1255': 1255, 'windows-1256': 1256, 'windows-1257': 1257,
  'windows-1258': 1258,
  'koi8-r': 20866, 'koi8-u': 21866,
  'shift_jis': 932, 'shift-jis': 932, 'sjis': 932, 'x-sjis': 932, 'windows-31j': 932,
  'euc-jp': 51932, 'iso-2022-jp': 50220,
  'gb2312': 936, 'gbk': 936, 'x-gbk': 936, 'cp936': 936, 'gb18030': 54936, 'hz-gb-2312': 52936,
  'big5': 950, 'big5-hkscs': 950,
  // "euc-kr" is decoded as WHATWG's EUC-KR, i.e. windows-949 (EUC_KR_LABELS). The code page
  // recorded must be the one the bytes were decoded in: code page 51949 is strict KS X 1001 EUC-KR
  // (Python's euc_kr, ICU), so a reader applying it to PidTagHtml would show U+FFFD where our
  // PidTagBody shows UHC syllables (spam-2/00588).
  'euc-kr': 949, 'cseuckr': 949, 'ks_c_5601-1987': 949, 'ks_c_5601-1989': 949, 'windows-949': 949, 'uhc': 949,
  'iso-2022-kr': 50225,
};

/**
 * The Windows code page of a charset label (e.g. "iso-8859-1" → 28591, "koi8-r" → 20866), or
 * undefined when the label has no entry. `cp1252`/`windows1252`-style spellings resolve too.
 */
export function codepageOfCharset(label: string | null | undefined): number | undefined {
  const l = normalizeCharsetLabel(label);
  if (!l) return undefined;
  const direct = CODEPAGES[l] ?? CODEPAGES[l.replace(/^x-/, '')];
  if (direct !== undefined) return direct;
  const m = /^(?:cp|windows|win|ms)[-_]?(\d{3,5})$/.exec(l);
  if (m) return Number(m[1]);
  const iso = /^iso[-_]?8859[-_](\d{1,2})$/.exec(l);
  if (iso) return CODEPAGES[`iso-8859-${Number(iso[1])}`];
  return undefined;
}
