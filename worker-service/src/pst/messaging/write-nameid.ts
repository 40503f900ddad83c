/**
 * The name-to-id map a writer builds (MS-PST 2.4.7): assigns store-local property ids 0x8000+ to
 * named properties as items arrive, and at close produces the PC of NID_NAME_TO_ID_MAP with the
 * GUID stream (PidTagNameidStreamGuid), entry stream (PidTagNameidStreamEntry), string stream
 * (PidTagNameidStreamString), bucket count and hash buckets (PidTagNameidBucketBase + i).
 */
import { guidToBytes, normalizeGuid } from '../../mapi/guid';
import { PS_MAPI, PS_PUBLIC_STRINGS, namedKeyString, type NamedPropertyKey } from '../../mapi/named';
import { PropType } from '../../mapi/types';
import { computeCrc } from '../ndb/crc';
import { writeU16, writeU32 } from '../ndb/bytes';
import type { PcProperty } from '../ltp/write-pc';

/** Property ids inside the name-to-id map PC (MS-PST 2.4.7). */
export const NAMEID_PROP = {
  PidTagNameidBucketCount: 0x0001,
  PidTagNameidStreamGuid: 0x0002,
  PidTagNameidStreamEntry: 0x0003,
  PidTagNameidStreamString: 0x0004,
  PidTagNameidBucketBase: 0x1000,
} as const;

/** Outlook's bucket count (MS-PST 2.4.7.5). */
export const NAMEID_BUCKET_COUNT = 251;
/** Named property ids run 0x8000-0xFFFE (MS-PST 2.4.7). */
const MAX_NAMED_PROPS = 0xfffe - 0x8000 + 1;

/** Error when a store runs out of named property ids. */
export class NameIdMapFullError extends Error {
  readonly code = 'NameIdMapFull';
  constructor() {
    super('the store holds 32,767 named properties already (ids 0x8000-0xFFFE, MS-PST 2.4.7); split the export into more parts');
    this.name = 'NameIdMapFullError';
  }
}

interface Entry {
  key: NamedPropertyKey;
  wGuid: number; // GUID index: 1 PS_MAPI, 2 PS_PUBLIC_STRINGS, 3+ GUID stream
  propIdx: number;
  stringOffset: number; // for string names: offset into the string stream
}

/** Collects named properties and maps them to store-local ids. */
export class NameToIdMapBuilder {
  private readonly byKey = new Map<string, Entry>();
  private readonly entries: Entry[] = [];
  private readonly guids: string[] = [];
  private readonly guidIndex = new Map<string, number>();
  private readonly strings: Uint8Array[] = [];
  private stringBytes = 0;

  /**
   * Ids by the GUID text exactly as callers spell it, then by LID or name: every item repeats the
   * same named properties, and this lookup needs no normalised key string (namedKeyString parses
   * the GUID with a regular expression). Spellings of one GUID share their ids through `byKey`.
   */
  private readonly fast = new Map<string, { lids: Map<number, number>; names: Map<string, number> }>();

  /** The store-local property id (0x8000+) for a named property, assigning one on first use. @throws NameIdMapFullError */
  idFor(key: NamedPropertyKey): number {
    let g = this.fast.get(key.guid);
    const known = g === undefined ? undefined : key.name !== undefined ? g.names.get(key.name) : g.lids.get(key.lid >>> 0);
    if (known !== undefined) return known;
    const id = this.idForSlow(key); // throws for a bad GUID or a full map: nothing is cached then
    if (!g) {
      g = { lids: new Map(), names: new Map() };
      this.fast.set(key.guid, g);
    }
    if (key.name !== undefined) g.names.set(key.name, id);
    else g.lids.set(key.lid >>> 0, id);
    return id;
  }

  private idForSlow(key: NamedPropertyKey): number {
    const k = namedKeyString(key);
    let e = this.byKey.get(k);
    if (!e) {
      if (this.entries.length >= MAX_NAMED_PROPS) throw new NameIdMapFullError();
      let stringOffset = 0;
      if (key.name !== undefined) {
        const name = Buffer.from(key.name, 'utf16le');
        const rec = new Uint8Array(4 + name.length + ((4 - (name.length % 4)) % 4));
        writeU32(rec, 0, name.length);
        rec.set(name, 4);
        stringOffset = this.stringBytes;
        this.strings.push(rec);
        this.stringBytes += rec.length;
      }
      e = { key, wGuid: this.guidIndexFor(key.guid), propIdx: this.entries.length, stringOffset };
      this.byKey.set(k, e);
      this.entries.push(e);
    }
    return 0x8000 + e.propIdx;
  }

  private guidIndexFor(guid: string): number {
    const g = normalizeGuid(guid);
    if (g === PS_MAPI) return 1;
    if (g === PS_PUBLIC_STRINGS) return 2;
    let i = this.guidIndex.get(g);
    if (i === undefined) {
      i = 3 + this.guids.length;
      this.guids.push(g);
      this.guidIndex.set(g, i);
    }
    return i;
  }

  /** Number of named properties mapped. */
  get size(): number {
    return this.entries.length;
  }

  /** The PC properties of NID_NAME_TO_ID_MAP (MS-PST 2.4.7.1-5). */
  toProperties(): PcProperty[] {
    const entryStream = new Uint8Array(this.entries.length * 8);
    const buckets: Uint8Array[][] = Array.from({ length: NAMEID_BUCKET_COUNT }, () => []);
    this.entries.forEach((e, i) => {
      const isString = e.key.name !== undefined;
      const wGuidField = ((e.wGuid << 1) | (isString ? 1 : 0)) & 0xffff;
      writeU32(entryStream, i * 8, isString ? e.stringOffset : e.key.lid! >>> 0);
      writeU16(entryStream, i * 8 + 4, wGuidField);
      writeU16(entryStream, i * 8 + 6, e.propIdx);
      // hash: the LID, or the CRC of the UTF-16LE name (MS-PST 2.4.7.5)
      const hash = isString ? computeCrc(Buffer.from(e.key.name!, 'utf16le')) : e.key.lid! >>> 0;
      const bucket = ((hash ^ wGuidField) >>> 0) % NAMEID_BUCKET_COUNT;
      const rec = new Uint8Array(8);
      writeU32(rec, 0, hash);
      writeU16(rec, 4, wGuidField);
      writeU16(rec, 6, e.propIdx);
      buckets[bucket].push(rec);
    });
    const guidStream = new Uint8Array(this.guids.length * 16);
    this.guids.forEach((g, i) => guidStream.set(guidToBytes(g), i * 16));
    const props: PcProperty[] = [
      { id: NAMEID_PROP.PidTagNameidBucketCount, type: PropType.Integer32, value: NAMEID_BUCKET_COUNT },
      { id: NAMEID_PROP.PidTagNameidStreamGuid, type: PropType.Binary, value: guidStream },
      { id: NAMEID_PROP.PidTagNameidStreamEntry, type: PropType.Binary, value: entryStream },
      { id: NAMEID_PROP.PidTagNameidStreamString, type: PropType.Binary, value: Buffer.concat(this.strings) },
    ];
    buckets.forEach((b, i) => props.push({ id: NAMEID_PROP.PidTagNameidBucketBase + i, type: PropType.Binary, value: Buffer.concat(b) }));
    return props;
  }
}
