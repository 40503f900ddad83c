import iconv from 'iconv-lite';
import { convertMime, MAX_EMBEDDED_MESSAGE_DEPTH, MIME_FALLBACK_DATE } from '../../../worker-service/src/convert/mime';
import { parseOneOffEntryId } from '../../../worker-service/src/convert/mime/address';
import { TAG } from '../../../worker-service/src/mapi/tags';
import { NAMED, PS_INTERNET_HEADERS } from '../../../worker-service/src/mapi/named';
import { dateFromFiletime } from '../../../worker-service/src/mapi/types';
import { b64, crlf, prop, subjectOf } from './helpers';

const enc = (charset: string, text: string) => `=?${charset}?B?${b64(iconv.encode(text, charset))}?=`;

function simple(subjectLine: string, extra: string[] = []): Buffer {
  return crlf('From: Alice <alice@example.com>', 'To: bob@example.org', `Subject: ${subjectLine}`, 'Date: Tue, 06 Aug 2002 11:48:09 +0100', ...extra, '', 'body', '');
}

describe('subject (RFC 2047 in any charset, MS-OXCMAIL 2.2.3.2.6)', () => {
  test.each([
    ['ISO-8859-1 Q', '=?ISO-8859-1?Q?Caf=E9_cr=E8me?=', 'Café crème'],
    ['UTF-8 B', `=?UTF-8?B?${b64(Buffer.from('Grüße 👋', 'utf8'))}?=`, 'Grüße 👋'],
    ['KOI8-R', enc('KOI8-R', 'Привет, мир'), 'Привет, мир'],
    ['Shift_JIS', enc('Shift_JIS', '日本語の件名'), '日本語の件名'],
    ['GB2312', enc('GB2312', '中文邮件'), '中文邮件'],
    ['UTF-7 (iconv-lite only)', `=?UTF-7?Q?${iconv.encode('日本', 'utf-7').toString('latin1')}?=`, '日本'],
    ['mixed words and text', `Re: ${enc('KOI8-R', 'да')} and =?iso-8859-1?q?=E9t=E9?=`, 'Re: да and été'],
  ])('%s', async (_name, header, expected) => {
    const { item, warnings } = await convertMime(simple(header));
    expect(subjectOf(item)).toBe(expected);
    expect(warnings).toEqual([]);
  });

  test('a multi-byte character split across two encoded words survives', async () => {
    const bytes = Buffer.from('€uro', 'utf8'); // € is 3 bytes
    const h = `=?UTF-8?B?${b64(bytes.subarray(0, 2))}?= =?UTF-8?B?${b64(bytes.subarray(2))}?=`;
    expect(subjectOf((await convertMime(simple(h))).item)).toBe('€uro');
  });

  test('prefix and normalized subject', async () => {
    const { item } = await convertMime(simple('RE:   Quarterly numbers'));
    expect(prop(item.properties, TAG.PidTagSubject)).toBe('RE:   Quarterly numbers');
    expect(prop(item.properties, TAG.PidTagSubjectPrefix)).toBe('RE: ');
    expect(prop(item.properties, TAG.PidTagNormalizedSubject)).toBe('Quarterly numbers');
    expect(prop(item.properties, TAG.PidTagConversationTopic)).toBe('Quarterly numbers');
    const none = (await convertMime(simple('Ticket 12: done'))).item;
    expect(prop(none.properties, TAG.PidTagSubjectPrefix)).toBe('');
    expect(prop(none.properties, TAG.PidTagNormalizedSubject)).toBe('Ticket 12: done');
  });

  test('unknown charset: decoded as windows-1252 with a warning', async () => {
    const { item, warnings } = await convertMime(simple('=?x-no-such-cs?Q?caf=E9?='));
    expect(subjectOf(item)).toBe('café');
    expect(warnings.map((w) => w.code)).toContain('UnknownCharset');
  });
});

describe('addresses (MS-OXCMAIL 2.2.3.2.1-2.2.3.2.4)', () => {
  const msg = crlf(
    'From: =?UTF-8?Q?J=C3=BCrgen?= <Juergen@Example.com>',
    'Sender: List Bot <bot@lists.example.com>',
    'To: "Bob B." <bob@example.org>, carol@example.net',
    'Cc: Team: dave@example.com, Erin <erin@example.com>;',
    'Bcc: frank@example.com',
    'Reply-To: Replies <replies@example.com>, other@example.com',
    'Subject: hi', 'Date: Tue, 06 Aug 2002 11:48:09 +0100', '', 'x', '');

  test('From → PidTagSentRepresenting*, Sender → PidTagSender*', async () => {
    const p = (await convertMime(msg)).item.properties;
    expect(prop(p, TAG.PidTagSentRepresentingName)).toBe('Jürgen');
    expect(prop(p, TAG.PidTagSentRepresentingEmailAddress)).toBe('Juergen@Example.com');
    expect(prop(p, TAG.PidTagSentRepresentingAddressType)).toBe('SMTP');
    expect(prop(p, TAG.PidTagSentRepresentingSmtpAddress)).toBe('Juergen@Example.com');
    expect(Buffer.from(prop(p, TAG.PidTagSentRepresentingSearchKey) as Uint8Array).toString('latin1')).toBe('SMTP:JUERGEN@EXAMPLE.COM\0');
    expect(parseOneOffEntryId(prop(p, TAG.PidTagSentRepresentingEntryId) as Uint8Array)).toEqual({
      displayName: 'Jürgen', addressType: 'SMTP', emailAddress: 'Juergen@Example.com', flags: 0x8001,
    });
    expect(prop(p, TAG.PidTagSenderName)).toBe('List Bot');
    expect(prop(p, TAG.PidTagSenderEmailAddress)).toBe('bot@lists.example.com');
  });

  test('Sender defaults to From', async () => {
    const p = (await convertMime(simple('x'))).item.properties;
    expect(prop(p, TAG.PidTagSenderEmailAddress)).toBe('alice@example.com');
    expect(prop(p, TAG.PidTagSenderName)).toBe('Alice');
  });

  test('To/Cc/Bcc rows, groups flattened, display strings', async () => {
    const item = (await convertMime(msg)).item;
    const rows = item.recipients.map((r) => [prop(r, TAG.PidTagRecipientType), prop(r, TAG.PidTagDisplayName), prop(r, TAG.PidTagSmtpAddress)]);
    expect(rows).toEqual([
      [1, 'Bob B.', 'bob@example.org'], [1, 'carol@example.net', 'carol@example.net'],
      [2, 'dave@example.com', 'dave@example.com'], [2, 'Erin', 'erin@example.com'], [3, 'frank@example.com', 'frank@example.com'],
    ]);
    const r0 = item.recipients[0];
    expect(prop(r0, TAG.PidTagAddressType)).toBe('SMTP');
    expect(prop(r0, TAG.PidTagEmailAddress)).toBe('bob@example.org');
    expect(prop(r0, TAG.PidTagObjectType)).toBe(6);
    expect(prop(r0, TAG.PidTagDisplayType)).toBe(0);
    expect(prop(r0, TAG.PidTagRecipientFlags)).toBe(1);
    expect(Buffer.from(prop(r0, TAG.PidTagSearchKey) as Uint8Array).toString('latin1')).toBe('SMTP:BOB@EXAMPLE.ORG\0');
    expect(parseOneOffEntryId(prop(r0, TAG.PidTagRecipientEntryId) as Uint8Array)?.emailAddress).toBe('bob@example.org');
    expect(prop(item.properties, TAG.PidTagDisplayTo)).toBe('Bob B.; carol@example.net');
    expect(prop(item.properties, TAG.PidTagDisplayCc)).toBe('dave@example.com; Erin');
    expect(prop(item.properties, TAG.PidTagDisplayBcc)).toBe('frank@example.com');
  });

  test('Reply-To → names and a FlatEntryList of one-off EntryIDs', async () => {
    const p = (await convertMime(msg)).item.properties;
    expect(prop(p, TAG.PidTagReplyRecipientNames)).toBe('Replies;other@example.com');
    const fel = Buffer.from(prop(p, TAG.PidTagReplyRecipientEntries) as Uint8Array);
    expect(fel.readUInt32LE(0)).toBe(2);
    expect(fel.readUInt32LE(4)).toBe(fel.length - 8);
    const size1 = fel.readUInt32LE(8);
    expect(parseOneOffEntryId(fel.subarray(12, 12 + size1))?.emailAddress).toBe('replies@example.com');
    const second = 12 + size1 + ((4 - (size1 % 4)) % 4);
    expect(parseOneOffEntryId(fel.subarray(second + 4, second + 4 + fel.readUInt32LE(second)))?.displayName).toBe('other@example.com');
  });
});

describe('dates, ids, flags, headers', () => {
  test('Date → submit time; first Received → delivery time', async () => {
    const m = crlf('Received: from b by c; Wed, 7 Aug 2002 02:00:00 -0400 (EDT)', 'Received: from a by b; Tue, 6 Aug 2002 23:00:00 +0000',
      'From: a@b.c', 'Subject: s', 'Date: Tue, 06 Aug 2002 11:48:09 +0100', '', 'x');
    const p = (await convertMime(m)).item.properties;
    expect(dateFromFiletime(prop(p, TAG.PidTagClientSubmitTime) as bigint).toISOString()).toBe('2002-08-06T10:48:09.000Z');
    expect(dateFromFiletime(prop(p, TAG.PidTagMessageDeliveryTime) as bigint).toISOString()).toBe('2002-08-07T06:00:00.000Z');
    expect(prop(p, TAG.PidTagCreationTime)).toBe(prop(p, TAG.PidTagMessageDeliveryTime));
    expect(prop(p, TAG.PidTagLastModificationTime)).toBe(prop(p, TAG.PidTagMessageDeliveryTime));
  });

  test('obsolete date forms: 2-digit year, zone names, no zone (UTC, not local time)', async () => {
    const conv = async (d: string) => {
      const raw = crlf('From: a@b.c', 'Subject: s', `Date: ${d}`, '', 'x');
      return dateFromFiletime(prop((await convertMime(raw)).item.properties, TAG.PidTagClientSubmitTime) as bigint).toISOString();
    };
    expect(await conv('Mon, 2 Sep 02 9:05:00 PDT')).toBe('2002-09-02T16:05:00.000Z');
    expect(await conv('2 Sep 1999 09:05 GMT')).toBe('1999-09-02T09:05:00.000Z');
    expect(await conv('Mon, 2 Sep 2002 09:05:00')).toBe('2002-09-02T09:05:00.000Z');
  });

  test('no date at all: fixed fallback and a warning', async () => {
    const { item, warnings } = await convertMime(crlf('From: a@b.c', 'Subject: s', '', 'x'));
    expect(prop(item.properties, TAG.PidTagClientSubmitTime)).toBe(116444736000000000n);
    expect(MIME_FALLBACK_DATE.getTime()).toBe(0);
    expect(warnings.map((w) => w.code)).toEqual(['NoDate']);
    const fixed = new Date('2020-01-02T03:04:05Z');
    const again = await convertMime(crlf('From: a@b.c', 'Subject: s', '', 'x'), { fallbackDate: fixed });
    expect(dateFromFiletime(prop(again.item.properties, TAG.PidTagMessageDeliveryTime) as bigint)).toEqual(fixed);
  });

  test('bad date warns and falls back to Received', async () => {
    const { item, warnings } = await convertMime(crlf('Received: by x; 6 Aug 2002 11:00:00 +0000', 'From: a@b.c', 'Subject: s', 'Date: yesterday-ish', '', 'x'));
    expect(warnings.map((w) => w.code)).toEqual(['BadDate']);
    expect(dateFromFiletime(prop(item.properties, TAG.PidTagClientSubmitTime) as bigint).toISOString()).toBe('2002-08-06T11:00:00.000Z');
  });

  test('Message-ID, In-Reply-To, References, importance, priority, sensitivity, list and content headers', async () => {
    const p = (await convertMime(simple('s', [
      'Message-ID: <id1@example.com>', 'In-Reply-To: <id0@example.com>', 'References: <a@x>\r\n <id0@example.com>',
      'X-Priority: 1 (Highest)', 'Priority: non-urgent', 'Sensitivity: Company-Confidential',
      'List-Unsubscribe: <mailto:leave@lists.example.com>', 'List-Help: <mailto:help@lists.example.com>',
      'List-Subscribe: <mailto:join@lists.example.com>', 'List-Id: Example list <l.example.com>',
      'Content-Class: urn:content-classes:message', 'Content-Type: text/plain; charset=us-ascii',
      'Disposition-Notification-To: alice@example.com',
    ]))).item.properties;
    expect(prop(p, TAG.PidTagInternetMessageId)).toBe('<id1@example.com>');
    expect(prop(p, TAG.PidTagInReplyToId)).toBe('<id0@example.com>');
    expect(prop(p, TAG.PidTagInternetReferences)).toBe('<a@x> <id0@example.com>');
    expect(prop(p, TAG.PidTagImportance)).toBe(0); // Priority wins over X-Priority (MS-OXCMAIL 2.2.3.2.5 order)
    expect(prop(p, TAG.PidTagPriority)).toBe(-1);
    expect(prop(p, TAG.PidTagSensitivity)).toBe(3);
    expect(prop(p, TAG.PidTagReadReceiptRequested)).toBe(true);
    expect(prop(p, TAG.PidTagListUnsubscribe)).toBe('<mailto:leave@lists.example.com>');
    expect(prop(p, TAG.PidTagListHelp)).toBe('<mailto:help@lists.example.com>');
    expect(prop(p, TAG.PidTagListSubscribe)).toBe('<mailto:join@lists.example.com>');
    expect(p.getNamed({ guid: PS_INTERNET_HEADERS, name: 'list-id' })?.value).toBe('Example list <l.example.com>');
    expect(p.getNamed(NAMED.PidNameContentClass.key)?.value).toBe('urn:content-classes:message');
    expect(p.getNamed(NAMED.PidNameContentType.key)?.value).toBe('text/plain; charset=us-ascii');
    const hi = (await convertMime(simple('s', ['Importance: High', 'X-Priority: 5']))).item.properties;
    expect(prop(hi, TAG.PidTagImportance)).toBe(2);
  });

  test('transport headers keep the header block (CRLF), without the mbox envelope line', async () => {
    const raw = Buffer.from('From alice@example.com Tue Aug  6 11:51:02 2002\nFrom: a@b.c\nSubject: s\n  folded\nDate: Tue, 06 Aug 2002 11:48:09 +0100\n\nbody\n', 'latin1');
    const p = (await convertMime(raw)).item.properties;
    expect(prop(p, TAG.PidTagTransportMessageHeaders)).toBe('From: a@b.c\r\nSubject: s\r\n  folded\r\nDate: Tue, 06 Aug 2002 11:48:09 +0100\r\n');
    expect(prop(p, TAG.PidTagSubject)).toBe('s  folded'); // RFC 5322 2.2.3: unfolding removes only the CRLF
    expect(prop(p, TAG.PidTagMessageClass)).toBe('IPM.Note');
    expect(prop(p, TAG.PidTagMessageFlags)).toBe(1);
    expect(prop(p, TAG.PidTagHasAttachments)).toBe(false);
    expect(p.has(TAG.PidTagMessageSize.id)).toBe(false);
  });
});

describe('bodies (MS-OXCMAIL 2.2.3.3)', () => {
  test('plain + HTML alternative: PidTagBody, PidTagHtml bytes in the declared charset, code pages', async () => {
    const html = iconv.encode('<p>Привет</p>', 'koi8-r');
    const m = Buffer.concat([crlf(
      'From: a@b.c', 'Subject: s', 'Date: Tue, 06 Aug 2002 11:48:09 +0100', 'MIME-Version: 1.0',
      'Content-Type: multipart/alternative; boundary="b1"', '', '--b1', 'Content-Type: text/plain; charset=iso-8859-1',
      'Content-Transfer-Encoding: quoted-printable', '', 'caf=E9', '--b1', 'Content-Type: text/html; charset=koi8-r',
      'Content-Transfer-Encoding: 8bit', '', ''), html, crlf('', '--b1--', '')]);
    const { item, warnings } = await convertMime(m);
    expect(warnings).toEqual([]);
    const p = item.properties;
    expect(prop(p, TAG.PidTagBody)).toBe('café');
    expect(Buffer.from(prop(p, TAG.PidTagHtml) as Uint8Array).subarray(0, html.length)).toEqual(html);
    expect(prop(p, TAG.PidTagInternetCodepage)).toBe(20866);
    expect(prop(p, TAG.PidTagNativeBody)).toBe(3);
    expect(item.attachments).toHaveLength(0);
  });

  test('charset=euc-kr: decoded as windows-949 (WHATWG EUC-KR) and recorded as code page 949, not the strict 51949', async () => {
    // 0xB0A1 is KS X 1001 (가); 0x8141 and 0xC652 are UHC-only syllables (갂, 힣) that strict EUC-KR
    // (51949, and Node's ICU TextDecoder) lacks: Node drops 0x81 and turns 0xC652 into U+FFFD "R".
    const html = Buffer.from([...Buffer.from('<p>'), 0xb0, 0xa1, 0x81, 0x41, 0xc6, 0x52, ...Buffer.from('</p>')]);
    const m = Buffer.concat([crlf('From: a@b.c', 'Subject: s', 'Date: Tue, 06 Aug 2002 11:48:09 +0100', 'Content-Type: text/html; charset="euc-kr"',
      'Content-Transfer-Encoding: 8bit', '', ''), html]);
    const p = (await convertMime(m)).item.properties;
    expect(Buffer.from(prop(p, TAG.PidTagHtml) as Uint8Array).subarray(0, html.length)).toEqual(html);
    expect(prop(p, TAG.PidTagInternetCodepage)).toBe(949);
    expect(prop(p, TAG.PidTagBody)).toBe('\uAC00\uAC02\uD7A3');
  });

  test('HTML only: PidTagBody rendered from the HTML', async () => {
    const m = crlf('From: a@b.c', 'Subject: s', 'Date: Tue, 06 Aug 2002 11:48:09 +0100', 'Content-Type: text/html; charset=utf-8', '',
      '<html><head><style>p{}</style></head><body><p>Hello&nbsp;<b>world</b></p><p>line&#32;2 &amp; more</p></body></html>');
    const p = (await convertMime(m)).item.properties;
    expect(prop(p, TAG.PidTagBody)).toBe('Hello world\n\nline 2 & more');
    expect(prop(p, TAG.PidTagInternetCodepage)).toBe(65001);
  });

  test('plain only: native body 1 and the body charset code page', async () => {
    const m = crlf('From: a@b.c', 'Subject: s', 'Date: Tue, 06 Aug 2002 11:48:09 +0100', 'Content-Type: text/plain; charset=windows-1251', '', '\xcf\xf0\xe8\xe2\xe5\xf2');
    const p = (await convertMime(m)).item.properties;
    expect(prop(p, TAG.PidTagBody)).toBe('Привет\n'); // single part: the final line break is the body's
    expect(prop(p, TAG.PidTagNativeBody)).toBe(1);
    expect(prop(p, TAG.PidTagMessageCodepage)).toBe(1251);
  });
});

describe('attachments (MS-OXCMAIL 2.2.4)', () => {
  const png = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489', 'hex');
  const pdf = Buffer.from('%PDF-1.4\n\x00\x01\x02\xff binary\r\n', 'latin1');

  test('by value: exact bytes, RFC 2231 continuation name, 8.3 name, extension, MIME tag', async () => {
    const m = crlf('From: a@b.c', 'Subject: s', 'Date: Tue, 06 Aug 2002 11:48:09 +0100', 'Content-Type: multipart/mixed; boundary=XX', '',
      '--XX', 'Content-Type: text/plain', '', 'see attached', '--XX', 'Content-Type: application/pdf',
      "Content-Disposition: attachment; filename*0*=UTF-8''%E2%82%AC%20rates%20;", ' filename*1*=Q3%20report.pdf',
      'Content-Transfer-Encoding: base64', '', b64(pdf), '--XX', 'Content-Type: text/csv; charset=utf-8; name="=?UTF-8?Q?d=C3=A4ten.csv?="',
      'Content-Disposition: attachment', '', 'a,b', '--XX--', '');
    const { item, warnings } = await convertMime(m);
    expect(warnings).toEqual([]);
    expect(prop(item.properties, TAG.PidTagBody)).toBe('see attached');
    expect(item.attachments).toHaveLength(2);
    const a = item.attachments[0].properties;
    expect(prop(a, TAG.PidTagAttachMethod)).toBe(1);
    expect(Buffer.from(prop(a, TAG.PidTagAttachDataBinary) as Uint8Array)).toEqual(pdf);
    expect(prop(a, TAG.PidTagAttachLongFilename)).toBe('€ rates Q3 report.pdf');
    expect(prop(a, TAG.PidTagAttachFilename)).toBe('RATESQ~1.PDF');
    expect(prop(a, TAG.PidTagAttachExtension)).toBe('.pdf');
    expect(prop(a, TAG.PidTagAttachMimeTag)).toBe('application/pdf');
    expect(prop(a, TAG.PidTagDisplayName)).toBe('€ rates Q3 report.pdf');
    expect(a.has(TAG.PidTagAttachSize.id) || a.has(TAG.PidTagRenderingPosition.id) || a.has(TAG.PidTagAttachNumber.id)).toBe(false);
    const csv = item.attachments[1].properties;
    expect(prop(csv, TAG.PidTagAttachLongFilename)).toBe('däten.csv');
    expect(prop(csv, TAG.PidTagTextAttachmentCharset)).toBe('utf-8');
    expect(prop(item.properties, TAG.PidTagMessageFlags)).toBe(0x11);
    expect(prop(item.properties, TAG.PidTagHasAttachments)).toBe(true);
  });

  test('inline cid image in multipart/related: content id, rendered-in-body, hidden', async () => {
    const m = crlf('From: a@b.c', 'Subject: s', 'Date: Tue, 06 Aug 2002 11:48:09 +0100', 'Content-Type: multipart/related; boundary=R', '',
      '--R', 'Content-Type: text/html; charset=us-ascii', '', '<img src="cid:logo.123@example.com">', '--R',
      'Content-Type: image/png', 'Content-ID: <logo.123@example.com>', 'Content-Location: logo.png', 'Content-Transfer-Encoding: base64', '', b64(png),
      '--R', 'Content-Type: image/gif; name=unused.gif', 'Content-ID: <other@example.com>', 'Content-Transfer-Encoding: base64', '', b64('GIF89a'), '--R--', '');
    const { item } = await convertMime(m);
    expect(item.attachments).toHaveLength(2);
    const [logo, unused] = item.attachments.map((x) => x.properties);
    expect(prop(logo, TAG.PidTagAttachContentId)).toBe('logo.123@example.com');
    expect(prop(logo, TAG.PidTagAttachContentLocation)).toBe('logo.png');
    expect(prop(logo, TAG.PidTagAttachFlags)).toBe(4);
    expect(prop(logo, TAG.PidTagAttachmentHidden)).toBe(true);
    expect(Buffer.from(prop(logo, TAG.PidTagAttachDataBinary) as Uint8Array)).toEqual(png);
    expect(prop(logo, TAG.PidTagAttachLongFilename)).toBe('ATT00001.png');
    expect(prop(unused, TAG.PidTagAttachFlags)).toBe(0);
    expect(unused.has(TAG.PidTagAttachmentHidden.id)).toBe(false);
  });

  function nested(levels: number): Buffer {
    let inner = crlf('From: deep@example.com', `Subject: level ${levels}`, 'Date: Tue, 06 Aug 2002 11:48:09 +0100', '', `innermost body`, '');
    for (let i = levels - 1; i >= 0; i--) {
      inner = Buffer.concat([crlf('From: a@example.com', `Subject: level ${i}`, 'Date: Tue, 06 Aug 2002 11:48:09 +0100',
        `Content-Type: multipart/mixed; boundary=L${i}`, '', `--L${i}`, 'Content-Type: text/plain', '', `body ${i}`, `--L${i}`,
        'Content-Type: message/rfc822', 'Content-Disposition: attachment', '', ''), inner, crlf('', `--L${i}--`, '')]);
    }
    return inner;
  }

  test('message/rfc822 three deep → embedded messages (AttachMethod 5)', async () => {
    const { item, warnings } = await convertMime(nested(3));
    expect(warnings).toEqual([]);
    let cur = item;
    for (let level = 1; level <= 3; level++) {
      expect(cur.attachments).toHaveLength(1);
      const att = cur.attachments[0];
      expect(prop(att.properties, TAG.PidTagAttachMethod)).toBe(5);
      expect(prop(att.properties, TAG.PidTagAttachMimeTag)).toBe('message/rfc822');
      expect(att.properties.has(TAG.PidTagAttachDataBinary.id)).toBe(false);
      expect(prop(att.properties, TAG.PidTagDisplayName)).toBe(`level ${level}`);
      cur = att.embedded!;
      expect(subjectOf(cur)).toBe(`level ${level}`);
    }
    expect(prop(cur.properties, TAG.PidTagBody)).toBe('innermost body\n');
  });

  test('nesting past the limit: kept as an .eml by value, with a warning', async () => {
    const depth = MAX_EMBEDDED_MESSAGE_DEPTH + 1;
    const { item, warnings } = await convertMime(nested(depth));
    expect(warnings.map((w) => w.code)).toEqual(['EmbeddedDepthExceeded']);
    let cur = item;
    for (let i = 0; i < MAX_EMBEDDED_MESSAGE_DEPTH; i++) cur = cur.attachments[0].embedded!;
    const last = cur.attachments[0].properties;
    expect(prop(last, TAG.PidTagAttachMethod)).toBe(1);
    expect(prop(last, TAG.PidTagAttachLongFilename)).toBe('ATT00001.eml');
    expect(Buffer.from(prop(last, TAG.PidTagAttachDataBinary) as Uint8Array).toString('latin1')).toContain(`Subject: level ${depth}`);
    const shallow = await convertMime(nested(2), { maxEmbeddedDepth: 0 });
    expect(prop(shallow.item.attachments[0].properties, TAG.PidTagAttachMethod)).toBe(1);
  });

  test('S/MIME opaque → IPM.Note.SMIME with the p7m as attachment', async () => {
    const m = crlf('From: a@b.c', 'Subject: s', 'Date: Tue, 06 Aug 2002 11:48:09 +0100',
      'Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m', 'Content-Transfer-Encoding: base64', '', b64(pdf));
    const { item } = await convertMime(m);
    expect(prop(item.properties, TAG.PidTagMessageClass)).toBe('IPM.Note.SMIME');
    expect(Buffer.from(prop(item.attachments[0].properties, TAG.PidTagAttachDataBinary) as Uint8Array)).toEqual(pdf);
  });

  test('S/MIME clear-signed → IPM.Note.SMIME.MultipartSigned, readable body, entity as attachment', async () => {
    const m = crlf('From: a@b.c', 'Subject: s', 'Date: Tue, 06 Aug 2002 11:48:09 +0100',
      'Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256; boundary=S', '',
      '--S', 'Content-Type: text/plain', '', 'signed text', '--S', 'Content-Type: application/pkcs7-signature; name=smime.p7s',
      'Content-Transfer-Encoding: base64', '', b64('sig'), '--S--', '');
    const { item } = await convertMime(m);
    expect(prop(item.properties, TAG.PidTagMessageClass)).toBe('IPM.Note.SMIME.MultipartSigned');
    expect(prop(item.properties, TAG.PidTagBody)).toBe('signed text');
    expect(item.attachments).toHaveLength(1);
    expect(prop(item.attachments[0].properties, TAG.PidTagAttachMimeTag)).toBe('multipart/signed');
    expect(Buffer.from(prop(item.attachments[0].properties, TAG.PidTagAttachDataBinary) as Uint8Array).toString('latin1')).toMatch(/^content-type: multipart\/signed;[^\r]*\r\n\r\n--S\r\n/);
  });
});

describe('broken mail converts leniently', () => {
  const codes = async (raw: Uint8Array) => (await convertMime(raw)).warnings.map((w) => w.code);

  test('no headers at all: whole input is the body', async () => {
    const { item, warnings } = await convertMime(Buffer.from('just some text\nand more\n'));
    expect(warnings.map((w) => w.code)).toEqual(expect.arrayContaining(['NoHeaders', 'NoSubject', 'NoDate']));
    expect(prop(item.properties, TAG.PidTagBody)).toBe('just some text\nand more\n');
  });

  test('empty input', async () => {
    const { item, warnings } = await convertMime(new Uint8Array(0));
    expect(warnings.map((w) => w.code)).toEqual(expect.arrayContaining(['Empty', 'NoSubject', 'NoDate']));
    expect(prop(item.properties, TAG.PidTagMessageClass)).toBe('IPM.Note');
  });

  test('8-bit header bytes are read in the declared charset', async () => {
    const raw = crlf('From: Andr\xe9 <andre@example.com>', 'Subject: Caf\xe9 \xe0 la carte', 'Date: Tue, 06 Aug 2002 11:48:09 +0100',
      'Content-Type: text/plain; charset=iso-8859-1', '', 'x');
    const { item, warnings } = await convertMime(raw);
    expect(warnings.map((w) => w.code)).toEqual(['EightBitHeaders']);
    expect(subjectOf(item)).toBe('Café à la carte');
    expect(prop(item.properties, TAG.PidTagSentRepresentingName)).toBe('André');
  });

  test('unknown body charset', async () => {
    const raw = crlf('From: a@b.c', 'Subject: s', 'Date: Tue, 06 Aug 2002 11:48:09 +0100', 'Content-Type: text/html; charset=x-bogus-42', '', '<p>caf\xe9</p>');
    const { item, warnings } = await convertMime(raw);
    expect(warnings.map((w) => w.code)).toEqual(['UnknownCharset']);
    expect(Buffer.from(prop(item.properties, TAG.PidTagHtml) as Uint8Array).toString('utf8')).toContain('café');
    expect(prop(item.properties, TAG.PidTagInternetCodepage)).toBe(65001);
  });

  test('truncated multipart keeps what arrived', async () => {
    const raw = crlf('From: a@b.c', 'Subject: s', 'Date: Tue, 06 Aug 2002 11:48:09 +0100', 'Content-Type: multipart/mixed; boundary=T', '',
      '--T', 'Content-Type: text/plain', '', 'first part', '--T', 'Content-Type: application/octet-stream', 'Content-Transfer-Encoding: base64', '', 'AAEC');
    const { item, warnings } = await convertMime(raw);
    expect(warnings.map((w) => w.code)).toEqual(['TruncatedMultipart']);
    expect(prop(item.properties, TAG.PidTagBody)).toBe('first part');
    expect(Buffer.from(prop(item.attachments[0].properties, TAG.PidTagAttachDataBinary) as Uint8Array)).toEqual(Buffer.from([0, 1, 2]));
  });

  test('unparseable From', async () => {
    expect(await codes(crlf('From: undisclosed', 'Subject: s', 'Date: Tue, 06 Aug 2002 11:48:09 +0100', '', 'x'))).toEqual(['BadAddress']);
  });

  test('binary garbage never throws and is deterministic', async () => {
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    for (let k = 0; k < 50; k++) {
      const bytes = Uint8Array.from({ length: 200 + k * 37 }, rnd);
      if (k % 3 === 0) bytes.set(Buffer.from('Content-Type: multipart/mixed; boundary=Z\r\n\r\n--Z\r\n'), 0);
      const a = await convertMime(bytes);
      const b = await convertMime(bytes);
      expect([...a.item.properties.entries()]).toEqual([...b.item.properties.entries()]);
      expect(a.warnings.length).toBeGreaterThan(0);
    }
  });

  test('a non-Uint8Array input is a programming error', async () => {
    await expect(convertMime('From: x' as unknown as Uint8Array)).rejects.toThrow(TypeError);
  });
});
