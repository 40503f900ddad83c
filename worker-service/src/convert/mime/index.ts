/** Internet mail ⇄ MapiItem (MS-OXCMAIL) and mail-file inputs (mbox, .eml trees). */
export {
  convertMime,
  splitSubjectPrefix,
  MAX_EMBEDDED_MESSAGE_DEPTH,
  MIME_FALLBACK_DATE,
  MSGFLAG_READ,
  MSGFLAG_HASATTACH,
  ATT_RENDERED_IN_BODY,
  RECIP_SENDABLE,
  MAPI_MAILUSER,
  DT_MAILUSER,
  NativeBody,
  RecipientType,
  type MimeConversion,
  type MimeConversionOptions,
} from './convert';
export type { MimeWarning, MimeWarningCode } from './warnings';
export { readMbox, MBOX_READ_CHUNK_BYTES, type MboxMessage } from './mbox';
export { walkEmlTree, type EmlFile } from './eml-tree';
export { oneOffEntryId, parseOneOffEntryId, addressSearchKey, flatEntryList, ONE_OFF_PROVIDER_UID } from './address';
export { decodeCharset, codepageOfCharset, isKnownCharset } from './charset';
export { decodeEncodedWords, parseMailDate } from './headers';
export { shortFileName, fileExtension } from './filename';
export { htmlToPlainText } from './html-text';
