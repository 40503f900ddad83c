/**
 * The project's own JSON view of a PST (for `outport dump`, tests and diffs): store, folders
 * (path, properties) and items (every property by canonical name when known, type, value; named
 * properties with GUID and LID/name), recipients, attachments (data as SHA-256 + size, not bytes)
 * and embedded messages. Values are JSON-safe: bigint → decimal string, binary → hex (≤ 256 bytes,
 * else SHA-256 + size), FILETIME → ISO 8601 plus the raw ticks.
 */
import { createHash } from 'node:crypto';
import type { MapiAttachment, MapiItem, PropertyBag } from '../mapi/item';
import { namedPropertyName } from '../mapi/named';
import { tagName } from '../mapi/tags';
import { PropType, propTag, propTypeName, type PropValue } from '../mapi/types';
import { PstReader, type PstReaderOptions } from './reader';

/** One property in the dump. `name` is the canonical name when Outport knows it. */
export interface DumpProperty {
  readonly tag?: string;
  readonly name?: string;
  readonly guid?: string;
  readonly lid?: number;
  readonly propName?: string;
  readonly type: string;
  readonly value: unknown;
}
export interface DumpAttachment {
  readonly properties: DumpProperty[];
  readonly embedded?: DumpItem;
}
export interface DumpItem {
  readonly nid?: string;
  readonly associated: boolean;
  readonly properties: DumpProperty[];
  readonly recipients: DumpProperty[][];
  readonly attachments: DumpAttachment[];
}
export interface DumpFolder {
  readonly nid: string;
  readonly path: string;
  readonly isSearchFolder: boolean;
  readonly properties: DumpProperty[];
  readonly items: DumpItem[];
}
export interface PstDump {
  readonly file: string;
  readonly format: 'unicode' | 'ansi';
  readonly bCryptMethod: number;
  readonly store: DumpProperty[];
  readonly folders: DumpFolder[];
}

/** Binaries up to this size are shown as hex; bigger ones as SHA-256 + size. */
const MAX_HEX_BYTES = 256;

function jsonValue(type: number, v: PropValue, id?: number): unknown {
  if (Array.isArray(v)) return (v as PropValue[]).map((x) => jsonValue(type & ~0x1000, x));
  if (v instanceof Uint8Array) {
    // Attachment data always as hash + size (MS-OXCMSG PidTagAttachDataBinary / Object).
    if (id === 0x3701 || v.length > MAX_HEX_BYTES) return { sha256: createHash('sha256').update(v).digest('hex'), size: v.length };
    return Buffer.from(v).toString('hex');
  }
  if (typeof v === 'bigint') {
    if (type === PropType.Time) {
      const ms = Number(v / 10000n - 11644473600000n);
      const iso = Number.isFinite(ms) && Math.abs(ms) < 8.64e15 ? new Date(ms).toISOString() : null;
      return { filetime: v.toString(), iso };
    }
    return v.toString();
  }
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  return v;
}

/** A property bag as dump entries: tagged by id, then named. */
export function dumpProperties(bag: PropertyBag): DumpProperty[] {
  const out: DumpProperty[] = [];
  for (const e of bag.entries()) {
    if (e.kind === 'tagged') {
      out.push({ tag: '0x' + propTag(e.id, e.type).toString(16).padStart(8, '0'), name: tagName(e.id, e.type), type: propTypeName(e.type), value: jsonValue(e.type, e.value, e.id) });
    } else {
      out.push({ name: namedPropertyName(e.key), guid: e.key.guid, lid: e.key.lid, propName: e.key.name, type: propTypeName(e.type), value: jsonValue(e.type, e.value) });
    }
  }
  return out;
}

/** A MapiItem as a dump entry (recursively for embedded messages). */
export function dumpItem(item: MapiItem & { nid?: number }): DumpItem {
  return {
    nid: item.nid !== undefined ? '0x' + item.nid.toString(16) : undefined,
    associated: item.associated,
    properties: dumpProperties(item.properties),
    recipients: item.recipients.map(dumpProperties),
    attachments: item.attachments.map((a: MapiAttachment) => ({ properties: dumpProperties(a.properties), embedded: a.embedded ? dumpItem(a.embedded) : undefined })),
  };
}

/**
 * Reads a whole PST into the dump view. Holds every item's dump in memory: for large files use
 * {@link dumpPstFolders}, which yields one folder at a time.
 * @throws PstReadError */
export async function dumpPst(path: string, options: PstReaderOptions = {}): Promise<PstDump> {
  const folders: DumpFolder[] = [];
  const reader = await PstReader.open(path, options);
  try {
    for await (const f of dumpFoldersOf(reader)) folders.push(f);
    return { file: path, format: reader.ndb.format.ansi ? 'ansi' : 'unicode', bCryptMethod: reader.ndb.cryptMethod, store: dumpProperties(reader.store.properties), folders };
  } finally {
    await reader.close();
  }
}

/** The dump one folder at a time (folder tree depth-first, items in table order, FAI last). @throws PstReadError */
export async function* dumpPstFolders(path: string, options: PstReaderOptions = {}): AsyncGenerator<DumpFolder> {
  const reader = await PstReader.open(path, options);
  try {
    yield* dumpFoldersOf(reader);
  } finally {
    await reader.close();
  }
}

async function* dumpFoldersOf(reader: PstReader): AsyncGenerator<DumpFolder> {
  for await (const f of reader.folders()) {
    const items: DumpItem[] = [];
    for await (const it of reader.items(f)) items.push(dumpItem(it));
    yield { nid: '0x' + f.nid.toString(16), path: f.path.join('/'), isSearchFolder: f.isSearchFolder, properties: dumpProperties(f.properties), items };
  }
}
