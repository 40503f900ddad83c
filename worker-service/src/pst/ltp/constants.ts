/**
 * LTP layer constants (MS-PST 2.3): heap-on-node, BTree-on-heap, property and table contexts.
 */

/** HNHDR.bSig (MS-PST 2.3.1.2). */
export const HN_SIGNATURE = 0xec;
/** bClientSig values (MS-PST 2.3.1.2). */
export enum ClientSig {
  Reserved1 = 0x6c,
  TC = 0x7c,
  Reserved2 = 0x8c,
  Reserved3 = 0x9c,
  Reserved4 = 0xa5,
  Reserved5 = 0xac,
  BTH = 0xb5,
  PC = 0xbc,
  Reserved6 = 0xcc,
}
/** Largest heap allocation; larger values live in subnodes (MS-PST 2.3.1.1). */
export const MAX_HEAP_ALLOC = 3580;
/** HNHDR is 12 bytes (first block), HNPAGEHDR 2 bytes, HNBITMAPHDR 66 bytes (blocks 8, 136, 264, …) (MS-PST 2.3.1.2-4). */
export const HNHDR_SIZE = 12;
export const HNPAGEHDR_SIZE = 2;
export const HNBITMAPHDR_SIZE = 66;
/** Blocks whose index i satisfies i % 128 === 8 carry an HNBITMAPHDR (MS-PST 2.3.1.4). */
export function isHnBitmapBlock(blockIndex: number): boolean {
  return blockIndex >= 8 && (blockIndex - 8) % 128 === 0;
}
/** Max allocations per heap block: hidIndex is 11 bits (MS-PST 2.3.1.1). */
export const MAX_HEAP_ALLOCS_PER_BLOCK = 2047;
/** TCINFO offsets into rgib (MS-PST 2.3.4.1). */
export const TCI_4b = 0;
export const TCI_2b = 1;
export const TCI_1b = 2;
export const TCI_bm = 3;
/** TCOLDESC size (MS-PST 2.3.4.2) and TCINFO fixed part (22 bytes). */
export const TCOLDESC_SIZE = 8;
export const TCINFO_HEADER_SIZE = 22;
/** Row id and row version columns every TC has (MS-PST 2.3.4.4.1). */
export const PROP_TAG_LTP_ROW_ID = 0x67f20003;
export const PROP_TAG_LTP_ROW_VER = 0x67f30003;
