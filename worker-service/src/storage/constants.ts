/**
 * Constants shared by the Azure and directory destinations (docs/storage.md).
 */

/** Bytes of the PST region the writer rewrites at close: header and DList (MS-PST 2.2.2.6; ARCHITECTURE.md "The PST writer streams"). */
export const HEADER_REGION_BYTES = 0x4400;
/** Content type of a PST (Outlook Personal Folders File). */
export const PST_CONTENT_TYPE = 'application/vnd.ms-outlook';
/** Metadata key and value marking a container, a directory or an object as made by Outport. */
export const CREATED_BY_KEY = 'createdby';
export const CREATED_BY_VALUE = 'outport';
