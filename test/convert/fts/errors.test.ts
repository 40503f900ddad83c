/**
 * Invalid input: each FtsDecodeError reason with its offset, the encoder's refusals, and a fuzz
 * smoke test (random and mutated bytes never throw anything but FtsDecodeError).
 */
import fc from 'fast-check';
import {
  base64ToBytes, decodeExportItem, decodeFtsMessage, encodeFtsMessage, frameExportData, FtsDecodeError, FtsEncodeError, MAX_EMBEDDED_MESSAGE_DEPTH,
  parseExportFraming, streamToInputOffset,
} from '../../../worker-service/src/convert/fts';
import { PropertyBag, newMapiItem } from '../../../worker-service/src/mapi/item';
import { PropType } from '../../../worker-service/src/mapi/types';

const hex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

function decodeError(f: () => unknown): FtsDecodeError {
  try { f(); } catch (e) { expect(e).toBeInstanceOf(FtsDecodeError); expect((e as FtsDecodeError).code).toBe('FtsDecodeFailed'); return e as FtsDecodeError; }
  throw new Error('expected an FtsDecodeError');
}

describe('FtsDecodeError reasons and offsets', () => {
  it('a type FastTransfer streams do not use (BadPropType)', () => {
    const e = decodeError(() => decodeFtsMessage(hex('03001700 01000000  07770100')));
    expect(e).toMatchObject({ reason: 'BadPropType', offset: 8, streamOffset: 8, tag: 0x00017707 });
    expect(e.message).toContain('0x7707');
    expect(decodeError(() => decodeFtsMessage(hex('00001700'))).reason).toBe('BadPropType'); // PtypUnspecified
  });

  it('a named property kind other than 0x00/0x01 (BadNamedPropKind), with the item decoded so far', () => {
    const e = decodeError(() => decodeFtsMessage(hex('03001700 01000000  03000080 082006000000000 0c000000000000046 02 00000000'.replace(/ /g, ''))));
    expect(e).toMatchObject({ reason: 'BadNamedPropKind', offset: 8 + 4 + 16 });
    expect(e.item!.properties.get(0x0017)).toBe(1);
  });

  it('markers out of place (UnexpectedMarker) and bytes after the message (TrailingData)', () => {
    // EndToRecip without StartRecip.
    expect(decodeError(() => decodeFtsMessage(hex('03000440')))).toMatchObject({ reason: 'UnexpectedMarker', offset: 0 });
    // StartRecip … EndAttach.
    expect(decodeError(() => decodeFtsMessage(hex('03000340 03000e40')))).toMatchObject({ reason: 'UnexpectedMarker', offset: 4 });
    // A message, then a second one's StartMessage marker.
    expect(decodeError(() => decodeFtsMessage(hex('03001700 01000000 03000c40')))).toMatchObject({ reason: 'UnexpectedMarker', offset: 8 });
    // A property after the recipients: not part of a messageContent.
    expect(decodeError(() => decodeFtsMessage(hex('03000340 03000440 03001700 01000000')))).toMatchObject({ reason: 'TrailingData', offset: 8 });
  });

  it('embedded messages nested past the limit (NestingTooDeep)', () => {
    const open = '03000040 0300210e00000000 03000140'.replace(/ /g, ''); // NewAttach, AttachNumber 0, StartEmbed
    const e = decodeError(() => decodeFtsMessage(hex(open.repeat(MAX_EMBEDDED_MESSAGE_DEPTH + 1))));
    expect(e.reason).toBe('NestingTooDeep');
    expect(e.offset).toBe(MAX_EMBEDDED_MESSAGE_DEPTH * 16 + 12);
  });

  it('a code page Outport cannot decode (BadValue)', () => {
    expect(decodeError(() => decodeFtsMessage(hex('ff fe 37 00 02000000 4100')))).toMatchObject({ reason: 'BadValue', offset: 0 }); // code page 0x7EFF
  });

  it('framing: empty, not framed, unknown opcode, no TransferBuffer; offsets are input offsets', () => {
    expect(decodeError(() => decodeExportItem(new Uint8Array(0))).reason).toBe('Empty');
    expect(decodeError(() => decodeExportItem(hex('ffffffff 00000000'))).reason).toBe('NotFramed');
    expect(decodeError(() => decodeExportItem(hex('01000000 08000000 0000000001000000 63000000 00000000')))).toMatchObject({ reason: 'UnknownOpcode', offset: 16, streamOffset: -1 });
    expect(decodeError(() => decodeExportItem(hex('01000000 08000000 0000000001000000'))).reason).toBe('NoTransferBuffer');
    expect(decodeError(() => decodeExportItem('AQAA!AAA')).reason).toBe('BadBase64');
    // A stream error behind two TransferBuffers: the offset is where the byte sits in the input.
    const data = hex('02000000 04000000 03001700   02000000 08000000 01000000 07770100');
    const e = decodeError(() => decodeExportItem(data));
    expect(e).toMatchObject({ reason: 'BadPropType', streamOffset: 8, offset: 24 });
  });

  it('maps stream offsets to input offsets across TransferBuffers', () => {
    const f = parseExportFraming(frameExportData(Uint8Array.from([1, 2, 3, 4, 5]), { bufferSizeBytes: 2 }));
    expect(f.segments.map((s) => [s.inputOffset, s.streamOffset, s.length])).toEqual([[70, 0, 2], [80, 2, 2], [90, 4, 1]]);
    expect([0, 1, 2, 3, 4, 5].map((o) => streamToInputOffset(f, o))).toEqual([70, 71, 80, 81, 90, 91]);
  });
});

describe('truncation', () => {
  it('a bare stream that ends inside a recipient is partial, with the recipient so far', () => {
    const r = decodeFtsMessage(hex('03001700 01000000 03000340 1f000130 08000000 41006e00'));
    expect(r.complete).toBe(false);
    expect(r.truncated).toMatchObject({ offset: 24, streamOffset: 24, path: 'message.recipients[0]', partial: { offset: 12, declaredLength: 8, textPrefix: 'An' } });
    expect(r.item.recipients).toHaveLength(1);
  });
  it('a stream that ends on an element boundary inside an attachment is partial (the end marker is missing)', () => {
    const r = decodeFtsMessage(hex('03000040 0300210e00000000'));
    expect(r.complete).toBe(false);
    expect(r.truncated!.path).toBe('message.attachments[0]');
    expect(r.item.attachments[0].properties.get(0x0e21)).toBe(0);
  });
});

describe('encoder refusals (FtsEncodeError)', () => {
  const item = (f: (b: PropertyBag) => void) => { const i = newMapiItem(); f(i.properties); return i; };
  const encErr = (f: () => unknown): FtsEncodeError => {
    try { f(); } catch (e) { expect(e).toBeInstanceOf(FtsEncodeError); expect((e as FtsEncodeError).code).toBe('FtsEncodeFailed'); return e as FtsEncodeError; }
    throw new Error('expected an FtsEncodeError');
  };
  it('values that do not fit their type, marker tags, PtypUnspecified, unrepresentable PtypString8, bad code pages', () => {
    expect(encErr(() => encodeFtsMessage(item((b) => b.set(0x0037, PropType.String, 5 as unknown as string)))).reason).toBe('ValueShape');
    expect(encErr(() => encodeFtsMessage(item((b) => b.set(0x4003, PropType.Integer32, 1)))).reason).toBe('BadPropType'); // = StartRecip
    expect(encErr(() => encodeFtsMessage(item((b) => b.set(0x0037, PropType.Unspecified, null)))).reason).toBe('BadPropType');
    const e = encErr(() => encodeFtsMessage(item((b) => b.set(0x3ffd, PropType.Integer32, 1252).set(0x0037, PropType.String8, 'Привет'))));
    expect(e).toMatchObject({ reason: 'NotRepresentable', path: 'message.properties 0x0037001e' });
    expect(encErr(() => encodeFtsMessage(item((b) => b.set(0x0037, PropType.String, 'x')), { stringCodepage: 65001 })).reason).toBe('BadCodepage');
    expect(encErr(() => frameExportData(new Uint8Array(1), { bufferSizeBytes: 0 })).reason).toBe('BadOption');
  });
  it('a string a code page cannot represent falls back to PtypString', () => {
    const i = item((b) => b.set(0x0037, PropType.String, 'Привет').set(0x003d, PropType.String, 'RE: '));
    const s = Buffer.from(encodeFtsMessage(i, { stringCodepage: 1252 }));
    expect(s.readUInt32LE(0)).toBe(0x0037001f); // Cyrillic: not in 1252
    expect(s.indexOf(Buffer.from('e4843d00', 'hex'))).toBeGreaterThan(0); // "RE: " as 0x84E4
    expect(decodeFtsMessage(s).item).toEqual(i);
  });
});

describe('fuzz smoke: random and mutated input fails only with FtsDecodeError', () => {
  const base = (() => {
    const i = newMapiItem();
    i.properties.set(0x0037, PropType.String, 'subject').set(0x0e1d, PropType.MultipleBinary, [Uint8Array.of(1, 2)]);
    i.recipients.push(new PropertyBag().set(0x3001, PropType.String, 'a'));
    const emb = newMapiItem();
    emb.properties.set(0x0017, PropType.Integer32, 1);
    i.attachments.push({ properties: new PropertyBag().set(0x3705, PropType.Integer32, 5), embedded: emb });
    return frameExportData(encodeFtsMessage(i), { bufferSizeBytes: 17 });
  })();
  const onlyDecodeErrors = (bytes: Uint8Array): void => {
    try { decodeExportItem(bytes); } catch (e) { if (!(e instanceof FtsDecodeError)) throw e; }
    try { decodeFtsMessage(bytes); } catch (e) { if (!(e instanceof FtsDecodeError)) throw e; }
  };
  it('random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (b) => onlyDecodeErrors(b)), { numRuns: 500 });
  });
  it('an encoded item with bytes flipped, inserted or removed', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'insert', 'delete')), { minLength: 1, maxLength: 4 }), (edits) => {
      let b = Array.from(base);
      for (const [at, v, op] of edits) {
        const i = Math.min(at, b.length - 1);
        if (op === 'set') b[i] = v; else if (op === 'insert') b.splice(i, 0, v); else b.splice(i, 1);
      }
      onlyDecodeErrors(Uint8Array.from(b));
    }), { numRuns: 500 });
  });
});

describe('base64ToBytes: the fast path for clean padded text gives what the checked path gives', () => {
  /** The checked reading on its own (whitespace dropped, every other character must be base64). */
  const checked = (text: string): Uint8Array | string => {
    const clean = text.replace(/\s+/g, '');
    const bad = /[^A-Za-z0-9+/=_-]/.exec(clean);
    return bad ? `BadBase64@${bad.index}` : new Uint8Array(Buffer.from(clean, 'base64'));
  };
  const actual = (text: string): Uint8Array | string => {
    try { return new Uint8Array(base64ToBytes(text)); } catch (e) { return `${(e as FtsDecodeError).reason}@${(e as FtsDecodeError).offset}`; }
  };
  it('on random bytes as base64, and on text mixing the alphabet, padding, whitespace and stray characters', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
      const text = Buffer.from(b).toString('base64');
      expect(actual(text)).toEqual(new Uint8Array(b));
      expect(actual(text)).toEqual(checked(text));
    }), { numRuns: 300 });
    const chars = fc.constantFrom(...'ABCXYZabcxyz0189+/-_='.split(''), ' ', '\n', '!', '$', 'é', '.');
    fc.assert(fc.property(fc.array(chars, { maxLength: 24 }).map((a) => a.join('')), (text) => {
      expect(actual(text)).toEqual(checked(text));
    }), { numRuns: 2000 });
  });
});

