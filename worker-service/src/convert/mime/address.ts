/**
 * Address book structures for SMTP recipients that are not in any directory (MS-OXCDATA 2.2.5.1
 * One-Off EntryID, 2.3.3 FlatEntryList; MS-OXCMAIL 2.2.3.2.2 address mapping; search keys per
 * MS-OXOABK / MS-OXPROPS PidTagSearchKey: "ADDRTYPE:ADDRESS" upper-case with a terminating null).
 */

/** MAPI_ONE_OFF_UID, the ProviderUID of every One-Off EntryID (MS-OXCDATA 2.2.5.1). */
export const ONE_OFF_PROVIDER_UID = Uint8Array.of(
  0x81, 0x2b, 0x1f, 0xa4, 0xbe, 0xa3, 0x10, 0x19, 0x9d, 0x6e, 0x00, 0xdd, 0x01, 0x0f, 0x54, 0x02,
);
/** MAPI_ONE_OFF_UNICODE: DisplayName, AddressType and EmailAddress are UTF-16LE (mapidefs.h). */
export const MAPI_ONE_OFF_UNICODE = 0x8000;
/** MAPI_ONE_OFF_NO_RICH_INFO: do not send TNEF to this recipient (mapidefs.h); right for Internet mail. */
export const MAPI_ONE_OFF_NO_RICH_INFO = 0x0001;

function utf16z(text: string): Buffer {
  return Buffer.from(text + '\0', 'utf16le');
}

/**
 * Builds a One-Off EntryID (MS-OXCDATA 2.2.5.1): Flags (4 bytes, 0), ProviderUID (16),
 * Version (2, 0), flags word (2, little-endian: Unicode | no-rich-info), then DisplayName,
 * AddressType and EmailAddress as null-terminated UTF-16LE strings.
 */
export function oneOffEntryId(displayName: string, addressType: string, emailAddress: string): Uint8Array {
  const head = Buffer.alloc(24);
  Buffer.from(ONE_OFF_PROVIDER_UID).copy(head, 4);
  head.writeUInt16LE(0, 20);
  head.writeUInt16LE(MAPI_ONE_OFF_UNICODE | MAPI_ONE_OFF_NO_RICH_INFO, 22);
  return new Uint8Array(Buffer.concat([head, utf16z(displayName), utf16z(addressType), utf16z(emailAddress)]));
}

/** PidTagSearchKey of an address: ASCII bytes of "ADDRTYPE:ADDRESS" upper-cased, then a 0 byte. */
export function addressSearchKey(addressType: string, emailAddress: string): Uint8Array {
  const text = `${addressType}:${emailAddress}`.toUpperCase();
  // Non-ASCII (RFC 6531) addresses keep their UTF-8 bytes.
  return new Uint8Array(Buffer.concat([Buffer.from(text, 'utf8'), Buffer.of(0)]));
}

/**
 * Builds a FlatEntryList (MS-OXCDATA 2.3.3): Count (uint32), Size (uint32, bytes of what follows),
 * then each FlatEntry (MS-OXCDATA 2.3.2): Size (uint32) + EntryID, padded to a multiple of 4 bytes
 * (the last entry too, as Outlook writes it).
 */
export function flatEntryList(entryIds: readonly Uint8Array[]): Uint8Array {
  const parts: Buffer[] = [];
  for (const id of entryIds) {
    const size = Buffer.alloc(4);
    size.writeUInt32LE(id.length, 0);
    const pad = (4 - (id.length % 4)) % 4;
    parts.push(size, Buffer.from(id), Buffer.alloc(pad));
  }
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(8);
  head.writeUInt32LE(entryIds.length, 0);
  head.writeUInt32LE(body.length, 4);
  return new Uint8Array(Buffer.concat([head, body]));
}

/** Parses a One-Off EntryID back to its strings (for tests and dumps); undefined when it is not one. */
export function parseOneOffEntryId(bytes: Uint8Array): { displayName: string; addressType: string; emailAddress: string; flags: number } | undefined {
  if (bytes.length < 24) return undefined;
  for (let i = 0; i < 16; i++) if (bytes[4 + i] !== ONE_OFF_PROVIDER_UID[i]) return undefined;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const flags = buf.readUInt16LE(22);
  const strings: string[] = [];
  let pos = 24;
  for (let k = 0; k < 3; k++) {
    let end = pos;
    while (end + 1 < buf.length && (buf[end] !== 0 || buf[end + 1] !== 0)) end += 2;
    if (end + 1 >= buf.length) return undefined;
    strings.push(buf.toString('utf16le', pos, end));
    pos = end + 2;
  }
  return { displayName: strings[0], addressType: strings[1], emailAddress: strings[2], flags };
}
