/**
 * Must show b: the import how-to's real `Data` decodes as far as it goes; Microsoft's placeholder
 * exportItems example is rejected with FtsDecodeFailed. Both read from ../shared/samples/graph.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { decodeExportItem, encodeExportItem, FtsDecodeError, IID_IMESSAGE, inspectFts } from '../../../worker-service/src/convert/fts';
import { newMapiItem } from '../../../worker-service/src/mapi/item';
import { TAG } from '../../../worker-service/src/mapi/tags';
import { describeWithShared, SHARED_DIR } from '../../pst/shared-samples';

const GRAPH = path.join(SHARED_DIR, 'samples/graph');
const readJson = (rel: string): Record<string, unknown> => JSON.parse(readFileSync(path.join(GRAPH, rel), 'utf8'));

describeWithShared('FTS: the import how-to\'s real Data (cut after 93 bytes)', () => {
  const data = () => readJson('concepts/import-exchange-mailbox-item.importitem-create.request.json').Data as string;

  it('is 125 base64 characters that decode to 93 bytes', () => {
    expect(data()).toHaveLength(125);
    expect(Buffer.from(data(), 'base64')).toHaveLength(93);
  });

  it('has header records 1 (8 bytes), 3 (24 bytes with IID_IMessage), 4 (6 bytes), then record 2', () => {
    const r = decodeExportItem(data());
    const recs = r.framing.records;
    expect(recs.map((x) => [x.opcode, x.offset, x.length, x.availableLength])).toEqual([
      [1, 0, 8, 8],
      [3, 16, 24, 24],
      [4, 48, 6, 6],
      [2, 62, 0x7bc0, 23], // declares a full 31,680-byte buffer; 23 bytes are there
    ]);
    expect(recs[0]).toMatchObject({ kind: 'config', config: { flags: 0, transferMethod: 1 } });
    expect(recs[1]).toMatchObject({ kind: 'isInterfaceOk', isInterfaceOk: { transferMethod: 1, iid: IID_IMESSAGE, iidName: 'IID_IMessage', flags: 0x80002400 } });
    expect(recs[2]).toMatchObject({ kind: 'partnerVersion', partnerVersion: { hex: '140fd6918617', version: '15.20.4566.6022' } });
    expect(r.framing.truncated).toEqual({ offset: 93, recordOffset: 62, declaredLength: 0x7bc0 });
  });

  it('holds PidTagImportance = 1 and the start of PidTagMessageClass (0x84B0, code page 1200, "IPM"+0x2E), truncated at offset 93', () => {
    const r = decodeExportItem(data());
    expect(r.complete).toBe(false);
    expect(r.streamBytes).toBe(23);
    // The one whole property: tag 0x00170003 PidTagImportance = 1 (normal).
    expect([...r.item.properties.entries()]).toEqual([{ kind: 'tagged', id: 0x0017, type: 0x0003, value: 1 }]);
    const t = r.truncated!;
    expect(t.offset).toBe(93); // the input's end
    expect(t.streamOffset).toBe(23);
    expect(t.path).toBe('message');
    // The cut property: tag 0x001A84B0 at stream offset 8 (input offset 78), 18 bytes declared
    // ("IPM.Note" + NUL would be 18), 7 there: 49 00 50 00 4D 00 2E = "IPM" and the low byte of ".".
    expect(t.partial).toMatchObject({ offset: 8, inputOffset: 78, tag: 0x001a84b0, tagName: 'PidTagMessageClass', codepage: 1200, declaredLength: 18, textPrefix: 'IPM' });
    expect(Buffer.from(t.partial.valueBytes!).toString('hex')).toBe('490050004d002e');
  });

  it('is what the encoder writes for { PidTagImportance 1, PidTagMessageClass "IPM.Note" } with strings as code page 1200', () => {
    const sample = Buffer.from(data(), 'base64');
    const item = newMapiItem();
    item.properties.setTag(TAG.PidTagImportance, 1).setTag(TAG.PidTagMessageClass, 'IPM.Note');
    const ours = Buffer.from(encodeExportItem(item, { stringCodepage: 1200 }));
    expect(ours.subarray(0, 62).equals(sample.subarray(0, 62))).toBe(true); // header records, byte for byte
    expect(ours.readUInt32LE(62)).toBe(2);
    expect(ours.readUInt32LE(66)).toBe(34); // our TransferBuffer holds the whole 34-byte stream
    expect(ours.subarray(70, 93).equals(sample.subarray(70, 93))).toBe(true); // the stream's first 23 bytes
    expect(ours.subarray(93).toString('hex')).toBe('00' + '4e006f00740065000000'); // high byte of ".", then "Note" + NUL
  });

  it('inspect-fts prints it with "truncated": true and exits 1', () => {
    const out = inspectFts(data());
    expect(out.exitCode).toBe(1);
    const j = JSON.parse(out.json);
    expect(j).toMatchObject({ complete: false, truncated: true, offset: 93, streamOffset: 23, input: { bytes: 93, format: 'base64', framed: true } });
    expect(j.incomplete).toMatchObject({ tag: '0x001A84B0', name: 'PidTagMessageClass', codepage: 1200, declaredLength: 18, availableBytes: 7, textPrefix: 'IPM', offset: 78 });
    expect(j.item.properties).toEqual([{ tag: '0x00170003', name: 'PidTagImportance', type: 'PtypInteger32', value: 1 }]);
    expect(j.framing.records.map((x: { opcode: number }) => x.opcode)).toEqual([1, 3, 4, 2]);
    // The whole JSON body of the request works too.
    const raw = readFileSync(path.join(GRAPH, 'concepts/import-exchange-mailbox-item.importitem-create.request.json'));
    expect(JSON.parse(inspectFts(raw).json)).toMatchObject({ truncated: true, offset: 93, input: { format: 'json' } });
  });
});

describeWithShared('FTS: Microsoft\'s placeholder exportItems example', () => {
  const response = () => readJson('beta/mailbox-exportitems.response.json') as { value: { data: string }[] };

  it('is the base64 of a sentence, not an export', () => {
    expect(Buffer.from(response().value[0].data, 'base64').toString('latin1')).toBe('This is a test data that will be converted to a Base64 stream');
  });

  it('is rejected with FtsDecodeFailed at offset 0 and a message that says why', () => {
    for (const { data } of response().value) {
      let err: unknown;
      try { decodeExportItem(data); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(FtsDecodeError);
      const e = err as FtsDecodeError;
      expect(e.code).toBe('FtsDecodeFailed');
      expect(e.reason).toBe('NotFramed');
      expect(e.offset).toBe(0);
      expect(e.message).toContain('not a FastTransfer export');
      expect(e.message).toContain('0x73696854'); // "This" read as a uint32 opcode
      expect(e.message).toContain('"This is a test data that will be converted to a');
    }
  });

  it('inspect-fts reports the error code and offset and exits 1 (data alone and the whole response)', () => {
    const one = JSON.parse(inspectFts(response().value[0].data).json);
    expect(one).toMatchObject({ complete: false, offset: 0, error: { code: 'FtsDecodeFailed', reason: 'NotFramed', offset: 0 } });
    const whole = inspectFts(readFileSync(path.join(GRAPH, 'beta/mailbox-exportitems.response.json')));
    expect(whole.exitCode).toBe(1);
    const arr = JSON.parse(whole.json);
    expect(arr).toHaveLength(2);
    for (const r of arr) expect(r.error).toMatchObject({ code: 'FtsDecodeFailed', reason: 'NotFramed' });
  });
});
