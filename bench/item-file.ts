/**
 * A file of converted corpus items for the benchmarks: each MapiItem is stored once with
 * v8.serialize and read back one at a time by offset, so a benchmark child process holds an index
 * (16 bytes an item) instead of 6,046 MapiItems (~100 MB of heap): the peak RSS it measures is the
 * writer's, not the source's.
 */
import { closeSync, openSync, readFileSync, readSync, writeFileSync, writeSync } from 'node:fs';
import { deserialize, serialize } from 'node:v8';
import { PropertyBag, type MapiAttachment, type MapiItem } from '../worker-service/src/mapi/item';
import type { NamedPropertyKey } from '../worker-service/src/mapi/named';
import type { PropType, PropValue } from '../worker-service/src/mapi/types';
import type { CorpusItem } from '../worker-service/src/sandbox/replicate';

type PlainProp = [id: number, type: PropType, value: PropValue] | [key: NamedPropertyKey, type: PropType, value: PropValue];
interface PlainItem { p: PlainProp[]; r: PlainProp[][]; a: { p: PlainProp[]; e?: PlainItem }[]; fai: boolean }
interface PlainRecord { group: string; id: string; item: PlainItem }

function plainBag(bag: PropertyBag): PlainProp[] {
  const out: PlainProp[] = [];
  for (const e of bag.entries()) out.push(e.kind === 'tagged' ? [e.id, e.type, e.value] : [e.key, e.type, e.value]);
  return out;
}
function plainItem(item: MapiItem): PlainItem {
  return {
    p: plainBag(item.properties),
    r: item.recipients.map(plainBag),
    a: item.attachments.map((a) => ({ p: plainBag(a.properties), ...(a.embedded ? { e: plainItem(a.embedded) } : {}) })),
    fai: item.associated,
  };
}
function bagOf(props: PlainProp[]): PropertyBag {
  const bag = new PropertyBag();
  for (const [k, type, value] of props) {
    if (typeof k === 'number') bag.set(k, type, value);
    else bag.setNamed(k, type, value);
  }
  return bag;
}
function itemOf(p: PlainItem): MapiItem {
  const attachments: MapiAttachment[] = p.a.map((a) => (a.e ? { properties: bagOf(a.p), embedded: itemOf(a.e) } : { properties: bagOf(a.p) }));
  return { properties: bagOf(p.p), recipients: p.r.map(bagOf), attachments, associated: p.fai };
}

/** The index beside an item file (`path.json`): record offsets and each item's corpus group. */
interface ItemIndex { offsets: number[]; groups: string[]; groupOf: number[] }

/** Writes `items` to `path` and its index to `path.json`. */
export function writeItemFile(path: string, items: readonly CorpusItem[]): void {
  const offsets: number[] = new Array(items.length + 1);
  const groups: string[] = [];
  const groupOf = items.map((c) => (groups.includes(c.group) ? groups.indexOf(c.group) : groups.push(c.group) - 1));
  const fd = openSync(path, 'w');
  try {
    let at = 0;
    items.forEach((c, i) => {
      const rec: PlainRecord = { group: c.group, id: c.id, item: plainItem(c.item) };
      const bytes = serialize(rec);
      offsets[i] = at;
      writeSync(fd, bytes, 0, bytes.length, at);
      at += bytes.length;
    });
    offsets[items.length] = at;
  } finally {
    closeSync(fd);
  }
  writeFileSync(`${path}.json`, JSON.stringify({ offsets, groups, groupOf } satisfies ItemIndex));
}

/** Bytes read ahead from an item file at a time: one read for ~100 records instead of one each. */
const READ_AHEAD_BYTES = 1 << 20;

/**
 * Reads items of a file made by {@link writeItemFile}, one record per call, through a 1 MiB
 * read-ahead window (the benchmarks read records in order; a record outside the window, or larger
 * than it, is read on its own). Each item returned owns its bytes (they stay valid after later
 * reads). Close it when done.
 */
export class ItemFile {
  private readonly fd: number;
  private readonly offsets: Float64Array;
  private readonly window = Buffer.allocUnsafe(READ_AHEAD_BYTES);
  /** File offset of window[0], and how many bytes of the window are valid. */
  private windowAt = 0;
  private windowLen = 0;
  /** Index of each item's corpus group (first seen = 0), as replicaFolderPath takes it. */
  readonly groupOf: Uint8Array;
  constructor(path: string) {
    const index = JSON.parse(readFileSync(`${path}.json`, 'utf8')) as ItemIndex;
    this.offsets = Float64Array.from(index.offsets);
    this.groupOf = Uint8Array.from(index.groupOf);
    this.fd = openSync(path, 'r');
  }
  /** Number of items. */
  get count(): number {
    return this.offsets.length - 1;
  }
  /** Item `i` (0 ≤ i < count) as a fresh CorpusItem. */
  read(i: number): CorpusItem {
    const at = this.offsets[i];
    const len = this.offsets[i + 1] - at;
    let buf: Buffer;
    if (len > READ_AHEAD_BYTES) {
      buf = Buffer.allocUnsafe(len);
      readSync(this.fd, buf, 0, len, at);
    } else {
      if (at < this.windowAt || at + len > this.windowAt + this.windowLen) {
        this.windowAt = at;
        this.windowLen = readSync(this.fd, this.window, 0, READ_AHEAD_BYTES, at);
        if (this.windowLen < len) throw new Error(`item file: record ${i} is cut short (${this.windowLen} of ${len} bytes)`);
      }
      // a copy: v8.deserialize returns Uint8Array values as views of the buffer it is given, and
      // the window is refilled by later reads (an item kept after them would change underfoot)
      buf = Buffer.from(this.window.subarray(at - this.windowAt, at - this.windowAt + len));
    }
    const rec = deserialize(buf) as PlainRecord;
    return { group: rec.group, id: rec.id, item: itemOf(rec.item) };
  }
  /** Closes the file. */
  close(): void {
    closeSync(this.fd);
  }
}
