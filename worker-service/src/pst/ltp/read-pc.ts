/**
 * Property context read side (MS-PST 2.3.3): a BTH (cbKey 2, cbEnt 6) over the node's heap whose
 * records are PC BTH records (2.3.3.3): wPropId, wPropType, dwValueHnid. Values of ≤ 4 bytes sit in
 * dwValueHnid; the others are behind the HNID (heap or subnode). PtypObject values point to an
 * 8-byte heap item { Nid, ulSize } naming the subnode with the object (2.3.3.5).
 */
import { PropType, propTag, type PropValue } from '../../mapi/types';
import { PstReadError } from '../ndb/read-error';
import { viewOf } from '../ndb/read-format';
import { ClientSig } from './constants';
import { readBthRecords, type BthHeader } from './read-bth';
import type { LtpNode } from './read-node';
import { DEFAULT_CODEPAGE, decodeValue, isInlineInPc } from './read-value';

/** PC BTH record (MS-PST 2.3.3.3). */
export interface PcRecord {
  readonly wPropId: number;
  readonly wPropType: number;
  readonly dwValueHnid: number;
}

/** A decoded property of a PC. */
export interface PcProperty {
  readonly id: number;
  readonly type: number;
  /** 32-bit tag: id << 16 | type. */
  readonly tag: number;
  /** The value in Outport's shapes; for PtypObject the object's bytes are not read (see `object`). */
  readonly value: PropValue;
  /** PtypObject only: the subnode NID holding the object and its size in bytes (MS-PST 2.3.3.5). */
  readonly object?: { readonly nid: number; readonly ulSize: number };
}

const PID_MESSAGE_CODEPAGE = 0x3ffd;
const PID_INTERNET_CODEPAGE = 0x3fde;

/** The raw PC: BTH header and records. @throws PstReadError "BadPropertyContext" plus BTH errors */
export function readPcRecords(node: LtpNode): { bth: BthHeader; records: PcRecord[] } {
  const heap = node.heap;
  if (heap.bClientSig !== ClientSig.PC) throw new PstReadError('BadPropertyContext', 'heap bClientSig is not 0xBC (PC)', { nid: node.node.nid, bClientSig: heap.bClientSig });
  const { header, records } = readBthRecords(heap, heap.hnhdr.hidUserRoot);
  if (header.cbKey !== 2 || header.cbEnt !== 6) throw new PstReadError('BadPropertyContext', 'PC BTH must have cbKey 2 and cbEnt 6 (MS-PST 2.3.3.3)', { nid: node.node.nid, cbKey: header.cbKey, cbEnt: header.cbEnt });
  return {
    bth: header,
    records: records.map((r) => {
      const d = viewOf(r.data);
      return { wPropId: viewOf(r.key).getUint16(0, true), wPropType: d.getUint16(0, true), dwValueHnid: d.getUint32(2, true) };
    }),
  };
}

/** The code page of the PC's PtypString8 values: PidTagMessageCodepage, else PidTagInternetCodepage, else `fallback`. */
export function pcCodepage(records: readonly PcRecord[], fallback = DEFAULT_CODEPAGE): number {
  const m = records.find((r) => r.wPropId === PID_MESSAGE_CODEPAGE && r.wPropType === PropType.Integer32);
  if (m && m.dwValueHnid > 0) return m.dwValueHnid;
  const i = records.find((r) => r.wPropId === PID_INTERNET_CODEPAGE && r.wPropType === PropType.Integer32);
  if (i && i.dwValueHnid > 0) return i.dwValueHnid;
  return fallback;
}

/**
 * Reads and decodes every property of a PC in id order.
 * @param fallbackCodepage  code page for PtypString8 when the PC names none (the store's or 1252)
 * @throws PstReadError "BadPropertyContext", "BadPropertyValue", heap/subnode errors */
export async function readPcProperties(node: LtpNode, fallbackCodepage = DEFAULT_CODEPAGE): Promise<PcProperty[]> {
  const { records } = readPcRecords(node);
  const codepage = pcCodepage(records, fallbackCodepage);
  const out: PcProperty[] = [];
  for (const r of records) out.push(await decodePcRecord(node, r, codepage));
  return out;
}

/** Decodes one PC record's value. @throws PstReadError "BadPropertyValue", heap/subnode errors */
export async function decodePcRecord(node: LtpNode, r: PcRecord, codepage: number): Promise<PcProperty> {
  const { wPropId: id, wPropType: type, dwValueHnid: hnid } = r;
  const tag = propTag(id, type);
  try {
    if (isInlineInPc(type)) {
      const b = new Uint8Array(4);
      viewOf(b).setUint32(0, hnid, true);
      return { id, type, tag, value: decodeValue(type, b, codepage) };
    }
    if (type === PropType.Object) {
      const b = await node.readHnid(hnid);
      if (b.length < 8) throw new PstReadError('BadPropertyValue', 'PtypObject heap item shorter than 8 bytes (MS-PST 2.3.3.5)', { nid: node.node.nid, propId: id });
      const v = viewOf(b);
      const object = { nid: v.getUint32(0, true), ulSize: v.getUint32(4, true) };
      return { id, type, tag, value: b.slice(0, 8), object };
    }
    const bytes = await node.readHnid(hnid);
    return { id, type, tag, value: decodeValue(type, bytes, codepage) };
  } catch (err) {
    if (err instanceof PstReadError && err.details.propId === undefined) {
      throw new PstReadError(err.code, `property 0x${tag.toString(16).padStart(8, '0')}: ${err.reason}`, { ...err.details, nid: err.details.nid ?? node.node.nid, propId: id }, { cause: err });
    }
    throw err;
  }
}
