/**
 * GUIDs in MAPI byte order (MS-OXCDATA 2.5.1 / MS-DTYP 2.3.4.2): Data1 (uint32 LE), Data2 (uint16 LE),
 * Data3 (uint16 LE), Data4 (8 bytes as is). Outport's canonical text form is lower-case
 * "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx".
 */

const GUID_RE = /^\{?([0-9a-fA-F]{8})-([0-9a-fA-F]{4})-([0-9a-fA-F]{4})-([0-9a-fA-F]{4})-([0-9a-fA-F]{12})\}?$/;

/** Error for a GUID string that is not in the 8-4-4-4-12 hexadecimal form. */
export class GuidFormatError extends Error {
  readonly code = 'GuidFormat';
  constructor(text: string) {
    super(`"${text}" is not a GUID: expected 32 hex digits as 8-4-4-4-12, e.g. 00020329-0000-0000-c000-000000000046`);
    this.name = 'GuidFormatError';
  }
}

/**
 * Recently normalised GUID texts: a mailbox uses a handful of property sets, and every named
 * property of every item is keyed by its set's GUID (namedKeyString), so the regular expression
 * runs once per distinct spelling, not once per property. Bounded: cleared when it reaches
 * NORMALIZED_MAX entries (hostile input with many GUIDs cannot grow it).
 */
const normalized = new Map<string, string>();
const NORMALIZED_MAX = 256;

/** Normalises a GUID string to lower case without braces. @throws GuidFormatError */
export function normalizeGuid(text: string): string {
  const known = normalized.get(text);
  if (known !== undefined) return known;
  const m = GUID_RE.exec(text);
  if (!m) throw new GuidFormatError(text);
  const out = `${m[1]}-${m[2]}-${m[3]}-${m[4]}-${m[5]}`.toLowerCase();
  if (normalized.size >= NORMALIZED_MAX) normalized.clear();
  normalized.set(text, out);
  return out;
}

/** Encodes a GUID string as its 16 wire bytes (MS-DTYP 2.3.4.2). @throws GuidFormatError */
export function guidToBytes(text: string): Uint8Array {
  const g = normalizeGuid(text).replace(/-/g, '');
  const out = new Uint8Array(16);
  const hex = (i: number) => parseInt(g.substr(i * 2, 2), 16);
  // Data1 little-endian
  out[0] = hex(3); out[1] = hex(2); out[2] = hex(1); out[3] = hex(0);
  // Data2, Data3 little-endian
  out[4] = hex(5); out[5] = hex(4);
  out[6] = hex(7); out[7] = hex(6);
  for (let i = 8; i < 16; i++) out[i] = hex(i);
  return out;
}

/** Decodes 16 wire bytes at `offset` as a canonical GUID string. */
export function guidFromBytes(bytes: Uint8Array, offset = 0): string {
  const b = (i: number) => bytes[offset + i].toString(16).padStart(2, '0');
  return (
    b(3) + b(2) + b(1) + b(0) + '-' + b(5) + b(4) + '-' + b(7) + b(6) + '-' + b(8) + b(9) + '-' +
    b(10) + b(11) + b(12) + b(13) + b(14) + b(15)
  );
}
