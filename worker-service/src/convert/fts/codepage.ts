/**
 * Windows code pages for FastTransfer strings: code-page string types (0x8000 | code page,
 * MS-OXCFXICS 2.2.4.1.3) and PtypString8 values, which are in the message's code page
 * (PidTagMessageCodepage, else PidTagInternetCodepage, else Windows-1252).
 */
import iconv from 'iconv-lite';
import type { PropertyBag } from '../../mapi/item';
import { PropType } from '../../mapi/types';

/** PidTagMessageCodepage and PidTagInternetCodepage ids (MS-OXPROPS). */
const PID_TAG_MESSAGE_CODEPAGE = 0x3ffd;
const PID_TAG_INTERNET_CODEPAGE = 0x3fde;

/** Code page assumed when a message names none (Outlook's Western European default). */
export const DEFAULT_CODEPAGE = 1252;
/** UTF-16LE: the code page of `0x84B0` strings in Exchange's export streams. */
export const CODEPAGE_UTF16LE = 1200;

/** The iconv-lite encoding for a Windows code page number, or undefined when iconv-lite has none. */
export function encodingForCodepage(codepage: number): string | undefined {
  switch (codepage) {
    case 1200: return 'utf16le';
    case 1201: return 'utf16be';
    case 65001: return 'utf8';
    case 20127: return 'ascii';
    case 28591: return 'latin1';
  }
  if (codepage >= 28592 && codepage <= 28605) return `iso-8859-${codepage - 28590}`;
  for (const name of [`cp${codepage}`, `windows-${codepage}`]) if (iconv.encodingExists(name)) return name;
  return undefined;
}

/** Bytes per terminating NUL in `codepage` (2 for UTF-16, else 1). */
export function nulWidth(codepage: number): number {
  return codepage === 1200 || codepage === 1201 ? 2 : 1;
}

/** Decodes string bytes that end with one terminating NUL (dropped when present; FastTransfer
 *  lengths include it). @returns undefined when the code page is unknown */
export function decodeCodepageString(bytes: Uint8Array, codepage: number): string | undefined {
  const enc = encodingForCodepage(codepage);
  if (!enc) return undefined;
  const w = nulWidth(codepage);
  let end = bytes.length;
  if (w === 2) end &= ~1;
  if (end >= w && bytes[end - 1] === 0 && (w === 1 || bytes[end - 2] === 0)) end -= w;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, end);
  return enc === 'utf16le' ? buf.toString('utf16le') : iconv.decode(buf, enc);
}

/** Encodes a string plus its terminating NUL, or undefined when the code page is unknown or
 *  cannot represent the text exactly (iconv-lite would silently substitute "?"). */
export function encodeCodepageString(text: string, codepage: number): Uint8Array | undefined {
  const enc = encodingForCodepage(codepage);
  if (!enc) return undefined;
  const body = enc === 'utf16le' ? Buffer.from(text, 'utf16le') : iconv.encode(text, enc);
  if (enc !== 'utf16le' && iconv.decode(body, enc) !== text) return undefined;
  const out = new Uint8Array(body.length + nulWidth(codepage));
  out.set(body, 0);
  return out;
}

/** The code page a message's PtypString8 values use. */
export function messageCodepage(bag: PropertyBag, fallback: number): number {
  for (const id of [PID_TAG_MESSAGE_CODEPAGE, PID_TAG_INTERNET_CODEPAGE]) {
    const v = bag.getTyped(id);
    if (v && v.type === PropType.Integer32 && typeof v.value === 'number' && v.value > 0) return v.value;
  }
  return fallback;
}

/** The code page actually used for PtypString8: single-byte/multi-byte code pages iconv-lite knows;
 *  UTF-16 and unknown code pages fall back to Windows-1252 (encoder and decoder agree). */
export function string8Codepage(codepage: number): number {
  return nulWidth(codepage) === 1 && encodingForCodepage(codepage) ? codepage : DEFAULT_CODEPAGE;
}
