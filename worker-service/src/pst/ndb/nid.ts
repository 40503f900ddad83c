/**
 * Node ids (MS-PST 2.2.2.1 NID; special NIDs in 2.4.1). A NID is 32 bits: nidType in the low 5 bits,
 * nidIndex in the upper 27. In the Unicode NBT a NID occupies 8 bytes (upper 4 zero).
 */

/** nidType values (MS-PST 2.2.2.1). */
export enum NidType {
  HID = 0x00,
  INTERNAL = 0x01,
  NORMAL_FOLDER = 0x02,
  SEARCH_FOLDER = 0x03,
  NORMAL_MESSAGE = 0x04,
  ATTACHMENT = 0x05,
  SEARCH_UPDATE_QUEUE = 0x06,
  SEARCH_CRITERIA_OBJECT = 0x07,
  ASSOC_MESSAGE = 0x08,
  CONTENTS_TABLE_INDEX = 0x0a,
  RECEIVE_FOLDER_TABLE = 0x0b,
  OUTGOING_QUEUE_TABLE = 0x0c,
  HIERARCHY_TABLE = 0x0d,
  CONTENTS_TABLE = 0x0e,
  ASSOC_CONTENTS_TABLE = 0x0f,
  SEARCH_CONTENTS_TABLE = 0x10,
  ATTACHMENT_TABLE = 0x11,
  RECIPIENT_TABLE = 0x12,
  SEARCH_TABLE_INDEX = 0x13,
  LTP = 0x1f,
}

/** Special internal NIDs (MS-PST 2.4.1). */
export const NID = {
  MESSAGE_STORE: 0x21,
  NAME_TO_ID_MAP: 0x61,
  NORMAL_FOLDER_TEMPLATE: 0xa1,
  SEARCH_FOLDER_TEMPLATE: 0xc1,
  ROOT_FOLDER: 0x122,
  SEARCH_MANAGEMENT_QUEUE: 0x1e1,
  SEARCH_ACTIVITY_LIST: 0x201,
  RESERVED1: 0x241,
  SEARCH_DOMAIN_OBJECT: 0x261,
  SEARCH_GATHERER_QUEUE: 0x281,
  SEARCH_GATHERER_DESCRIPTOR: 0x2a1,
  RESERVED2: 0x2e1,
  RESERVED3: 0x301,
  SEARCH_GATHERER_FOLDER_QUEUE: 0x321,
  HIERARCHY_TABLE_TEMPLATE: 0x60d,
  CONTENTS_TABLE_TEMPLATE: 0x60e,
  ASSOC_CONTENTS_TABLE_TEMPLATE: 0x60f,
  SEARCH_CONTENTS_TABLE_TEMPLATE: 0x610,
  SMP_TEMPLATE: 0x611,
  TOMBSTONE_TABLE_TEMPLATE: 0x612,
  LTP_TEMPLATE: 0x613,
  ATTACHMENT_TABLE_TEMPLATE: 0x671,
  RECIPIENT_TABLE_TEMPLATE: 0x692,
} as const;

/** The nidType of a NID. */
export function nidType(nid: number): NidType {
  return (nid & 0x1f) as NidType;
}
/** The nidIndex of a NID. */
export function nidIndex(nid: number): number {
  return nid >>> 5;
}
/** Builds a NID from type and index. */
export function makeNid(type: NidType, index: number): number {
  return ((index << 5) | type) >>> 0;
}
/** The NID of the hierarchy, contents or FAI contents table that belongs to a folder NID (MS-PST 2.4.4). */
export function folderTableNid(folderNid: number, type: NidType.HIERARCHY_TABLE | NidType.CONTENTS_TABLE | NidType.ASSOC_CONTENTS_TABLE): number {
  return makeNid(type, nidIndex(folderNid));
}
/** Text form "0x00000122" used in dumps and errors. */
export function nidHex(nid: number): string {
  return '0x' + (nid >>> 0).toString(16).padStart(8, '0');
}
