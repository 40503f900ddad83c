/**
 * What an Internet message SAYS, according to an independent MIME parser (mailparser 3, not the
 * postal-mime our converter uses), and the rules by which a PST reader's view of the converted
 * message is compared with it. Where two correct parsers legitimately read broken mail differently,
 * a named rule decides (docs/pst-oracles.md lists them); every rule use is counted, and a field that
 * no rule explains is a mismatch.
 */
import { createHash } from 'node:crypto';
import { simpleParser, type AddressObject, type ParsedMail, type SimpleParserOptions } from 'mailparser';

/** A mailbox: display name (may be "") and address (may be ""). */
export interface Mailbox {
  name: string;
  address: string;
}

/** A recipient: MAPI recipient type (1 To, 2 Cc) and its mailbox. */
export interface Recipient extends Mailbox {
  type: number;
}

/** The fields the corpus oracle compares, as the MIME says them. */
export interface ExpectedMessage {
  subject: string;
  from?: Mailbox;
  sender?: Mailbox;
  recipients: Recipient[];
  /** Date field as mailparser parses it (undefined when absent); `dateText` is the raw field. */
  date?: Date;
  dateText?: string;
  /** The date of the topmost Received field (text after its last ";"), parsed like Date. */
  receivedText?: string;
  text?: string;
  html?: string;
  attachments: ExpectedAttachment[];
  /** True when the message is multipart/signed with a PKCS#7 signature (S/MIME). */
  smimeSigned: boolean;
  /** True when the body holds bare CRs (a CR not followed by LF; RFC 5322 2.3 forbids them). */
  bareCr?: boolean;
  /**
   * mailparser's reading of the same message after an RFC-neutral rewrite of a construct it reads
   * differently from the RFC (rules inline-rfc822, invalid-qp-escape, flowed-stuffed-blank). Used
   * only when the message as written does not compare equal.
   */
  alternatives?: { rule: RuleName; expected: ExpectedMessage }[];
}

/** An attachment as mailparser sees it. */
export interface ExpectedAttachment {
  contentType: string;
  filename?: string;
  sha256: string;
  size: number;
  /** For message/rfc822: the inner message's subject. */
  innerSubject?: string;
}

/** A PST reader's view of a converted message, in the same shape. */
export interface ActualMessage {
  subject: string;
  from: Mailbox;
  sender: Mailbox;
  recipients: Recipient[];
  submitTime?: Date;
  deliveryTime?: Date;
  body?: string;
  html?: string;
  attachments: ActualAttachment[];
}

/** An attachment as a PST reader sees it: bytes (SHA-256) or an embedded message. */
export type ActualAttachment =
  | { kind: 'data'; sha256: string; size: number; mimeTag?: string; text?: string }
  | { kind: 'message'; subject: string }
  /** An embedded message the reader reports but cannot open (pst-extractor 1.12: also on Outlook's own files). */
  | { kind: 'message'; subject: undefined };

function flatten(a: AddressObject | AddressObject[] | undefined): Mailbox[] {
  const out: Mailbox[] = [];
  for (const ao of a ? (Array.isArray(a) ? a : [a]) : []) {
    for (const x of ao.value) {
      for (const mb of x.group ?? [x]) out.push({ name: mb.name ?? '', address: mb.address ?? '' });
    }
  }
  return out;
}

/** Header block and body of a raw message (as latin1 text, byte for byte). */
function splitRaw(text: string): [string, string] {
  const m = /\r?\n\r?\n/.exec(text);
  return m ? [text.slice(0, m.index + m[0].length), text.slice(m.index + m[0].length)] : [text, ''];
}

/**
 * RFC-neutral rewrites of constructs mailparser reads against the RFC; each yields the same
 * message as the RFC defines it, so mailparser's reading of the rewrite is the RFC's reading.
 *  - inline-rfc822: a body part "Content-Type: message/rfc822" with "Content-Disposition: inline"
 *    → "attachment". MS-OXCMAIL 2.2.3.4.1: a message/rfc822 part becomes an embedded message
 *    (attach method 5) whatever its disposition; mailparser folds an inline one into its text.
 *  - invalid-qp-escape: in a quoted-printable body, an "=" followed by neither two hex digits nor a
 *    line end → "=3D" (RFC 2045 6.7 note 1: a robust decoder keeps such an "=" literally).
 *  - flowed-stuffed-blank: in a format=flowed body, a line of one space → an empty line (RFC 3676
 *    4.5: the stuffed space is deleted before the test for a flowed line, so " " is an empty fixed
 *    line; mailparser joins it, as a flowed line, to the next).
 */
function rfcNeutralRewrites(raw: Uint8Array): { rule: RuleName; raw: Buffer }[] {
  const text = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('latin1');
  const [head, body] = splitRaw(text);
  const out: { rule: RuleName; raw: Buffer }[] = [];
  // Part header blocks: a boundary line, then header lines up to an empty line.
  const inline = body.replace(/(^|\n)(--[^\r\n]*\r?\n)((?:[^\r\n]+\r?\n)+)/g, (all, nl: string, boundary: string, headers: string) =>
    /^content-type:\s*message\/rfc822\b/im.test(headers) && /^content-disposition:\s*inline\b/im.test(headers)
      ? nl + boundary + headers.replace(/^(content-disposition:\s*)inline\b/im, '$1attachment') : all);
  if (inline !== body) out.push({ rule: 'inline-rfc822', raw: Buffer.from(head + inline, 'latin1') });
  if (/^content-transfer-encoding:\s*quoted-printable\b/im.test(text)) {
    const qp = body.replace(/=(?![0-9A-Fa-f]{2}|[ \t]*\r?\n|[ \t]*$)/g, '=3D');
    if (qp !== body) out.push({ rule: 'invalid-qp-escape', raw: Buffer.from(head + qp, 'latin1') });
  }
  if (/format\s*=\s*"?flowed/i.test(text)) {
    const flowed = body.replace(/^ (\r?)$/gm, '$1');
    if (flowed !== body) out.push({ rule: 'flowed-stuffed-blank', raw: Buffer.from(head + flowed, 'latin1') });
  }
  return out;
}

/** Parses `raw` with mailparser and extracts what the oracle compares. */
export async function expectedFromMime(raw: Uint8Array, rewrite = true): Promise<ExpectedMessage> {
  const p: ParsedMail = await simpleParser(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength), { skipTextToHtml: true, skipImageLinks: true, keepDeliveryStatus: true } as SimpleParserOptions);
  const headerText = (key: string): string | undefined => {
    const line = p.headerLines.find((h) => h.key === key);
    return line ? line.line.slice(line.line.indexOf(':') + 1).replace(/\r?\n/g, '').trim() : undefined;
  };
  const from = flatten(p.from)[0];
  const senderHeader = p.headers.get('sender') as AddressObject | undefined;
  const sender = flatten(senderHeader)[0] ?? from;
  const recipients: Recipient[] = [];
  for (const mb of flatten(p.to)) recipients.push({ type: 1, ...mb });
  for (const mb of flatten(p.cc)) recipients.push({ type: 2, ...mb });
  const received = headerText('received');
  const attachments: ExpectedAttachment[] = [];
  for (const a of p.attachments) {
    const e: ExpectedAttachment = { contentType: a.contentType, filename: a.filename, sha256: createHash('sha256').update(a.content).digest('hex'), size: a.content.length };
    if (a.contentType === 'message/rfc822') e.innerSubject = (await simpleParser(a.content)).subject ?? '';
    attachments.push(e);
  }
  const ct = p.headers.get('content-type') as { value?: string; params?: Record<string, string> } | undefined;
  return {
    subject: p.subject ?? '',
    from,
    sender,
    recipients: recipients.filter((r) => r.name || r.address),
    date: p.headers.has('date') ? p.date : undefined,
    dateText: headerText('date'),
    receivedText: received !== undefined && received.includes(';') ? received.slice(received.lastIndexOf(';') + 1).trim() : undefined,
    text: p.text,
    html: typeof p.html === 'string' ? p.html : undefined,
    attachments,
    smimeSigned: ct?.value === 'multipart/signed' && /pkcs7-signature/i.test(ct.params?.protocol ?? ''),
    bareCr: /\r(?!\n)/.test(splitRaw(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('latin1'))[1]),
    alternatives: rewrite ? await Promise.all(rfcNeutralRewrites(raw).map(async (r) => ({ rule: r.rule, expected: await expectedFromMime(r.raw, false) }))) : undefined,
  };
}

/** Names of the equivalence rules (docs/pst-oracles.md explains each). */
export type RuleName =
  | 'whitespace' | 'undecodable-8bit' | 'two-digit-year' | 'date-not-rfc5322' | 'date-unparseable'
  | 'address-not-rfc5322' | 'html-rendered-body' | 'multiple-text-parts' | 'alternative-rendering'
  | 'smime-signed' | 'empty-part' | 'bare-cr' | 'inline-rfc822' | 'invalid-qp-escape' | 'flowed-stuffed-blank'
  | 'embedded-unreadable';

/** Outcome of comparing one message: fields compared, rules used, mismatches (each a sentence). */
export interface Comparison {
  fields: number;
  rules: Partial<Record<RuleName, number>>;
  mismatches: string[];
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Text equality under the rules "whitespace" and "undecodable-8bit"; returns the rule used, true, or false. */
export function textEquivalent(expected: string, actual: string): true | false | RuleName {
  if (expected === actual) return true;
  const ws = (s: string) => s.replace(/\r\n?/g, '\n').replace(/[ \t]+/g, ' ').replace(/ ?\n ?/g, '\n').replace(/\s+$/, '').replace(/^\s+/, '');
  const e = ws(expected), a = ws(actual);
  if (e === a) return 'whitespace';
  if (expected.includes('\uFFFD')) {
    // mailparser read undeclared or mislabelled 8-bit bytes as UTF-8 (U+FFFD and stray non-ASCII
    // characters); we read them in the declared or sniffed code page. Compared: the ASCII skeleton,
    // each run of non-ASCII characters (with the blanks inside it) standing for one token.
    const skeleton = (s: string) => s.replace(/[^\x00-\x7f]+(?:\s+[^\x00-\x7f]+)*/g, '\u0000');
    if (skeleton(e) === skeleton(a)) return 'undecodable-8bit';
  }
  return false;
}

/** RFC 5322 3.3 date-time, strictly (day-of-week optional, 4-digit year, numeric zone or the obs-zone names). */
const RFC5322_DATE = /^(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),\s*)?\d{1,2}\s+(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\s+\d{4}\s+\d{2}:\d{2}(?::\d{2})?\s+(?:[+-]\d{4}|UT|GMT|[ECMP][SD]T)(?:\s*\([^()]*\))?$/i;

/** RFC 5322 4.3: a 2-digit year 00-49 is 20xx, 50-99 is 19xx; a 3-digit year adds 1900. */
function windowYear(d: Date, text: string): Date {
  const m = /\b\d{1,2}\s+[A-Za-z]{3}\s+(\d{2,3}|0\d{3})\s/.exec(text);
  if (!m) return d;
  const y = Number(m[1]);
  const full = m[1].length >= 3 ? 1900 + y : y < 50 ? 2000 + y : 1900 + y; // "0102": a Y2K-bug year, 1900 + 102
  const out = new Date(d.getTime());
  out.setUTCFullYear(full + (d.getUTCFullYear() - y));
  return out;
}

function sameSecond(a: Date | undefined, b: Date | undefined): boolean {
  return !!a && !!b && Math.floor(a.getTime() / 1000) === Math.floor(b.getTime() / 1000);
}

/**
 * Compares what a PST reader shows (`actual`) with what the MIME says (`expected`), field by field:
 * subject, From (name, address), Sender (name, address), To/Cc recipients (type, name, address),
 * sent time, received time, body (plain text, or the HTML when the body is HTML), every
 * attachment (SHA-256 of the bytes; embedded messages by subject).
 */
export function compareMessage(where: string, expected: ExpectedMessage, actual: ActualMessage): Comparison {
  const c = compareAsWritten(where, expected, actual);
  if (!c.mismatches.length) return c;
  // A construct mailparser reads against the RFC: compare with its reading of the RFC-neutral
  // rewrite (rfcNeutralRewrites), which must then explain every mismatch.
  for (const alt of expected.alternatives ?? []) {
    const c2 = compareAsWritten(where, { ...alt.expected, bareCr: expected.bareCr }, actual);
    if (!c2.mismatches.length) { c2.rules[alt.rule] = (c2.rules[alt.rule] ?? 0) + 1; return c2; }
  }
  return c;
}

function compareAsWritten(where: string, expected: ExpectedMessage, actual: ActualMessage): Comparison {
  const c: Comparison = { fields: 0, rules: {}, mismatches: [] };
  const use = (r: RuleName) => { c.rules[r] = (c.rules[r] ?? 0) + 1; };
  const text = (field: string, e: string, a: string, allowed?: () => RuleName | undefined) => {
    c.fields++;
    const r = textEquivalent(e, a);
    if (r === true) return;
    if (r !== false) { use(r); return; }
    const rule = allowed?.();
    if (rule) { use(rule); return; }
    c.mismatches.push(`${where}: ${field}: MIME ${JSON.stringify(e).slice(0, 160)} PST ${JSON.stringify(a).slice(0, 160)}`);
  };
  // An address that is not RFC 5322 (8-bit, encoded words or a bare "@" inside the local part) is
  // read differently by every parser; accepted when ours keeps the raw text's characters.
  // Also when ours holds raw text that is no addr-spec (blanks or an encoded word in the local part:
  // "Undisclosed Recipients@host", "=?iso-2022-jp?B?…?=@host"), which mailparser splits or decodes.
  const badAddress = (e: Mailbox | undefined, a?: Mailbox) => () => ((e && (/[^\x00-\x7f]|=\?|"|^@|@.*@/.test(e.address) || !e.address)) || (a && /^[^()<>]*(\s|=\?)[^()<>]*@[^\s()<>]+$/.test(a.address))) ? 'address-not-rfc5322' as const : undefined;

  text('subject', expected.subject, actual.subject);
  for (const [field, e, a] of [['from', expected.from, actual.from], ['sender', expected.sender, actual.sender]] as const) {
    const ename = e ? (e.name || e.address) : '';
    text(`${field} name`, ename, a.name, badAddress(e, a));
    text(`${field} address`, e?.address ?? '', a.address, badAddress(e, a));
  }

  c.fields++;
  const er = expected.recipients.map((r) => `${r.type}|${r.name || r.address}|${r.address}`);
  const ar = actual.recipients.map((r) => `${r.type}|${r.name}|${r.address}`);
  if (er.length !== ar.length) {
    if (expected.recipients.some((r) => badAddress(r)())) use('address-not-rfc5322');
    else c.mismatches.push(`${where}: recipients: MIME ${JSON.stringify(er).slice(0, 300)} PST ${JSON.stringify(ar).slice(0, 300)}`);
  } else {
    for (let i = 0; i < er.length; i++) {
      const e = expected.recipients[i], a = actual.recipients[i];
      c.fields += 3;
      if (e.type !== a.type) c.mismatches.push(`${where}: recipient ${i} type: MIME ${e.type} PST ${a.type}`);
      text(`recipient ${i} name`, e.name || e.address, a.name, badAddress(e, a));
      text(`recipient ${i} address`, e.address, a.address, badAddress(e, a));
    }
  }

  // Sent time: the Date field. Received time: the topmost Received field's date.
  c.fields++;
  const parse = (t: string | undefined) => (t === undefined ? undefined : new Date(t.replace(/\s*\([^()]*\)\s*$/, '')));
  let date = expected.date;
  if (date && expected.dateText && /\b\d{1,2}\s+[A-Za-z]{3}\s+(\d{2,3}|0\d{3})\s/.test(expected.dateText)) { date = windowYear(date, expected.dateText); use('two-digit-year'); }
  const received = parse(expected.receivedText);
  const receivedOk = received && !isNaN(received.getTime()) ? received : undefined;
  if (expected.dateText !== undefined && sameSecond(date, actual.submitTime)) { /* equal */ }
  else if (expected.dateText !== undefined && !RFC5322_DATE.test(expected.dateText)) use('date-not-rfc5322');
  else if (expected.dateText === undefined && sameSecond(receivedOk, actual.submitTime)) use('date-unparseable');
  else c.mismatches.push(`${where}: sent time: MIME ${expected.dateText} (${date?.toISOString()}) PST ${actual.submitTime?.toISOString()}`);
  c.fields++;
  if (receivedOk && sameSecond(receivedOk, actual.deliveryTime)) { /* equal */ }
  else if (!receivedOk && sameSecond(actual.deliveryTime, actual.submitTime)) use('date-unparseable');
  else if (expected.receivedText !== undefined && !RFC5322_DATE.test(expected.receivedText)) use('date-not-rfc5322');
  else c.mismatches.push(`${where}: received time: MIME ${expected.receivedText} PST ${actual.deliveryTime?.toISOString()}`);

  // Body. An HTML body is compared as HTML: each side renders its own plain text from it.
  if (expected.html !== undefined && actual.html !== undefined) {
    text('html body', expected.html, actual.html, () => {
      // mailparser appends every further inline text part to its HTML ("<br/>" + the part as
      // HTML); MS-OXCMAIL keeps the first HTML part as the body and the others as attachments:
      // ours must be a prefix, followed only by those "<br/>"-joined parts.
      const n = (s: string) => s.replace(/\r\n?/g, '\n').replace(/[ \t]+/g, ' ').replace(/ ?\n ?/g, '\n').trim();
      const e = n(expected.html!), a = n(actual.html!);
      if (e.startsWith(a) && /^\s*<br\/>/.test(e.slice(a.length)) && actual.attachments.length > expected.attachments.length) return 'multiple-text-parts';
      return undefined;
    });
    use('html-rendered-body');
  } else {
    const e = expected.text ?? '', a = actual.body ?? '';
    text('body', e, a, () => {
      // mailparser joins every inline text/plain part with "\n"; MS-OXCMAIL keeps the first as the
      // body and the others as attachments: ours must be a prefix at a part boundary.
      const n = (s: string) => s.replace(/\r\n?/g, '\n').replace(/[ \t]+/g, ' ').replace(/ ?\n ?/g, '\n').trim();
      if (n(e).startsWith(n(a)) && actual.attachments.length > expected.attachments.length) return 'multiple-text-parts';
      // Bare CRs (RFC 5322 2.3 forbids them): "\r\r\n" is one line end to one parser and two to
      // another; compared with every run of line ends (and blank lines) as one line end.
      const lines = (s: string) => n(s).replace(/\n+/g, '\n');
      if (expected.bareCr && lines(e) === lines(a)) return 'bare-cr';
      return undefined;
    });
  }

  // Attachments.
  let exp = expected.attachments;
  if (expected.smimeSigned) {
    c.fields++;
    // MS-OXOSMIME 2.1.3.2.1: the whole multipart/signed entity is one attachment (smime.p7m).
    if (actual.attachments.length === 1 && actual.attachments[0].kind === 'data' && actual.attachments[0].mimeTag === 'multipart/signed') use('smime-signed');
    else c.mismatches.push(`${where}: S/MIME signed: expected one multipart/signed attachment, PST has ${actual.attachments.length}`);
    return c;
  }
  const alt = exp.filter((a) => /^text\/(enriched|richtext)$/.test(a.contentType) && !a.filename);
  if (alt.length) { exp = exp.filter((a) => !alt.includes(a)); use('alternative-rendering'); }
  const act = [...actual.attachments];
  for (const e of exp) {
    c.fields++;
    const i = act.findIndex((a) => (e.contentType === 'message/rfc822' ? a.kind === 'message' && (a.subject === undefined || textEquivalent(e.innerSubject ?? '', a.subject) !== false) : a.kind === 'data' && a.sha256 === e.sha256));
    if (i >= 0) {
      const a = act[i];
      if (a.kind === 'message' && a.subject === undefined) use('embedded-unreadable');
      act.splice(i, 1);
      continue;
    }
    c.mismatches.push(`${where}: attachment ${e.contentType} ${e.filename ?? ''} (${e.size} bytes, sha256 ${e.sha256.slice(0, 16)}) not in the PST`);
  }
  for (const a of act) {
    // Extra parts in ours: inline text parts that mailparser folded into its text (see body), or
    // empty parts mailparser drops.
    if (a.kind === 'data' && a.size === 0) { use('empty-part'); continue; }
    if (a.kind === 'data' && a.text !== undefined && (expected.text ?? '').replace(/\s+/g, ' ').includes(a.text.replace(/\s+/g, ' ').trim())) { use('multiple-text-parts'); continue; }
    c.mismatches.push(`${where}: PST has an attachment the MIME lacks: ${a.kind === 'data' ? `${a.mimeTag} ${a.size} bytes` : `message "${a.subject}"`}`);
  }
  return c;
}
