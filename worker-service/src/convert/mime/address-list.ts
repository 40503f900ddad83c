/**
 * RFC 5322 address lists whose comments postal-mime cannot tokenise. postal-mime's address
 * tokenizer ends a comment at its first ")" and knows no quoted-pair inside one, so
 * `harley@argote.ch ((Robert Harley))` became name "(Robert Harley" and address
 * "harley@argote.ch)". RFC 5322 3.2.2: a comment is "(" *([FWS] ccontent) [FWS] ")" where ccontent
 * is ctext, a quoted-pair or a nested comment. This parser is used for a header value holding such a
 * comment (see {@link needsCommentAwareParse}); every other value keeps postal-mime's reading.
 *
 * Display names follow the same conventions as postal-mime (and mailparser): the phrase before an
 * angle-addr; for an addr-spec with no phrase, the text of its comments (the obsolete
 * "address (Name)" form), a nested comment's parentheses kept as text.
 */
import { decodeEncodedWords } from './headers';

/** A mailbox or a group, shaped like postal-mime's Address. */
export interface ParsedAddress {
  name: string;
  address?: string;
  group?: { name: string; address: string }[];
}

type Token = { t: 'atom' | 'quoted' | 'comment' | 'angle' | ',' | ':' | ';'; v: string };

/** True when `value` has a comment that nests another comment or holds a quoted-pair. */
export function needsCommentAwareParse(value: string): boolean {
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\\') { if (depth > 0) return true; i++; continue; }
    if (quoted) { if (c === '"') quoted = false; continue; }
    if (c === '"' && depth === 0) quoted = true;
    else if (c === '(') { if (depth > 0) return true; depth++; }
    else if (c === ')' && depth > 0) depth--;
  }
  return false;
}

function tokenize(value: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < value.length) {
    const c = value[i];
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') { i++; continue; }
    if (c === ',' || c === ':' || c === ';') { out.push({ t: c, v: c }); i++; continue; }
    if (c === '"') {
      let v = '';
      for (i++; i < value.length && value[i] !== '"'; i++) v += value[i] === '\\' && i + 1 < value.length ? value[++i] : value[i];
      i++;
      out.push({ t: 'quoted', v });
      continue;
    }
    if (c === '(') {
      // Nested comments: the outer comment's text keeps the inner parentheses.
      let depth = 1, v = '';
      for (i++; i < value.length && depth > 0; i++) {
        const d = value[i];
        if (d === '\\' && i + 1 < value.length) { v += value[++i]; continue; }
        if (d === '(') depth++;
        else if (d === ')' && --depth === 0) break;
        v += d;
      }
      i++;
      out.push({ t: 'comment', v });
      continue;
    }
    if (c === '<') {
      const end = value.indexOf('>', i + 1);
      out.push({ t: 'angle', v: value.slice(i + 1, end < 0 ? value.length : end) });
      i = end < 0 ? value.length : end + 1;
      continue;
    }
    let v = '';
    while (i < value.length && !' \t\r\n,:;"(<'.includes(value[i])) v += value[i++];
    if (v === '>') continue;
    out.push({ t: 'atom', v });
  }
  return out;
}

const squash = (s: string) => s.replace(/\s+/g, ' ').trim();

function mailbox(tokens: Token[]): { name: string; address: string } | undefined {
  if (!tokens.length) return undefined;
  const angle = tokens.findIndex((t) => t.t === 'angle');
  const comments = tokens.filter((t) => t.t === 'comment').map((t) => t.v);
  let address: string, phrase: string[];
  if (angle >= 0) {
    address = tokens[angle].v.trim();
    phrase = tokens.slice(0, angle).filter((t) => t.t === 'atom' || t.t === 'quoted').map((t) => t.v);
  } else {
    const at = tokens.findIndex((t) => t.t === 'atom' && t.v.includes('@'));
    address = at >= 0 ? tokens[at].v : '';
    phrase = tokens.filter((t, k) => k !== at && (t.t === 'atom' || t.t === 'quoted')).map((t) => t.v);
  }
  const raw = phrase.length ? phrase.join(' ') : comments.join(' ');
  return { name: squash(decodeEncodedWords(raw).text), address };
}

/** Parses an address-list (RFC 5322 3.4) with comments read per RFC 5322 3.2.2. */
export function parseAddressList(value: string): ParsedAddress[] {
  const out: ParsedAddress[] = [];
  let cur: Token[] = [];
  let group: { name: string; members: { name: string; address: string }[] } | undefined;
  const flush = () => {
    const mb = mailbox(cur);
    cur = [];
    if (!mb || (!mb.address && !mb.name)) return;
    if (group) group.members.push(mb);
    else out.push(mb);
  };
  for (const t of tokenize(value)) {
    if (t.t === ',') flush();
    else if (t.t === ':' && !group && !cur.some((x) => x.t === 'angle')) {
      group = { name: squash(decodeEncodedWords(cur.filter((x) => x.t === 'atom' || x.t === 'quoted').map((x) => x.v).join(' ')).text), members: [] };
      cur = [];
    } else if (t.t === ';' && group) {
      flush();
      out.push({ name: group.name, group: group.members });
      group = undefined;
    } else cur.push(t);
  }
  flush();
  if (group) out.push({ name: group.name, group: group.members });
  return out;
}
