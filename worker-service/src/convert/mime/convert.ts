/**
 * Internet mail (RFC 5322 / MIME) → MapiItem, following MS-OXCMAIL section 2.2 ("MIME to MAPI").
 *
 * postal-mime tokenises the message and builds the MIME tree; this module decides what becomes the
 * body and what becomes attachments (MS-OXCMAIL 2.2.3.3 / 2.2.4), decodes charsets itself
 * (./charset) and maps headers to properties. Content problems never throw: they become
 * {@link MimeWarning}s and the item is still produced.
 */
import PostalMime from 'postal-mime';
import { filetimeFromDate } from '../../mapi/types';
import { NAMED, PS_INTERNET_HEADERS } from '../../mapi/named';
import { TAG } from '../../mapi/tags';
import { AttachMethod, newMapiItem, PropertyBag, type MapiAttachment, type MapiItem } from '../../mapi/item';
import { PropType } from '../../mapi/types';
import { addressSearchKey, flatEntryList, oneOffEntryId } from './address';
import { needsCommentAwareParse, parseAddressList } from './address-list';
import { codepageOfCharset, decodeCharset, isValidUtf8, normalizeCharsetLabel } from './charset';
import { htmlToPlainText } from './html-text';
import { extensionForMimeType, fileExtension, sanitizeFileName, shortFileName } from './filename';
import {
  decodeEncodedWords,
  decodeHeaderBlock,
  findHeaderBlock,
  parseMailDate,
  receivedDate,
  sniffHeaderCharset,
  startsWithHeaderField,
  type MailDate,
} from './headers';
import type { MimeWarning, MimeWarningCode } from './warnings';

/**
 * Deepest message/rfc822 nesting converted into embedded messages (AttachMethod 5). A crafted mail
 * can nest messages thousands deep, and each level holds its own copy of the bytes below it; past
 * this depth the part is kept as an .eml attachment by value and an EmbeddedDepthExceeded warning
 * is given. Same value and reason as postal-mime's MAX_RFC822_NESTING_DEPTH.
 */
export const MAX_EMBEDDED_MESSAGE_DEPTH = 10;

/**
 * Date used for PidTagClientSubmitTime / PidTagMessageDeliveryTime / PidTagCreationTime when the
 * message carries no parseable Date or Received field (1970-01-01T00:00:00Z, recognisably "no
 * date"). A NoDate warning accompanies it. Fixed so that conversion never reads the clock.
 */
export const MIME_FALLBACK_DATE = new Date(0);

/** PidTagMessageFlags bits (MS-OXCMSG 2.2.1.6). */
export const MSGFLAG_READ = 0x00000001;
/** mfHasAttach (MS-OXCMSG 2.2.1.6). */
export const MSGFLAG_HASATTACH = 0x00000010;
/** PidTagAttachFlags attRenderedInBody (MS-OXCMSG 2.2.2.18). */
export const ATT_RENDERED_IN_BODY = 0x00000004;
/** PidTagRecipientFlags recipSendable (MS-OXOMSG 2.2.3.3 / MS-OXCMSG 2.2.1.x recipient row). */
export const RECIP_SENDABLE = 0x00000001;
/** PidTagObjectType MAPI_MAILUSER (MS-OXCDATA 2.2.5 / mapidefs.h). */
export const MAPI_MAILUSER = 6;
/** PidTagDisplayType DT_MAILUSER (mapidefs.h). */
export const DT_MAILUSER = 0;
/** PidTagNativeBody values (MS-OXCMSG 2.2.1.49.2). */
export const NativeBody = { Undefined: 0, PlainText: 1, Rtf: 2, Html: 3 } as const;
/** PidTagRecipientType values (MS-OXOMSG 2.2.3.1). */
export const RecipientType = { To: 1, Cc: 2, Bcc: 3 } as const;

/** Options of {@link convertMime}. */
export interface MimeConversionOptions {
  /** Date for messages without any parseable date (default {@link MIME_FALLBACK_DATE}). */
  readonly fallbackDate?: Date;
  /** Embedded-message nesting limit (default {@link MAX_EMBEDDED_MESSAGE_DEPTH}); 0 keeps every message/rfc822 part as a file. */
  readonly maxEmbeddedDepth?: number;
}

/** The result of {@link convertMime}: the item and what was lenient about it (empty when clean). */
export interface MimeConversion {
  readonly item: MapiItem;
  readonly warnings: MimeWarning[];
}

/** The subset of postal-mime's MimeNode (v4 internal API) this module reads. */
interface MimeNodeView {
  contentType: { value: string; parsed: { value: string; params: Record<string, string> }; multipart: string | false };
  contentDisposition: { value: string; parsed: { value: string; params: Record<string, string> } };
  contentId?: string;
  contentDescription?: string;
  headers: { key: string; value: string }[];
  contentTransferEncoding?: { encoding: string };
  content: ArrayBuffer | null;
  childNodes: MimeNodeView[];
  parentNode?: MimeNodeView;
}

interface Mailbox {
  name: string;
  address: string;
}

/**
 * Converts one Internet message to a MapiItem (MS-OXCMAIL 2.2: headers 2.2.3, body 2.2.3.3,
 * attachments 2.2.4), with message/rfc822 parts as embedded messages (AttachMethod 5).
 * Deterministic: the same bytes always give the same properties; the clock is never read.
 * The item carries no PidTagMessageSize, PidTagAttachSize, PidTagAttachNumber or
 * PidTagRenderingPosition: the PST writer sets those.
 *
 * @param raw  the message as bytes (CRLF or LF line ends; an mbox "From " line first is skipped)
 * @throws TypeError when `raw` is not a Uint8Array (content problems give warnings, not errors)
 */
export async function convertMime(raw: Uint8Array, options: MimeConversionOptions = {}): Promise<MimeConversion> {
  if (!(raw instanceof Uint8Array)) throw new TypeError('convertMime: raw must be a Uint8Array (e.g. a Buffer) holding the message bytes');
  return convertAtDepth(raw, options, 0);
}

class WarningSink {
  readonly list: MimeWarning[] = [];
  private readonly seen = new Set<string>();
  add(code: MimeWarningCode, message: string): void {
    const k = `${code}\u0000${message}`;
    if (this.seen.has(k)) return;
    this.seen.add(k);
    this.list.push({ code, message });
  }
}

function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

const utf8 = new TextEncoder();

async function convertAtDepth(raw: Uint8Array, options: MimeConversionOptions, depth: number): Promise<MimeConversion> {
  const w = new WarningSink();
  const item = newMapiItem();
  const p = item.properties;
  const fallbackDate = options.fallbackDate ?? MIME_FALLBACK_DATE;
  const maxDepth = options.maxEmbeddedDepth ?? MAX_EMBEDDED_MESSAGE_DEPTH;

  if (raw.length === 0) w.add('Empty', 'the message has no bytes');

  // 1. Header block: find it, make its text valid UTF-8 for postal-mime, keep it for
  //    PidTagTransportMessageHeaders (MS-OXCMAIL 2.2.3.2.13? "transport headers": the whole block).
  const bounds = findHeaderBlock(raw);
  let headerText = '';
  let parserInput: Uint8Array;
  const hasHeaders = raw.length > 0 && startsWithHeaderField(raw, bounds.start);
  if (!hasHeaders) {
    if (raw.length > bounds.start) w.add('NoHeaders', 'the message does not start with a header field; its content was taken as a plain body');
    parserInput = concatBytes(utf8.encode('\r\n'), raw.subarray(bounds.start));
  } else {
    const headerBytes = raw.subarray(bounds.start, bounds.end);
    const asciiView = Buffer.from(headerBytes.buffer, headerBytes.byteOffset, headerBytes.byteLength).toString('latin1');
    const decoded = decodeHeaderBlock(headerBytes, sniffHeaderCharset(asciiView));
    headerText = decoded.text;
    if (decoded.eightBit) {
      w.add('EightBitHeaders', 'header bytes are not UTF-8; they were read in the declared charset or windows-1252');
      parserInput = concatBytes(utf8.encode(headerText), raw.subarray(bounds.end));
    } else {
      parserInput = raw.subarray(bounds.start);
    }
  }

  // 2. MIME tree.
  let email: PostalMime.Email | undefined;
  let root: MimeNodeView | undefined;
  try {
    const parser = new PostalMime({ forceRfc822Attachments: true, attachmentEncoding: 'arraybuffer' });
    email = await parser.parse(parserInput);
    root = (parser as unknown as { root: MimeNodeView }).root;
  } catch (err) {
    w.add('ParseFailed', `the MIME parser rejected the message (${(err as Error).message}); only its headers were converted`);
    try {
      const parser = new PostalMime({ forceRfc822Attachments: true });
      email = await parser.parse(concatBytes(utf8.encode(headerText), utf8.encode('\r\n\r\n')));
      root = undefined;
    } catch {
      email = undefined;
    }
  }
  const headers = email?.headers ?? [];
  const header = (key: string): string | undefined => headers.find((h) => h.key === key)?.value;

  // 3. Message class, bodies, attachments.
  const parts = root ? classifyParts(root) : { plain: undefined, html: undefined, attachments: [] as MimeNodeView[] };
  let messageClass = 'IPM.Note';
  const topType = root?.contentType.parsed.value ?? 'text/plain';
  const smimeProtocol = normalizeCharsetLabel(root?.contentType.parsed.params.protocol ?? '');
  if (topType === 'application/pkcs7-mime' || topType === 'application/x-pkcs7-mime') messageClass = 'IPM.Note.SMIME';
  else if (topType === 'multipart/signed' && /pkcs7-signature$/.test(smimeProtocol)) messageClass = 'IPM.Note.SMIME.MultipartSigned';
  p.setTag(TAG.PidTagMessageClass, messageClass);

  if (root) checkTruncation(root, parserInput, w);

  // Subject (MS-OXCMAIL 2.2.3.2.6) and its prefix (2.2.3.2.6.1).
  const subjectRaw = header('subject');
  let subject = '';
  if (subjectRaw === undefined) w.add('NoSubject', 'the message has no Subject field');
  else subject = decodeHeaderValue(subjectRaw, 'Subject', w);
  const { prefix, normalized } = splitSubjectPrefix(subject);
  p.setTag(TAG.PidTagSubject, subject);
  p.setTag(TAG.PidTagSubjectPrefix, prefix);
  p.setTag(TAG.PidTagNormalizedSubject, normalized);
  const threadTopic = header('thread-topic');
  p.setTag(TAG.PidTagConversationTopic, threadTopic !== undefined ? decodeHeaderValue(threadTopic, 'Thread-Topic', w) : normalized);

  if (headerText) p.setTag(TAG.PidTagTransportMessageHeaders, toCrlf(headerText));

  // Originator (MS-OXCMAIL 2.2.3.2.1 From, 2.2.3.2.2 Sender).
  // Address fields whose comments postal-mime cannot tokenise (nested, or with a quoted-pair) are
  // read by our RFC 5322 parser (address-list.ts); all others as postal-mime parsed them.
  const addresses = (key: string, parsed: PostalMime.Address[] | undefined): PostalMime.Address[] | undefined => {
    const raw = header(key);
    return raw !== undefined && needsCommentAwareParse(raw) ? (parseAddressList(raw) as PostalMime.Address[]) : parsed;
  };
  const from = firstMailbox(addresses('from', email?.from ? [email.from] : undefined)?.[0], 'From', header('from'), w);
  const sender = firstMailbox(addresses('sender', email?.sender ? [email.sender] : undefined)?.[0], 'Sender', header('sender'), w) ?? from;
  if (from) setAddressProps(p, 'SentRepresenting', from);
  if (sender) setAddressProps(p, 'Sender', sender);

  // Recipients (MS-OXCMAIL 2.2.3.2.3).
  const display: Record<number, string[]> = { 1: [], 2: [], 3: [] };
  for (const [list, type, field] of [[email?.to, RecipientType.To, 'To'], [email?.cc, RecipientType.Cc, 'Cc'], [email?.bcc, RecipientType.Bcc, 'Bcc']] as const) {
    for (const mb of flattenAddresses(addresses(field.toLowerCase(), list), field, header(field.toLowerCase()), w)) {
      item.recipients.push(recipientRow(mb, type));
      display[type].push(mb.name || mb.address);
    }
  }
  p.setTag(TAG.PidTagDisplayTo, display[1].join('; '));
  p.setTag(TAG.PidTagDisplayCc, display[2].join('; '));
  p.setTag(TAG.PidTagDisplayBcc, display[3].join('; '));

  // Reply-To (MS-OXCMAIL 2.2.3.2.4).
  const replyTo = flattenAddresses(addresses('reply-to', email?.replyTo), 'Reply-To', header('reply-to'), w);
  if (replyTo.length) {
    p.setTag(TAG.PidTagReplyRecipientNames, replyTo.map((m) => m.name || m.address).join(';'));
    p.setTag(TAG.PidTagReplyRecipientEntries, flatEntryList(replyTo.map((m) => oneOffEntryId(m.name || m.address, 'SMTP', m.address))));
  }

  // Dates (MS-OXCMAIL 2.2.3.2.9 Date → PidTagClientSubmitTime; Received → PidTagMessageDeliveryTime).
  const dateField = header('date');
  let submit: MailDate | undefined;
  if (dateField !== undefined) {
    submit = parseMailDate(dateField);
    if (!submit) w.add('BadDate', `the Date field "${dateField.slice(0, 80)}" does not parse`);
  }
  const firstReceived = header('received');
  let delivered = firstReceived !== undefined ? receivedDate(firstReceived) : undefined;
  if (firstReceived !== undefined && !delivered) w.add('BadDate', 'the first Received field carries no parseable date');
  if (!submit && !delivered) w.add('NoDate', `no parseable Date or Received field; ${fallbackDate.toISOString()} was used`);
  const submitTime = filetimeFromDate((submit ?? delivered)?.date ?? fallbackDate);
  const deliveryTime = filetimeFromDate((delivered ?? submit)?.date ?? fallbackDate);
  p.setTag(TAG.PidTagClientSubmitTime, submitTime);
  p.setTag(TAG.PidTagMessageDeliveryTime, deliveryTime);
  p.setTag(TAG.PidTagCreationTime, deliveryTime);
  p.setTag(TAG.PidTagLastModificationTime, deliveryTime);

  // Identifiers (MS-OXCMAIL 2.2.3.2.10-2.2.3.2.12).
  const messageId = header('message-id');
  if (messageId) p.setTag(TAG.PidTagInternetMessageId, oneLine(messageId));
  const inReplyTo = header('in-reply-to');
  if (inReplyTo) p.setTag(TAG.PidTagInReplyToId, oneLine(inReplyTo));
  const references = header('references');
  if (references) p.setTag(TAG.PidTagInternetReferences, oneLine(references));

  // Importance, priority, sensitivity (MS-OXCMAIL 2.2.3.2.5, 2.2.3.2.7, 2.2.3.2.8).
  const importance = mapImportance(header);
  if (importance !== undefined) p.setTag(TAG.PidTagImportance, importance);
  const priority = mapPriority(header('priority'));
  if (priority !== undefined) p.setTag(TAG.PidTagPriority, priority);
  const sensitivity = mapSensitivity(header('sensitivity'));
  if (sensitivity !== undefined) p.setTag(TAG.PidTagSensitivity, sensitivity);
  if (header('disposition-notification-to') !== undefined) p.setTag(TAG.PidTagReadReceiptRequested, true);

  // Mailing list fields (RFC 2369): tagged properties where MS-OXPROPS has them, else PS_INTERNET_HEADERS.
  const listTagged: [string, { id: number; type: PropType }][] = [
    ['list-help', TAG.PidTagListHelp], ['list-subscribe', TAG.PidTagListSubscribe], ['list-unsubscribe', TAG.PidTagListUnsubscribe],
  ];
  for (const [key, def] of listTagged) {
    const v = header(key);
    if (v !== undefined) p.setTag(def, oneLine(v));
  }
  for (const key of ['list-id', 'list-post', 'list-owner', 'list-archive']) {
    const v = header(key);
    if (v !== undefined) p.setNamed({ guid: PS_INTERNET_HEADERS, name: key }, PropType.String, decodeHeaderValue(v, key, w));
  }
  // content-class and content-type (MS-OXCMAIL 2.2.3.2.15 / PidNameContentClass, PidNameContentType).
  const contentClass = header('content-class');
  if (contentClass !== undefined) p.setNamedDef(NAMED.PidNameContentClass, oneLine(contentClass));
  const contentType = header('content-type');
  if (contentType !== undefined) p.setNamedDef(NAMED.PidNameContentType, oneLine(contentType));

  // 4. Bodies (MS-OXCMAIL 2.2.3.3).
  let codepage: number | undefined;
  let htmlText: string | undefined;
  let hasBodyText = false;
  if (parts.plain) {
    const label = parts.plain.contentType.parsed.params.charset;
    const d = decodeCharset(nodeBytes(parts.plain), label);
    if (!d.known) w.add('UnknownCharset', `text body charset "${label}" is unknown; windows-1252 was used`);
    p.setTag(TAG.PidTagBody, textContent(parts.plain, d.text));
    hasBodyText = true;
    codepage = bodyCodepage(label, nodeBytes(parts.plain), d.known);
  }
  if (parts.html) {
    const label = parts.html.contentType.parsed.params.charset;
    const bytes = nodeBytes(parts.html);
    const d = decodeCharset(bytes, label);
    htmlText = d.text;
    let htmlBytes = bytes;
    let htmlCodepage = bodyCodepage(label, bytes, d.known);
    if (!d.known || htmlCodepage === undefined) {
      if (!d.known) w.add('UnknownCharset', `HTML body charset "${label}" is unknown; windows-1252 was used`);
      htmlBytes = utf8.encode(d.text);
      htmlCodepage = 65001;
    }
    p.setTag(TAG.PidTagHtml, htmlBytes);
    codepage = htmlCodepage;
    if (!hasBodyText) {
      // No text/plain part: the plain body is rendered from the HTML, as MAPI stores do.
      p.setTag(TAG.PidTagBody, htmlToPlainText(d.text));
      hasBodyText = true;
    }
    p.setTag(TAG.PidTagNativeBody, NativeBody.Html);
  } else if (parts.plain) {
    p.setTag(TAG.PidTagNativeBody, NativeBody.PlainText);
  }
  if (codepage !== undefined) {
    p.setTag(TAG.PidTagInternetCodepage, codepage);
    p.setTag(TAG.PidTagMessageCodepage, codepage);
  }

  // 5. Attachments (MS-OXCMAIL 2.2.4).
  if (messageClass === 'IPM.Note.SMIME.MultipartSigned' && root) {
    // MS-OXOSMIME 2.1.3.2.1: one attachment holding the whole multipart/signed entity, so that the
    // signature can still be verified; the readable body stays in the body properties.
    item.attachments.push(smimeAttachment(signedEntity(headers, raw.subarray(bounds.bodyStart)), 'multipart/signed', 'smime.p7m'));
  } else {
    let n = 0;
    for (const node of parts.attachments) {
      n++;
      item.attachments.push(await attachmentFromNode(node, n, htmlText, options, depth, maxDepth, w));
    }
  }

  // 6. Flags (MS-OXCMSG 2.2.1.6): an imported message is read; mfHasAttach when it has attachments.
  const hasAttach = item.attachments.length > 0;
  p.setTag(TAG.PidTagMessageFlags, MSGFLAG_READ | (hasAttach ? MSGFLAG_HASATTACH : 0));
  p.setTag(TAG.PidTagHasAttachments, hasAttach);

  return { item, warnings: w.list };
}

// ---------------------------------------------------------------------------------------------
// Structure

/** Which leaves are bodies and which are attachments (MS-OXCMAIL 2.2.3.3 / 2.2.4.1). */
function classifyParts(root: MimeNodeView): { plain?: MimeNodeView; html?: MimeNodeView; attachments: MimeNodeView[] } {
  const out: { plain?: MimeNodeView; html?: MimeNodeView; attachments: MimeNodeView[] } = { attachments: [] };
  const isText = (n: MimeNodeView, t: string) => !n.contentType.multipart && n.contentType.parsed.value === t && n.contentDisposition.parsed.value !== 'attachment';

  const visit = (node: MimeNodeView, allowBody: boolean, inAlternative: boolean): void => {
    const sub = node.contentType.multipart;
    if (!sub) {
      if (allowBody && isText(node, 'text/plain') && !out.plain && !out.html) { out.plain = node; return; }
      if (allowBody && isText(node, 'text/html') && !out.html && (inAlternative || !out.plain)) { out.html = node; return; }
      if (allowBody && inAlternative && /^text\/(plain|html|enriched|richtext)$/.test(node.contentType.parsed.value) && (out.plain || out.html)) return; // another rendering of the body
      if (node.content !== null || node.contentType.parsed.value) out.attachments.push(node);
      return;
    }
    const children = node.childNodes;
    if (sub === 'alternative') {
      if (!allowBody) { children.forEach((c) => visit(c, false, false)); return; }
      for (const c of children) {
        if (!c.contentType.multipart && isText(c, 'text/plain')) {
          if (!out.plain) out.plain = c;
          continue; // a second plain rendering is dropped
        }
        visit(c, allowBody, true);
      }
      return;
    }
    if (sub === 'related') {
      const start = node.contentType.parsed.params.start;
      let rootIdx = 0;
      if (start) {
        const i = children.findIndex((c) => c.contentId === start);
        if (i >= 0) rootIdx = i;
      }
      children.forEach((c, i) => visit(c, i === rootIdx ? allowBody : false, i === rootIdx && inAlternative));
      return;
    }
    // mixed, signed, report, digest, parallel and unknown subtypes: the first body-bearing part is the body
    let open = allowBody;
    for (const c of children) {
      const before = (out.plain ? 1 : 0) + (out.html ? 1 : 0);
      visit(c, open, false);
      if ((out.plain ? 1 : 0) + (out.html ? 1 : 0) > before) open = false;
    }
  };
  visit(root, true, false);
  return out;
}

/** Warns when a multipart's closing boundary ("--boundary--") never appears. */
function checkTruncation(root: MimeNodeView, input: Uint8Array, w: WarningSink): void {
  const buf = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  const walk = (n: MimeNodeView) => {
    if (n.contentType.multipart) {
      const b = n.contentType.parsed.params.boundary;
      if (b && buf.indexOf(`--${b}--`, 0, 'latin1') < 0) w.add('TruncatedMultipart', `multipart/${n.contentType.multipart} ends without its closing boundary`);
      n.childNodes.forEach(walk);
    }
  };
  walk(root);
}

/**
 * The decoded bytes of a leaf. postal-mime ends every 7bit/8bit/quoted-printable line with LF,
 * the last one too; inside a multipart that last line break belongs to the boundary delimiter
 * (RFC 2046 5.1.1), so it is removed there.
 */
function nodeBytes(node: MimeNodeView): Uint8Array {
  if (!node.content) return new Uint8Array(0);
  const bytes = new Uint8Array(node.content);
  const base64 = /base64/i.test(node.contentTransferEncoding?.encoding ?? '');
  if (node.parentNode && !base64 && bytes.length && bytes[bytes.length - 1] === 0x0a) return bytes.subarray(0, bytes.length - 1);
  return bytes;
}

/**
 * Applies format=flowed (RFC 3676) when declared, else returns `text`. A line ending in a space is
 * joined with the next (soft break, 4.2) only when both have the same quote depth (4.5: the leading
 * ">" run, plus the one space after it, is a quote marker, not content); the continuation's marker
 * and space-stuffing (4.4) are dropped; "-- " (the signature separator, 4.3) never flows. With
 * delsp=yes the space before a soft break is removed (RFC 3676 4.2 / RFC 2646 erratum).
 */
function textContent(node: MimeNodeView, text: string): string {
  if (!/^flowed$/i.test(node.contentType.parsed.params.format ?? '')) return text;
  const delsp = /^yes$/i.test(node.contentType.parsed.params.delsp ?? '');
  const out: string[] = [];
  let para: string | undefined; // current paragraph's content (without its quote marker)
  let prefix = '';
  let depth = 0;
  for (const line of text.split(/\r?\n/)) {
    let d = 0;
    while (line.charCodeAt(d) === 0x3e) d++;
    const markerLength = d && line.charCodeAt(d) === 0x20 ? d + 1 : d;
    let content = line.slice(markerLength);
    if (!d && content.startsWith(' ')) content = content.slice(1); // space-stuffing (4.4)
    const soft = para !== undefined && d === depth && para.endsWith(' ') && para !== '-- ';
    if (soft) {
      para = (delsp ? para!.slice(0, -1) : para!) + content;
    } else {
      if (para !== undefined) out.push(prefix + para);
      para = content;
      depth = d;
      prefix = line.slice(0, markerLength);
    }
  }
  if (para !== undefined) out.push(prefix + para);
  return out.join('\n');
}

/** The code page of a body part: the label's, else UTF-8 for valid UTF-8, else windows-1252. */
function bodyCodepage(label: string | undefined, bytes: Uint8Array, known: boolean): number | undefined {
  if (label && known) {
    const cp = codepageOfCharset(label);
    if (cp !== undefined) return normalizeCharsetLabel(label) === 'us-ascii' && !isValidUtf8(bytes) ? 1252 : cp;
    return undefined;
  }
  if (!label) return isValidUtf8(bytes) ? 65001 : 1252;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Headers

function decodeHeaderValue(value: string, field: string, w: WarningSink): string {
  const d = decodeEncodedWords(value);
  for (const cs of d.unknownCharsets) w.add('UnknownCharset', `${field}: encoded-word charset "${cs}" is unknown; windows-1252 was used`);
  if (d.malformed) w.add('MalformedEncodedWord', `${field}: an encoded word has a malformed payload`);
  return d.text.replace(/[\r\n]+/g, ' ').trim();
}

function oneLine(value: string): string {
  return value.replace(/\s+/g, ' ').trim();
}

function toCrlf(text: string): string {
  const t = text.replace(/\r?\n/g, '\r\n');
  return t.endsWith('\r\n') ? t : t + '\r\n';
}

/**
 * Splits PidTagSubjectPrefix from the subject (MS-OXCMAIL 2.2.3.2.6.1): one to three characters
 * other than colon, blank or digit, a colon, then blanks. The prefix is those characters + ": ".
 */
export function splitSubjectPrefix(subject: string): { prefix: string; normalized: string } {
  const m = /^([^:\s\d]{1,3}):( *)/u.exec(subject);
  if (!m || [...m[1]].length > 3) return { prefix: '', normalized: subject };
  return { prefix: `${m[1]}: `, normalized: subject.slice(m[0].length) };
}

function mapImportance(header: (k: string) => string | undefined): number | undefined {
  const imp = header('importance')?.trim().toLowerCase();
  if (imp) {
    if (imp.startsWith('low')) return 0;
    if (imp.startsWith('normal')) return 1;
    if (imp.startsWith('high')) return 2;
  }
  const pri = header('priority')?.trim().toLowerCase();
  if (pri) {
    if (pri.startsWith('non-urgent')) return 0;
    if (pri.startsWith('normal')) return 1;
    if (pri.startsWith('urgent')) return 2;
  }
  const xp = /^\s*(\d)/.exec(header('x-priority') ?? '');
  if (xp) {
    const v = Number(xp[1]);
    if (v === 1 || v === 2) return 2;
    if (v === 3) return 1;
    if (v === 4 || v === 5) return 0;
  }
  const ms = header('x-msmail-priority')?.trim().toLowerCase();
  if (ms) {
    if (ms.startsWith('low')) return 0;
    if (ms.startsWith('normal')) return 1;
    if (ms.startsWith('high')) return 2;
  }
  return undefined;
}

/** Priority field → PidTagPriority (MS-OXCMAIL 2.2.3.2.7): urgent 1, normal 0, non-urgent -1. */
function mapPriority(value: string | undefined): number | undefined {
  const v = value?.trim().toLowerCase();
  if (!v) return undefined;
  if (v.startsWith('non-urgent')) return -1;
  if (v.startsWith('urgent')) return 1;
  if (v.startsWith('normal')) return 0;
  return undefined;
}

/** Sensitivity field → PidTagSensitivity (MS-OXCMAIL 2.2.3.2.8). */
function mapSensitivity(value: string | undefined): number | undefined {
  const v = value?.trim().toLowerCase();
  if (!v) return undefined;
  if (v === 'personal') return 1;
  if (v === 'private') return 2;
  if (v === 'company-confidential') return 3;
  if (v === 'normal') return 0;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Addresses

function cleanMailbox(name: string, address: string): Mailbox {
  return { name: name.replace(/[ \t\r\n]+/g, ' ').replace(/^[ \t]+|[ \t]+$/g, ''), address: address.trim() };
}

function firstMailbox(a: PostalMime.Address | undefined, field: string, rawValue: string | undefined, w: WarningSink): Mailbox | undefined {
  if (rawValue === undefined) return undefined;
  const list = a ? (a.group ? a.group : [a]) : [];
  const mb = list.find((m) => m.address) ?? list[0];
  if (!mb || !mb.address) {
    w.add('BadAddress', `${field}: no address in "${rawValue.slice(0, 80)}"`);
    const name = mb?.name || decodeEncodedWords(rawValue).text.trim();
    return name ? cleanMailbox(name, '') : undefined;
  }
  return cleanMailbox(mb.name, mb.address);
}

function flattenAddresses(list: PostalMime.Address[] | undefined, field: string, rawValue: string | undefined, w: WarningSink): Mailbox[] {
  const out: Mailbox[] = [];
  for (const a of list ?? []) {
    for (const mb of a.group ? a.group : [a]) {
      if (mb.address) out.push(cleanMailbox(mb.name, mb.address));
      else if (mb.name && !a.group) {
        w.add('BadAddress', `${field}: "${mb.name.slice(0, 80)}" has no address`);
        out.push(cleanMailbox(mb.name, ''));
      }
    }
  }
  if (rawValue !== undefined && rawValue.trim() && !out.length && !(list ?? []).some((a) => a.group)) {
    w.add('BadAddress', `${field}: no address in "${rawValue.slice(0, 80)}"`);
  }
  return out;
}

function setAddressProps(p: PropertyBag, role: 'SentRepresenting' | 'Sender', mb: Mailbox): void {
  const name = mb.name || mb.address;
  p.setTag(TAG[`PidTag${role}Name`], name);
  if (!mb.address) return;
  p.setTag(TAG[`PidTag${role}EmailAddress`], mb.address);
  p.setTag(TAG[`PidTag${role}AddressType`], 'SMTP');
  p.setTag(TAG[`PidTag${role}SmtpAddress`], mb.address);
  p.setTag(TAG[`PidTag${role}EntryId`], oneOffEntryId(name, 'SMTP', mb.address));
  p.setTag(TAG[`PidTag${role}SearchKey`], addressSearchKey('SMTP', mb.address));
}

/** A recipient row (MS-OXCMSG 2.2.1.x recipient properties; MS-OXCMAIL 2.2.3.2.3). */
function recipientRow(mb: Mailbox, type: number): PropertyBag {
  const r = new PropertyBag();
  const name = mb.name || mb.address;
  r.setTag(TAG.PidTagRecipientType, type);
  r.setTag(TAG.PidTagDisplayName, name);
  r.setTag(TAG.PidTagObjectType, MAPI_MAILUSER);
  r.setTag(TAG.PidTagDisplayType, DT_MAILUSER);
  r.setTag(TAG.PidTagRecipientFlags, RECIP_SENDABLE);
  if (mb.address) {
    r.setTag(TAG.PidTagAddressType, 'SMTP');
    r.setTag(TAG.PidTagEmailAddress, mb.address);
    r.setTag(TAG.PidTagSmtpAddress, mb.address);
    r.setTag(TAG.PidTagRecipientEntryId, oneOffEntryId(name, 'SMTP', mb.address));
    r.setTag(TAG.PidTagEntryId, oneOffEntryId(name, 'SMTP', mb.address));
    r.setTag(TAG.PidTagSearchKey, addressSearchKey('SMTP', mb.address));
  }
  return r;
}

// ---------------------------------------------------------------------------------------------
// Attachments

function nodeHeader(node: MimeNodeView, key: string): string | undefined {
  return node.headers.find((h) => h.key === key)?.value;
}

async function attachmentFromNode(
  node: MimeNodeView, n: number, htmlText: string | undefined, options: MimeConversionOptions,
  depth: number, maxDepth: number, w: WarningSink,
): Promise<MapiAttachment> {
  const a = new PropertyBag();
  const att: MapiAttachment = { properties: a };
  const mimeType = node.contentType.parsed.value || 'application/octet-stream';
  const bytes = nodeBytes(node);
  const rawName = node.contentDisposition.parsed.params.filename || node.contentType.parsed.params.name || '';
  let longName = rawName ? sanitizeFileName(decodeHeaderValue(rawName, `attachment ${n} file name`, w)) : '';

  const contentId = node.contentId?.trim().replace(/^<|>$/g, '');
  if (contentId) a.setTag(TAG.PidTagAttachContentId, contentId);
  const location = nodeHeader(node, 'content-location');
  if (location) a.setTag(TAG.PidTagAttachContentLocation, oneLine(location));
  a.setTag(TAG.PidTagAttachMimeTag, mimeType);

  const isMessage = mimeType === 'message/rfc822' || mimeType === 'message/global';
  if (isMessage && depth < maxDepth) {
    const inner = await convertAtDepth(bytes, options, depth + 1);
    for (const iw of inner.warnings) w.add(iw.code, `embedded message ${n} (depth ${depth + 1}): ${iw.message}`);
    att.embedded = inner.item;
    a.setTag(TAG.PidTagAttachMethod, AttachMethod.EmbeddedMessage);
    const subj = inner.item.properties.get(TAG.PidTagSubject.id);
    a.setTag(TAG.PidTagDisplayName, longName || (typeof subj === 'string' && subj) || 'Untitled');
    if (longName) {
      a.setTag(TAG.PidTagAttachLongFilename, longName);
      a.setTag(TAG.PidTagAttachFilename, shortFileName(longName));
      a.setTag(TAG.PidTagAttachExtension, fileExtension(longName));
    }
    return att;
  }
  if (isMessage) w.add('EmbeddedDepthExceeded', `attachment ${n}: message/rfc822 nested deeper than ${maxDepth}; kept as an .eml file`);

  if (!longName) longName = `ATT${String(n).padStart(5, '0')}${extensionForMimeType(mimeType)}`;
  a.setTag(TAG.PidTagAttachMethod, AttachMethod.ByValue);
  a.setTag(TAG.PidTagAttachDataBinary, bytes);
  a.setTag(TAG.PidTagAttachLongFilename, longName);
  a.setTag(TAG.PidTagAttachFilename, shortFileName(longName));
  const ext = fileExtension(longName);
  if (ext) a.setTag(TAG.PidTagAttachExtension, ext);
  a.setTag(TAG.PidTagDisplayName, longName);
  const charset = node.contentType.parsed.params.charset;
  if (charset && mimeType.startsWith('text/')) a.setTag(TAG.PidTagTextAttachmentCharset, charset);

  // Inline resources referenced from the HTML body (MS-OXCMAIL 2.2.4.2.1 / 2.2.4.1.3).
  const referenced = !!htmlText && (
    (!!contentId && htmlText.toLowerCase().includes(`cid:${contentId.toLowerCase()}`)) ||
    (!!location && htmlText.includes(oneLine(location)))
  );
  a.setTag(TAG.PidTagAttachFlags, referenced ? ATT_RENDERED_IN_BODY : 0);
  if (referenced) a.setTag(TAG.PidTagAttachmentHidden, true);
  return att;
}

function smimeAttachment(bytes: Uint8Array, mimeType: string, name: string): MapiAttachment {
  const a = new PropertyBag();
  a.setTag(TAG.PidTagAttachMethod, AttachMethod.ByValue);
  a.setTag(TAG.PidTagAttachDataBinary, bytes);
  a.setTag(TAG.PidTagAttachMimeTag, mimeType);
  a.setTag(TAG.PidTagAttachLongFilename, name);
  a.setTag(TAG.PidTagAttachFilename, shortFileName(name));
  a.setTag(TAG.PidTagAttachExtension, fileExtension(name));
  a.setTag(TAG.PidTagDisplayName, name);
  a.setTag(TAG.PidTagAttachFlags, 0);
  return { properties: a };
}

/** The multipart/signed MIME entity: the top-level Content-* fields, a blank line, the body bytes. */
function signedEntity(headers: { key: string; value: string }[], body: Uint8Array): Uint8Array {
  const lines = headers.filter((h) => h.key.startsWith('content-') || h.key === 'mime-version').map((h) => `${h.key}: ${h.value}\r\n`).join('');
  return concatBytes(utf8.encode(lines + '\r\n'), body);
}
