/**
 * RFC 5322 comments in address fields (RFC 5322 3.2.2: nested comments and quoted-pairs), which
 * postal-mime's tokenizer ends at the first ")" — e.g. SpamAssassin easy-ham-1/00495
 * `To: harley@argote.ch ((Robert Harley))` once became name "(Robert Harley" and address
 * "harley@argote.ch)".
 */
import { convertMime } from '../../../worker-service/src/convert/mime';
import { needsCommentAwareParse, parseAddressList } from '../../../worker-service/src/convert/mime/address-list';
import { TAG } from '../../../worker-service/src/mapi/tags';
import { crlf, prop } from './helpers';

describe('needsCommentAwareParse', () => {
  test.each([
    ['harley@argote.ch ((Robert Harley))', true],
    ['a@b.c (A \\(x\\) B)', true],
    ['a@b.c (A (nested) B), "Q, R" <q@r.s>', true],
    ['harley@argote.ch (Robert Harley)', false],
    ['"Quoted (not a comment)" <q@r.s>', false],
    ['"back\\\\slash" <q@r.s>', false],
    ['Name <n@m.o>', false],
  ])('%s → %s', (value, expected) => expect(needsCommentAwareParse(value)).toBe(expected));
});

describe('parseAddressList', () => {
  test.each([
    ['harley@argote.ch ((Robert Harley))', [{ name: '(Robert Harley)', address: 'harley@argote.ch' }]],
    ['a@b.c (A (nested) B), "Q, R" <q@r.s>', [{ name: 'A (nested) B', address: 'a@b.c' }, { name: 'Q, R', address: 'q@r.s' }]],
    ['a@b.c (A \\) B)', [{ name: 'A ) B', address: 'a@b.c' }]],
    ['Name (c (d)) <n@m.o>', [{ name: 'Name', address: 'n@m.o' }]],
    ['x@y.z (One) (Two (2))', [{ name: 'One Two (2)', address: 'x@y.z' }]],
    ['u@v.w ((=?iso-8859-1?q?J=F6rg?=))', [{ name: '(Jörg)', address: 'u@v.w' }]],
    ['team: a@b.c ((A)), d@e.f;, g@h.i', [{ name: 'team', group: [{ name: '(A)', address: 'a@b.c' }, { name: '', address: 'd@e.f' }] }, { name: '', address: 'g@h.i' }]],
  ])('%s', (value, expected) => expect(parseAddressList(value)).toEqual(expected));
});

describe('convertMime with nested comments in address fields', () => {
  test('From, To and Cc keep the address and take the comment text as the display name', async () => {
    const raw = crlf('From: harley@argote.ch ((Robert Harley))', 'To: bob@example.org ((Bob (B.) Smith)), carol@example.org', 'Cc: "Dave" <dave@example.org> (x (y))',
      'Subject: nested', 'Date: Tue, 06 Aug 2002 11:48:09 +0100', '', 'body', '');
    const { item, warnings } = await convertMime(raw);
    expect(prop(item.properties, TAG.PidTagSentRepresentingName)).toBe('(Robert Harley)');
    expect(prop(item.properties, TAG.PidTagSentRepresentingSmtpAddress)).toBe('harley@argote.ch');
    expect(prop(item.properties, TAG.PidTagSenderSmtpAddress)).toBe('harley@argote.ch');
    expect(item.recipients.map((r) => [r.get(TAG.PidTagRecipientType.id), r.get(TAG.PidTagDisplayName.id), r.get(TAG.PidTagSmtpAddress.id)])).toEqual([
      [1, '(Bob (B.) Smith)', 'bob@example.org'],
      [1, 'carol@example.org', 'carol@example.org'],
      [2, 'Dave', 'dave@example.org'],
    ]);
    expect(warnings).toEqual([]);
  });

  test('a single-level comment is still read by postal-mime, unchanged', async () => {
    const { item } = await convertMime(crlf('From: harley@argote.ch (Robert Harley)', 'To: x@y.z', 'Subject: s', '', 'b', ''));
    expect(prop(item.properties, TAG.PidTagSentRepresentingName)).toBe('Robert Harley');
    expect(prop(item.properties, TAG.PidTagSentRepresentingSmtpAddress)).toBe('harley@argote.ch');
  });
});
