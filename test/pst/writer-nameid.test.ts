/**
 * The name-to-id map a new store gets (MS-PST 2.4.7) compared byte for byte with the one Outlook
 * wrote into its empty store (shared/samples/pst/Empty.pst): GUID, entry and string streams and
 * every hash bucket. Proves our bucket hash (PST CRC of the UTF-16LE name, or the LID, XOR the
 * wGuid field, mod 251) is Outlook's.
 */
import { join } from 'node:path';
import { PstStoreWriter } from '../../worker-service/src/pst/messaging/write-store';
import { MemoryPstSink } from '../../worker-service/src/pst/sink';
import { NdbReader } from '../../worker-service/src/pst/ndb/read-ndb';
import { MemoryByteSource } from '../../worker-service/src/pst/ndb/read-source';
import { LtpNode } from '../../worker-service/src/pst/ltp/read-node';
import { readPcProperties } from '../../worker-service/src/pst/ltp/read-pc';
import { NID } from '../../worker-service/src/pst/ndb/nid';
import { NameToIdMapBuilder } from '../../worker-service/src/pst/messaging/write-nameid';
import { describeWithShared, SAMPLES_DIR } from './shared-samples';

async function nameMapProps(reader: NdbReader): Promise<Map<number, string>> {
  const props = await readPcProperties(await LtpNode.open(reader, await reader.getNode(NID.NAME_TO_ID_MAP)));
  return new Map(props.map((p) => [p.tag, p.value instanceof Uint8Array ? Buffer.from(p.value).toString('hex') : String(p.value)]));
}

/** A string stream (hex) with the padding after each name (to a multiple of 4 bytes) set to zero (MS-PST 2.4.7.4). */
function zeroPadding(hex: string): string {
  const b = Buffer.from(hex, 'hex');
  for (let o = 0; o + 4 <= b.length; ) {
    const len = b.readUInt32LE(o);
    const end = o + 4 + len;
    const padded = o + 4 + Math.ceil(len / 4) * 4;
    b.fill(0, end, Math.min(padded, b.length));
    o = padded;
  }
  return b.toString('hex');
}

test('bucket placement: a LID and a string name land where Outlook puts them', () => {
  const b = new NameToIdMapBuilder();
  b.idFor({ guid: '00062002-0000-0000-c000-000000000046', lid: 0x8205 }); // GUID stream index 3
  b.idFor({ guid: '00020329-0000-0000-c000-000000000046', name: 'urn:schemas-microsoft-com:office:outlook#storetypeprivate' });
  const props = new Map(b.toProperties().map((p) => [p.id, p.value as Uint8Array]));
  // Empty.pst: bucket 0x97 holds 05820000 0600 0000; bucket 0x2f holds 1f7444fb 0500 0f00 (there at index 0xf)
  expect(Buffer.from(props.get(0x1000 + 0x97)!).toString('hex')).toBe('0582000006000000');
  expect(Buffer.from(props.get(0x1000 + 0x2f)!).toString('hex')).toBe('1f7444fb05000100');
});

describeWithShared('name-to-id map of a new store equals Outlook’s (Empty.pst)', () => {
  test('GUID, entry and string streams and all 251 buckets, byte for byte', async () => {
    const sink = new MemoryPstSink();
    await PstStoreWriter.create(sink, { displayName: 'Empty' }).close();
    const ours = await nameMapProps(await NdbReader.open(new MemoryByteSource(sink.bytes())));
    const outlook = await nameMapProps(await NdbReader.openFile(join(SAMPLES_DIR, 'Empty.pst')));
    const bucketsOf = (m: Map<number, string>) => [...m].filter(([tag]) => tag >>> 16 >= 0x1000).filter(([, v]) => v !== '');
    for (const tag of [0x00010003, 0x00020102, 0x00030102]) expect([tag, ours.get(tag)]).toEqual([tag, outlook.get(tag)]);
    // the string stream: Outlook leaves stale bytes in the alignment padding after each name; we write zeros
    expect(ours.get(0x00040102)).toBe(zeroPadding(outlook.get(0x00040102)!));
    expect(bucketsOf(ours)).toEqual(bucketsOf(outlook));
  });
});
