/**
 * The message store read side (MS-PST 2.4.3): the PC at NID_MESSAGE_STORE (0x21) with the store's
 * display name, record key (the store GUID used in entry ids) and the entry ids of the special
 * folders (an entry id is 4 flag bytes + 16-byte record key + 4-byte NID, MS-PST 2.4.3.2).
 */
import { PropertyBag } from '../../mapi/item';
import type { NdbReader } from '../ndb/read-ndb';
import { NID } from '../ndb/nid';
import { viewOf } from '../ndb/read-format';
import { LtpNode } from '../ltp/read-node';
import { readPcProperties, type PcProperty } from '../ltp/read-pc';
import { addProperty } from './read-props';
import type { NameIdMap } from './read-nameid';

/** The message store as read. NIDs are undefined when the entry id is missing or malformed. */
export interface PstMessageStore {
  readonly displayName: string;
  /** PidTagRecordKey: 16 bytes. */
  readonly recordKey?: Uint8Array;
  readonly ipmSubtreeNid?: number;
  readonly wastebasketNid?: number;
  readonly finderNid?: number;
  readonly commonViewsNid?: number;
  /** Every property of the store PC, raw (for dumps). */
  readonly pcProperties: readonly PcProperty[];
  readonly properties: PropertyBag;
}

/** The NID an entry id (MS-PST 2.4.3.2) names, or undefined when it is not 24 bytes. */
export function nidFromEntryId(entryId: unknown): number | undefined {
  if (!(entryId instanceof Uint8Array) || entryId.length !== 24) return undefined;
  return viewOf(entryId).getUint32(20, true);
}

/** Reads the store PC. @throws PstReadError "NodeNotFound" and LTP errors */
export async function readMessageStore(ndb: NdbReader, map: NameIdMap, codepage: number): Promise<PstMessageStore> {
  const node = await ndb.getNode(NID.MESSAGE_STORE);
  const props = await readPcProperties(await LtpNode.open(ndb, node), codepage);
  const bag = new PropertyBag();
  for (const p of props) addProperty(bag, p.id, p.type, p.value, map);
  const get = (id: number) => props.find((p) => p.id === id)?.value;
  const dn = get(0x3001);
  const rk = get(0x0ff9);
  return {
    displayName: typeof dn === 'string' ? dn : '',
    recordKey: rk instanceof Uint8Array ? rk : undefined,
    ipmSubtreeNid: nidFromEntryId(get(0x35e0)),
    wastebasketNid: nidFromEntryId(get(0x35e3)),
    finderNid: nidFromEntryId(get(0x35e7)),
    commonViewsNid: nidFromEntryId(get(0x35e6)),
    pcProperties: props,
    properties: bag,
  };
}
