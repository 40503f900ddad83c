/** Warnings a lenient MIME conversion reports instead of failing (the item is still produced). */

/**
 * Stable warning codes:
 * - Empty: the input has no bytes.
 * - NoHeaders: the input does not start with a header field; it was taken as a body.
 * - EightBitHeaders: header bytes are not UTF-8; read in the declared charset or windows-1252.
 * - UnknownCharset: a charset label neither TextDecoder nor iconv-lite knows; windows-1252 used.
 * - MalformedEncodedWord: an RFC 2047 encoded word has a broken payload.
 * - NoSubject: no Subject field.
 * - NoDate: no Date field and no Received date; the fallback date was used.
 * - BadDate: a Date or Received field does not parse (or has no zone and UTC was assumed).
 * - BadAddress: an originator or recipient field has no parseable address.
 * - TruncatedMultipart: a multipart body ends before its closing boundary.
 * - ParseFailed: the MIME parser rejected the body (limits); only the headers were converted.
 * - EmbeddedDepthExceeded: message/rfc822 nested deeper than the limit; kept as a .eml file.
 *
 * Warnings from inside an embedded message keep their code; their message names the attachment.
 */
export type MimeWarningCode =
  | 'Empty'
  | 'NoHeaders'
  | 'EightBitHeaders'
  | 'UnknownCharset'
  | 'MalformedEncodedWord'
  | 'NoSubject'
  | 'NoDate'
  | 'BadDate'
  | 'BadAddress'
  | 'TruncatedMultipart'
  | 'ParseFailed'
  | 'EmbeddedDepthExceeded';

/** One problem found while converting; `message` is for people, `code` for programs. */
export interface MimeWarning {
  readonly code: MimeWarningCode;
  readonly message: string;
}
