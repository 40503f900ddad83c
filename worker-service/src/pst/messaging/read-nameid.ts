/**
 * Name-to-id map read side (MS-PST 2.4.7): the PC at NID_NAME_TO_ID_MAP (0x61) with the entry
 * stream (PidTagNameidStreamEntry 0x0003, 8-byte NAMEID records, 2.4.7.1), the GUID stream
 * (PidTagNameidStreamGuid 0x0002, 16-byte GUIDs), the string stream (PidTagNameidStreamString
 * 0x0004: uint32 byte length + UTF-16LE name, each entry 4-byte aligned) and the hash buckets
 * (0x1000 + i). It maps the store's 0x8000+ property ids to named-property keys.
 */
import { guidFromBytes } from '../../mapi/guid';
import { PS_MAPI, PS_PUBLIC_STRINGS, type NamedPropertyKey } from '../../mapi/named';
import { PropType } from '../../mapi/types';
import { PstReadError } from '../ndb/read-error';
import { viewOf } from '../ndb/read-format';
import type { NdbReader } from '../ndb/read-ndb';
import { NID } from '../ndb/nid';
import { LtpNode } from '../ltp/read-node';
import { readPcProperties, type PcProperty } from '../ltp/read-pc';

/** One NAMEID record (MS-PST 2.4.7.1) and what it resolves to. */
export interface NameIdEntry {
  /** The property id in this store: 0x8000 + wPropIdx. */
  readonly propId: number;
  readonly dwPropertyID: number;
  /** N bit: true when dwPropertyID is an offset into the string stream. */
  readonly isString: boolean;
  /** wGuid: 1 = PS_MAPI, 2 = PS_PUBLIC_STRINGS, ≥ 3 = GUID stream index + 3. */
  readonly wGuid: number;
  readonly wPropIdx: number;
  readonly key: NamedPropertyKey;
}

/** The decoded name-to-id map. */
export interface NameIdMap {
  readonly bucketCount: number;
  readonly guids: readonly string[];
  readonly entries: readonly NameIdEntry[];
  /** 0x8000+ id → key. */
  readonly byId: ReadonlyMap<number, NamedPropertyKey>;
  /** Every property of the map's PC (streams and buckets), for dumps. */
  readonly properties: readonly PcProperty[];
}

/** Longest name accepted from the string stream (MS-OXPROPS names are short; a crafted length is not). */
export const MAX_NAMEID_STRING_BYTES = 65536;

/**
 * Reads the name-to-id map of a store. A store without node 0x61 gives an empty map.
 * @throws PstReadError "BadNameToIdMap" (a stream missing or a record pointing outside it) plus LTP errors */
export async function readNameIdMap(ndb: NdbReader): Promise<NameIdMap> {
  const entryNode = await ndb.findNode(NID.NAME_TO_ID_MAP);
  if (!entryNode) return { bucketCount: 0, guids: [], entries: [], byId: new Map(), properties: [] };
  const node = await LtpNode.open(ndb, entryNode);
  const props = await readPcProperties(node);
  const bin = (id: number): Uint8Array => {
    const p = props.find((x) => x.id === id && x.type === PropType.Binary);
    return p ? (p.value as Uint8Array) : new Uint8Array(0);
  };
  const bucketProp = props.find((x) => x.id === 0x0001);
  const bucketCount = typeof bucketProp?.value === 'number' ? bucketProp.value : 0;
  const guidStream = bin(0x0002), entryStream = bin(0x0003), stringStream = bin(0x0004);
  const guids: string[] = [];
  for (let o = 0; o + 16 <= guidStream.length; o += 16) guids.push(guidFromBytes(guidStream, o));
  const sv = viewOf(stringStream);
  const ev = viewOf(entryStream);
  const entries: NameIdEntry[] = [];
  const byId = new Map<number, NamedPropertyKey>();
  for (let o = 0; o + 8 <= entryStream.length; o += 8) {
    const dwPropertyID = ev.getUint32(o, true);
    const w = ev.getUint16(o + 4, true);
    const wPropIdx = ev.getUint16(o + 6, true);
    const isString = (w & 1) === 1;
    const wGuid = w >>> 1;
    let guid: string;
    if (wGuid === 1) guid = PS_MAPI;
    else if (wGuid === 2) guid = PS_PUBLIC_STRINGS;
    else if (wGuid >= 3 && wGuid - 3 < guids.length) guid = guids[wGuid - 3];
    else throw new PstReadError('BadNameToIdMap', 'NAMEID wGuid names no GUID', { nid: NID.NAME_TO_ID_MAP, record: o / 8, wGuid });
    let key: NamedPropertyKey;
    if (isString) {
      if (dwPropertyID + 4 > stringStream.length) throw new PstReadError('BadNameToIdMap', 'NAMEID string offset outside the string stream', { nid: NID.NAME_TO_ID_MAP, record: o / 8, offset: dwPropertyID });
      const len = sv.getUint32(dwPropertyID, true);
      if (len > MAX_NAMEID_STRING_BYTES || dwPropertyID + 4 + len > stringStream.length) throw new PstReadError('BadNameToIdMap', 'NAMEID string passes the string stream', { nid: NID.NAME_TO_ID_MAP, record: o / 8, length: len });
      key = { guid, name: Buffer.from(stringStream.buffer, stringStream.byteOffset + dwPropertyID + 4, len & ~1).toString('utf16le') };
    } else key = { guid, lid: dwPropertyID };
    const propId = 0x8000 + wPropIdx;
    entries.push({ propId, dwPropertyID, isString, wGuid, wPropIdx, key });
    byId.set(propId, key);
  }
  return { bucketCount, guids, entries, byId, properties: props };
}
