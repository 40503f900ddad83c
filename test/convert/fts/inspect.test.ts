/** inspectFts: input forms (bytes, base64, JSON), the JSON report, exit codes. */
import { encodeExportItem, encodeFtsMessage, inspectFts } from '../../../worker-service/src/convert/fts';
import { PropertyBag, newMapiItem } from '../../../worker-service/src/mapi/item';
import { PSETID } from '../../../worker-service/src/mapi/named';
import { PropType } from '../../../worker-service/src/mapi/types';

const item = (() => {
  const i = newMapiItem();
  i.properties.set(0x001a, PropType.String, 'IPM.Note').set(0x0037, PropType.String, 'Hello').set(0x0e06, PropType.Time, 133000000000000000n)
    .setNamed({ guid: PSETID.Common, lid: 0x8501 }, PropType.Integer32, 15);
  i.recipients.push(new PropertyBag().set(0x3001, PropType.String, 'Ann'));
  const emb = newMapiItem();
  emb.properties.set(0x0037, PropType.String, 'inner');
  i.attachments.push({ properties: new PropertyBag().set(0x0e21, PropType.Integer32, 0).set(0x3705, PropType.Integer32, 5), embedded: emb });
  return i;
})();
const framed = encodeExportItem(item, { stringCodepage: 1200 });

describe('inspectFts', () => {
  it('a complete item (raw bytes): exit 0, framing, the item in the dump shape', () => {
    const out = inspectFts(framed);
    expect(out.exitCode).toBe(0);
    const j = JSON.parse(out.json);
    expect(j).toMatchObject({ complete: true, input: { format: 'binary', framed: true, bytes: framed.length } });
    expect(j.truncated).toBeUndefined();
    expect(j.framing.records.map((r: { kind: string }) => r.kind)).toEqual(['config', 'isInterfaceOk', 'partnerVersion', 'transferBuffer']);
    expect(j.item.properties).toEqual(expect.arrayContaining([
      { tag: '0x001a001f', name: 'PidTagMessageClass', type: 'PtypString', value: 'IPM.Note' },
      { tag: '0x0e060040', name: 'PidTagMessageDeliveryTime', type: 'PtypTime', value: { filetime: '133000000000000000', iso: '2022-06-18T04:26:40.000Z' } },
      { name: 'PidLidReminderDelta', guid: PSETID.Common, lid: 0x8501, type: 'PtypInteger32', value: 15 },
    ]));
    expect(j.item.recipients[0][0]).toMatchObject({ name: 'PidTagDisplayName', value: 'Ann' });
    expect(j.item.attachments[0].embedded.properties[0]).toMatchObject({ name: 'PidTagSubject', value: 'inner' });
  });

  it('base64 text, as bytes of a file or as a string, and a bare stream', () => {
    const b64 = Buffer.from(framed).toString('base64');
    expect(inspectFts(b64).exitCode).toBe(0);
    expect(JSON.parse(inspectFts(Buffer.from(b64.replace(/(.{76})/g, '$1\n') + '\n')).json).input.format).toBe('base64');
    const bare = JSON.parse(inspectFts(encodeFtsMessage(item)).json);
    expect(bare).toMatchObject({ complete: true, input: { framed: false } });
  });

  it('a Graph JSON body: value[].data gives one report per item', () => {
    const body = JSON.stringify({ value: [{ itemId: 'a', data: Buffer.from(framed).toString('base64') }, { itemId: 'b', data: Buffer.from(framed.subarray(0, 100)).toString('base64') }] });
    const out = inspectFts(body);
    expect(out.exitCode).toBe(1); // the second is cut
    const j = JSON.parse(out.json);
    expect(j.map((r: { complete: boolean }) => r.complete)).toEqual([true, false]);
    expect(j[1]).toMatchObject({ truncated: true, offset: 100, streamOffset: 30 });
  });

  it('invalid input: the error code, reason and offset; exit 1', () => {
    for (const input of ['', '{"nothing": 1}', 'AQAA!A', Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0)]) {
      const out = inspectFts(input);
      expect(out.exitCode).toBe(1);
      expect(JSON.parse(out.json).error.code).toBe('FtsDecodeFailed');
    }
    const bad = Buffer.from(framed);
    bad.writeUInt32LE(0x00017707, 70 + 26); // a bad type where the second property's tag is (after 26 bytes of PidTagMessageClass)
    const j = JSON.parse(inspectFts(bad).json);
    expect(j).toMatchObject({ complete: false, offset: 96, streamOffset: 26, error: { reason: 'BadPropType', offset: 96 } });
    expect(j.item.properties).toHaveLength(1); // what came before
  });
});
