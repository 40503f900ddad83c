/**
 * Large mailboxes made from the SpamAssassin corpus for tests and benchmarks: each corpus message is
 * converted to a MapiItem once (convert/mime), then copies are made that differ only in their
 * Message-ID and subject, so every item of a mailbox of any size is unique and can be found again by
 * its key (PidTagInternetMessageId `<outport-copy-N@…>`).
 */
import type { MapiFolder, MapiItem } from '../mapi/item';
import { PropertyBag } from '../mapi/item';
import { TAG } from '../mapi/tags';
import { convertMime } from '../convert/mime';
import { corpusMessages } from './corpus';

/** A converted corpus message and the corpus folder it came from. */
export interface CorpusItem {
  readonly group: string;
  readonly id: string;
  readonly item: MapiItem;
}

/**
 * Converts the corpus (or its first `limit` messages) to MapiItems, one convertMime each.
 * @throws CorpusMissingError when the corpus package is not installed */
export async function corpusItems(limit = Infinity): Promise<CorpusItem[]> {
  const out: CorpusItem[] = [];
  for await (const m of corpusMessages(limit)) out.push({ group: m.group, id: m.id, item: (await convertMime(m.raw)).item });
  return out;
}

/** The Message-ID of copy number `n` (its unique key): `<outport-copy-N@replica.outport.invalid>`. */
export function copyMessageId(n: number): string {
  return `<outport-copy-${n}@replica.outport.invalid>`;
}

/** The copy number in a Message-ID made by {@link copyMessageId}, or undefined. */
export function copyNumberOf(messageId: string | undefined): number | undefined {
  const m = /^<outport-copy-(\d+)@replica\.outport\.invalid>$/.exec(messageId ?? '');
  return m ? Number(m[1]) : undefined;
}

/** Case-insensitive "start of a line, then `name:`" searches, one compiled per header name. */
const headerStart = new Map<string, RegExp>();
function headerStartRe(name: string): RegExp {
  let re = headerStart.get(name);
  if (!re) {
    re = new RegExp(`(?:^|\\r\\n)(${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:)`, 'i');
    headerStart.set(name, re);
  }
  return re;
}

/**
 * Sets header `name` in a CRLF header block: the first occurrence (with its folded continuation
 * lines) is replaced by `name: value(old)`, where `old` is the unfolded old value (the lines joined
 * by one space, trimmed) or undefined; when absent, the header is added at the end, before any
 * trailing empty lines. Lines are separated by CRLF only (a lone LF does not end a line).
 */
export function rewriteHeader(headers: string, name: string, value: (old: string | undefined) => string): string {
  const m = headerStartRe(name).exec(headers);
  if (!m) {
    // before the trailing empty lines: strip trailing CRLFs, then put them back after the header
    let end = headers.length;
    while (end >= 2 && headers.charCodeAt(end - 2) === 13 && headers.charCodeAt(end - 1) === 10) end -= 2;
    if (end === 0) return `${name}: ${value(undefined)}\r\n${headers}`;
    return `${headers.slice(0, end)}\r\n${name}: ${value(undefined)}${headers.slice(end)}`;
  }
  const at = m.index + m[0].length - m[1].length;
  // the header ends at the first CRLF not followed by a space or tab (folding, RFC 5322 2.2.3)
  let last = headers.indexOf('\r\n', at);
  while (last >= 0 && last + 2 < headers.length && (headers.charCodeAt(last + 2) === 32 || headers.charCodeAt(last + 2) === 9)) last = headers.indexOf('\r\n', last + 2);
  const stop = last < 0 ? headers.length : last;
  const old = headers.slice(at + m[1].length, stop).replaceAll('\r\n', ' ').trim();
  return `${headers.slice(0, at)}${name}: ${value(old)}${headers.slice(stop)}`;
}

/**
 * Copy number `n` of `item`: a new property bag with PidTagInternetMessageId = copyMessageId(n) and
 * " [#n]" appended to PidTagSubject, PidTagNormalizedSubject and PidTagConversationTopic; the
 * Message-ID and Subject lines of PidTagTransportMessageHeaders are changed the same way (readers
 * such as readpst print those headers). Recipients and attachments are shared with `item` (the
 * writer does not change them), so a copy costs only its property bag.
 */
export function replicateItem(item: MapiItem, n: number): MapiItem {
  const props = item.properties.clone();
  const suffix = ` [#${n}]`;
  for (const def of [TAG.PidTagSubject, TAG.PidTagNormalizedSubject, TAG.PidTagConversationTopic]) {
    const v = props.get(def.id);
    props.setTag(def, (typeof v === 'string' ? v : '') + suffix);
  }
  props.setTag(TAG.PidTagInternetMessageId, copyMessageId(n));
  const headers = props.get(TAG.PidTagTransportMessageHeaders.id);
  if (typeof headers === 'string') {
    const withId = rewriteHeader(headers, 'Message-ID', () => copyMessageId(n));
    props.setTag(TAG.PidTagTransportMessageHeaders, rewriteHeader(withId, 'Subject', (old) => (old ?? '') + suffix));
  }
  return { properties: props, recipients: item.recipients, attachments: item.attachments, associated: false };
}

/** Folder names of a replicated mailbox: a few top-level folders and subfolders, like a real one. */
export const REPLICA_FOLDERS: readonly (readonly MapiFolder[])[] = [
  [{ displayName: 'Inbox' }],
  [{ displayName: 'Inbox' }, { displayName: 'Lists' }],
  [{ displayName: 'Inbox' }, { displayName: 'Lists' }, { displayName: 'Spam Reports' }],
  [{ displayName: 'Sent Items' }],
  [{ displayName: 'Archive' }],
  [{ displayName: 'Archive' }, { displayName: '2002' }],
  [{ displayName: 'Archive' }, { displayName: '2003' }],
  [{ displayName: 'Projects' }, { displayName: 'Outport' }],
];

/**
 * The folder of copy `n` of a source whose corpus group is the `groupIndex`-th group seen, in a
 * mailbox replicated from `sourceCount` sources: each round over the sources moves every group on
 * to the next folder, so all folders fill.
 */
export function replicaFolderPath(groupIndex: number, n: number, sourceCount: number): readonly MapiFolder[] {
  const round = Math.floor(n / sourceCount);
  return REPLICA_FOLDERS[(groupIndex + round) % REPLICA_FOLDERS.length];
}

/**
 * An endless (or `count`-long) stream of unique copies of `source`, round-robin over the sources,
 * each placed in a folder of {@link REPLICA_FOLDERS} by {@link replicaFolderPath}.
 * Copy numbers start at `firstCopy` (default 0).
 */
export function* replicaStream(source: readonly CorpusItem[], count = Infinity, firstCopy = 0): Generator<{ n: number; folderPath: readonly MapiFolder[]; item: MapiItem }> {
  if (source.length === 0) throw new RangeError('replicaStream needs at least one source item');
  const groupIndex = new Map<string, number>();
  for (const s of source) if (!groupIndex.has(s.group)) groupIndex.set(s.group, groupIndex.size);
  for (let i = 0; i < count; i++) {
    const n = firstCopy + i;
    const s = source[n % source.length];
    const folderPath = replicaFolderPath(groupIndex.get(s.group)!, n, source.length);
    yield { n, folderPath, item: replicateItem(s.item, n) };
  }
}
