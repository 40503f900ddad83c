/**
 * The structure of an Outlook-made store, learned from shared/samples/pst/Empty.pst with our own
 * reader (docs/pst-format-notes.md "The Outlook-made empty store"): the table templates' column
 * sets (without the row id/version columns every TC has), the special folders and their NIDs, and
 * the nidIndex counters Outlook starts from.
 */
import { NidType } from '../ndb/nid';

/** Hierarchy table columns (template 0x60D). */
export const HIERARCHY_TABLE_COLUMNS: readonly number[] = [
  0x0e300102, 0x0e330014, 0x0e340102, 0x0e380003, 0x3001001f, 0x36020003, 0x36030003, 0x360a000b, 0x3613001f, 0x66350003, 0x66360003,
];
/** Contents table columns (template 0x60E). */
export const CONTENTS_TABLE_COLUMNS: readonly number[] = [
  0x00170003, 0x001a001f, 0x00360003, 0x0037001f, 0x00390040, 0x0042001f, 0x0057000b, 0x0058000b, 0x0070001f, 0x00710102, 0x0e03001f,
  0x0e04001f, 0x0e060040, 0x0e070003, 0x0e080003, 0x0e170003, 0x0e300102, 0x0e330014, 0x0e340102, 0x0e380003, 0x0e3c0102, 0x0e3d0102,
  0x10970003, 0x30080040, 0x30130102, 0x65c60003,
];
/** FAI (associated) contents table columns (template 0x60F). */
export const ASSOC_CONTENTS_TABLE_COLUMNS: readonly number[] = [
  0x001a001f, 0x0e070003, 0x0e170003, 0x3001001f, 0x6800001f, 0x6803000b, 0x68051003, 0x682f001f, 0x70030003, 0x70040102, 0x70050102,
  0x7006001f, 0x70070003,
];
/** Search contents table columns (template 0x610). */
export const SEARCH_CONTENTS_TABLE_COLUMNS: readonly number[] = [
  0x00170003, 0x001a001f, 0x00360003, 0x0037001f, 0x0042001f, 0x0057000b, 0x0058000b, 0x0e03001f, 0x0e04001f, 0x0e05001f, 0x0e060040,
  0x0e070003, 0x0e080003, 0x0e170003, 0x0e2a000b, 0x30080040, 0x67f10003,
];
/** Attachment table columns (template 0x671). */
export const ATTACHMENT_TABLE_COLUMNS: readonly number[] = [0x0e200003, 0x3704001f, 0x37050003, 0x370b0003];
/** Recipient table columns (template 0x692). */
export const RECIPIENT_TABLE_COLUMNS: readonly number[] = [
  0x0c150003, 0x0e0f000b, 0x0ff90102, 0x0ffe0003, 0x0fff0102, 0x3001001f, 0x3002001f, 0x3003001f, 0x300b0102, 0x39000003, 0x39ff001f,
  0x3a40000b,
];
/** Receive folder table columns (0x62B): message class → folder NID (0x6605). */
export const RECEIVE_FOLDER_TABLE_COLUMNS: readonly number[] = [0x001a001f, 0x66050003];
/** Outgoing queue table columns (0x64C). */
export const OUTGOING_QUEUE_TABLE_COLUMNS: readonly number[] = [0x00390040, 0x0e100003, 0x0e140003];
/** The three templates with nidTypes MS-PST does not name (0x6B6, 0x6D7, 0x6F8), as Outlook writes them. */
export const UNNAMED_TEMPLATES: readonly { nid: number; columns: readonly number[] }[] = [
  { nid: 0x6b6, columns: [0x0e330014, 0x0e370102, 0x0e380003] },
  { nid: 0x6d7, columns: [0x001a001f, 0x0e300102, 0x0e310102, 0x0e330014, 0x0e340102, 0x0e380003, 0x0e3e0102] },
  { nid: 0x6f8, columns: [0x0e330014, 0x30070040] },
];
/** Internal nodes Outlook creates without data (bidData 0): search management queue, search domain object, and three more. */
export const EMPTY_INTERNAL_NODES: readonly number[] = [0x1e1, 0x261, 0xe41, 0xec1, 0xf21];

/** Special folders of a new store (nidIndex 0x401-0x404) and the search folder Outlook adds. */
export const SPECIAL_FOLDERS = {
  ipmSubtree: { nid: 0x8022, name: 'Top of Outlook data file' },
  searchRoot: { nid: 0x8042, name: 'Search Root' },
  deletedItems: { nid: 0x8062, name: 'Deleted Items', comment: 'Deleted Items folder' },
  commonViews: { nid: 0x8082, name: 'IPM_COMMON_VIEWS', comment: '' },
} as const;
/** Outlook's spam search folder and its companion nodes (0x2223 + update queue, criteria, contents table). */
export const SPAM_SEARCH_FOLDER = { nid: 0x2223, updateQueue: 0x2226, criteria: 0x2227, contentsTable: 0x2230, name: 'SPAM Search Folder 2' } as const;

/** PidTagValidFolderMask of a store with IPM subtree, wastebasket, common views and finder (0xC9). */
export const VALID_FOLDER_MASK = 0xc9;

/** Last nidIndex handed out per nidType in a new store (header rgnid[], MS-PST 2.2.2.6); the next is +1. */
export function initialRgnid(): Uint32Array {
  const r = new Uint32Array(32).fill(0x400);
  r[NidType.SEARCH_FOLDER] = 0x4000;
  r[NidType.NORMAL_MESSAGE] = 0x10000;
  r[NidType.ASSOC_MESSAGE] = 0x8000;
  return r;
}

/**
 * The 35 named properties an Outlook-made empty store already maps (Empty.pst's name-to-id map, ids
 * 0x8000-0x8022 in this order). A new store maps them first, so its GUID stream is never empty
 * (libpff refuses an empty one) and ids match Outlook's for the common properties.
 */
export const OUTLOOK_SEED_NAMED_PROPERTIES: readonly ({ guid: string; lid: number } | { guid: string; name: string })[] = [
  { guid: '00062002-0000-0000-c000-000000000046', lid: 0x8205 },
  { guid: '00062002-0000-0000-c000-000000000046', lid: 0x8223 },
  { guid: '00062002-0000-0000-c000-000000000046', lid: 0x8231 },
  { guid: '00062002-0000-0000-c000-000000000046', lid: 0x8216 },
  { guid: '00062002-0000-0000-c000-000000000046', lid: 0x820d },
  { guid: '00062002-0000-0000-c000-000000000046', lid: 0x820e },
  { guid: '00062002-0000-0000-c000-000000000046', lid: 0x8235 },
  { guid: '00062002-0000-0000-c000-000000000046', lid: 0x8236 },
  { guid: '00062002-0000-0000-c000-000000000046', lid: 0x8233 },
  { guid: '00020386-0000-0000-c000-000000000046', name: 'content-class' },
  { guid: '00020329-0000-0000-c000-000000000046', name: 'DRMLicense' },
  { guid: '00020386-0000-0000-c000-000000000046', name: 'x-cr-hashedpuzzle' },
  { guid: '00020386-0000-0000-c000-000000000046', name: 'x-cr-puzzleid' },
  { guid: '00062008-0000-0000-c000-000000000046', lid: 0x8580 },
  { guid: '00062008-0000-0000-c000-000000000046', lid: 0x8581 },
  { guid: '00020329-0000-0000-c000-000000000046', name: 'urn:schemas-microsoft-com:office:outlook#storetypeprivate' },
  { guid: '00062008-0000-0000-c000-000000000046', lid: 0x8510 },
  { guid: '00062008-0000-0000-c000-000000000046', lid: 0x8578 },
  { guid: '41f28f13-83f4-4114-a584-eedb5a6b0bff', name: 'IsMentioned' },
  { guid: '00020329-0000-0000-c000-000000000046', name: 'Keywords' },
  { guid: '00062014-0000-0000-c000-000000000046', lid: 0x8f05 },
  { guid: '00062008-0000-0000-c000-000000000046', lid: 0x8514 },
  { guid: '00062014-0000-0000-c000-000000000046', lid: 0x8f07 },
  { guid: '00062008-0000-0000-c000-000000000046', lid: 0x8503 },
  { guid: '00062008-0000-0000-c000-000000000046', lid: 0x85a8 },
  { guid: '00062008-0000-0000-c000-000000000046', lid: 0x8502 },
  { guid: '00062003-0000-0000-c000-000000000046', lid: 0x8104 },
  { guid: '00062003-0000-0000-c000-000000000046', lid: 0x8105 },
  { guid: '00062003-0000-0000-c000-000000000046', lid: 0x811c },
  { guid: '00020386-0000-0000-c000-000000000046', name: 'x-ms-exchange-organization-authdomain' },
  { guid: '00020329-0000-0000-c000-000000000046', name: 'DoNotForward' },
  { guid: '00062008-0000-0000-c000-000000000046', lid: 0x8570 },
  { guid: '00062003-0000-0000-c000-000000000046', lid: 0x8101 },
  { guid: '00062008-0000-0000-c000-000000000046', lid: 0x85e0 },
  { guid: '00062008-0000-0000-c000-000000000046', lid: 0x8552 },
];
