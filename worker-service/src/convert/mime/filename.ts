/**
 * Attachment file names (MS-OXCMAIL 2.2.4.3 attachment properties; MS-OXCMSG 2.2.2.11-2.2.2.13
 * PidTagAttachFilename / PidTagAttachLongFilename / PidTagAttachExtension).
 */

/** Characters not allowed in a Windows file name, replaced by "_" in names we derive. */
const INVALID = /[\u0000-\u001f<>:"/\\|?*]/g;

/** The extension of a long file name including the dot (".pdf"), or "" when it has none. */
export function fileExtension(longName: string): string {
  const dot = longName.lastIndexOf('.');
  if (dot <= 0 || dot === longName.length - 1) return '';
  const ext = longName.slice(dot);
  return /[\s/\\]/.test(ext) ? '' : ext;
}

/**
 * The 8.3 short form of a long name, in the style Windows and Outlook use: up to 8 upper-case
 * characters of the base (cut to 6 + "~1" when shortened) and up to 3 of the extension
 * ("Quarterly report.pdf" → "QUARTE~1.PDF"; "a.txt" → "A.TXT").
 */
export function shortFileName(longName: string): string {
  const ext = fileExtension(longName);
  const base = ext ? longName.slice(0, longName.length - ext.length) : longName;
  const clean = (s: string) => s.normalize('NFKD').replace(/[^\x21-\x7e]/g, '').replace(INVALID, '').replace(/[.+,;=[\] ]/g, '').toUpperCase();
  let b = clean(base);
  const e = clean(ext.slice(1)).slice(0, 3);
  const shortened = b.length > 8 || b !== base.toUpperCase() || clean(ext.slice(1)).length > 3;
  if (!b) b = 'ATT';
  if (shortened) b = b.slice(0, 6) + '~1';
  return e ? `${b}.${e}` : b;
}

/** Replaces characters a file name cannot hold (controls, path separators, reserved punctuation). */
export function sanitizeFileName(name: string): string {
  return name.replace(INVALID, '_').trim();
}

/** Common extensions by MIME type, for naming attachments that carry no file name. */
const EXTENSIONS: Record<string, string> = {
  'text/plain': '.txt', 'text/html': '.htm', 'text/calendar': '.ics', 'text/csv': '.csv',
  'text/xml': '.xml', 'text/enriched': '.txt', 'text/richtext': '.rtx', 'text/x-vcard': '.vcf', 'text/vcard': '.vcf',
  'image/jpeg': '.jpg', 'image/jpg': '.jpg', 'image/png': '.png', 'image/gif': '.gif', 'image/bmp': '.bmp',
  'image/tiff': '.tif', 'image/webp': '.webp', 'application/pdf': '.pdf', 'application/zip': '.zip',
  'application/msword': '.doc', 'application/ms-tnef': '.dat', 'application/pkcs7-signature': '.p7s',
  'application/x-pkcs7-signature': '.p7s', 'application/pkcs7-mime': '.p7m', 'application/x-pkcs7-mime': '.p7m',
  'application/pgp-signature': '.asc', 'message/rfc822': '.eml', 'message/delivery-status': '.txt',
};

/** The usual extension for a MIME type (".dat" when unknown). */
export function extensionForMimeType(mimeType: string): string {
  return EXTENSIONS[mimeType.toLowerCase()] ?? '.dat';
}
