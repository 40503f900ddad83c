/**
 * sandbox/replicate.ts: the corpus copies that tests, the sandbox tenant and the benchmarks use.
 * rewriteHeader is checked against the line-by-line definition it replaced (split on CRLF, first
 * line starting with `name:` case-insensitively, folded lines joined by a space), on fixed cases and
 * on fast-check header blocks.
 */
import fc from 'fast-check';
import { PropertyBag } from '../../worker-service/src/mapi/item';
import { TAG } from '../../worker-service/src/mapi/tags';
import { PropType } from '../../worker-service/src/mapi/types';
import { copyMessageId, rewriteHeader, replicateItem } from '../../worker-service/src/sandbox/replicate';

/** The definition: what rewriteHeader did before it searched the block instead of splitting it. */
function byLines(headers: string, name: string, value: (old: string | undefined) => string): string {
  const lines = headers.split('\r\n');
  const lower = name.toLowerCase() + ':';
  const at = lines.findIndex((l) => l.toLowerCase().startsWith(lower));
  if (at < 0) {
    let end = lines.length;
    while (end > 0 && lines[end - 1] === '') end--;
    lines.splice(end, 0, `${name}: ${value(undefined)}`);
    return lines.join('\r\n');
  }
  let last = at;
  while (last + 1 < lines.length && /^[ \t]/.test(lines[last + 1])) last++;
  const old = lines.slice(at, last + 1).join(' ').slice(lower.length).trim();
  lines.splice(at, last - at + 1, `${name}: ${value(old)}`);
  return lines.join('\r\n');
}

const mark = (old: string | undefined) => `<${old ?? 'none'}>`;

describe('rewriteHeader', () => {
  const cases: [string, string][] = [
    ['', 'Subject'],
    ['\r\n', 'Subject'],
    ['From: a@b\r\nSubject: hi\r\nTo: c@d\r\n\r\n', 'Subject'],
    ['From: a@b\r\nsubject:  folded\r\n  twice\r\n\tthrice\r\nTo: c@d\r\n', 'Subject'],
    ['Subject: last line, no CRLF', 'Subject'],
    ['Subject: ends folded\r\n ', 'Subject'],
    ['X-Subject: not this\r\nSubject: this\r\nSubject: not the second', 'Subject'],
    ['From: a@b\r\nTo: c@d\r\n\r\n\r\n', 'Message-ID'],
    ['From: a@b\nMessage-ID: <lone LF is not a line break>', 'Message-ID'],
    ['MESSAGE-ID: <upper@case>\r\n', 'Message-ID'],
    ['Message-ID:<no-space@x>', 'Message-ID'],
  ];
  it.each(cases)('%j, %s: as the line-by-line definition', (headers, name) => {
    expect(rewriteHeader(headers, name, mark)).toBe(byLines(headers, name, mark));
  });

  it('agrees with the line-by-line definition on random header blocks', () => {
    const piece = fc.constantFrom('Subject', 'subject', 'SUBJECT', 'Message-ID', 'X-Subject', 'Subjects', ':', ' ', '\t', '\r\n', '\r', '\n', 'a', 'ä', 'İ', '<id@x>', 'Received: by x');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), fc.constantFrom('Subject', 'Message-ID'), (parts, name) => {
        const headers = parts.join('');
        expect(rewriteHeader(headers, name, mark)).toBe(byLines(headers, name, mark));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('replicateItem', () => {
  it('changes only the copy\'s own bag: subject, Message-ID and transport headers; the source is untouched', () => {
    const source = new PropertyBag()
      .setTag(TAG.PidTagSubject, 'Hello')
      .setTag(TAG.PidTagInternetMessageId, '<orig@x>')
      .setTag(TAG.PidTagTransportMessageHeaders, 'Subject: Hello\r\nMessage-ID: <orig@x>\r\n\r\n')
      .setNamed({ guid: '00020329-0000-0000-C000-000000000046', name: 'Keywords' }, PropType.MultipleString, ['a']);
    const item = { properties: source, recipients: [], attachments: [], associated: false };
    const copy = replicateItem(item, 7);
    expect(copy.properties.get(TAG.PidTagSubject.id)).toBe('Hello [#7]');
    expect(copy.properties.get(TAG.PidTagInternetMessageId.id)).toBe(copyMessageId(7));
    expect(copy.properties.get(TAG.PidTagTransportMessageHeaders.id)).toBe(`Subject: Hello [#7]\r\nMessage-ID: ${copyMessageId(7)}\r\n\r\n`);
    expect(copy.properties.getNamed({ guid: '{00020329-0000-0000-c000-000000000046}', name: 'Keywords' })?.value).toEqual(['a']);
    expect(source.get(TAG.PidTagSubject.id)).toBe('Hello');
    expect(source.get(TAG.PidTagInternetMessageId.id)).toBe('<orig@x>');
    expect(source.get(TAG.PidTagNormalizedSubject.id)).toBeUndefined();
  });
});
