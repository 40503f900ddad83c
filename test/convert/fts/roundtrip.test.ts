/**
 * Property-based round trips (fast-check): decode(encode(x)) equals x for random MapiItems with
 * every property type FastTransfer streams carry, named properties (LID and string), recipients,
 * attachments, embedded messages 3 deep, message code pages and code-page string forms; and the
 * same through the framing with TransferBuffers cut at random positions (inside tags, lengths,
 * UTF-16 characters).
 */
import fc from 'fast-check';
import {
  decodeExportItem, decodeFtsMessage, encodeExportItem, encodeFtsMessage, frameExportDataAt, type FtsEncodeOptions,
} from '../../../worker-service/src/convert/fts';
import { PropertyBag, newMapiItem, type MapiItem } from '../../../worker-service/src/mapi/item';
import { PSETID, PS_INTERNET_HEADERS, PS_PUBLIC_STRINGS, type NamedPropertyKey } from '../../../worker-service/src/mapi/named';
import { PropType, type PropValue } from '../../../worker-service/src/mapi/types';

const i64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
const u64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
const guid = fc.uuid().map((g) => g.toLowerCase());
const bin = fc.uint8Array({ maxLength: 24 }); // zero-length included
const unicode = fc.string({ unit: 'binary', maxLength: 12 }); // any code point, NUL included
// PtypString8 text must survive every code page the items use (1252, 1251, 28591, 65001, 932):
// printable ASCII without "\" and "~" (Shift-JIS maps those two to ¥ and ‾).
const ascii = fc.string({ unit: fc.constantFrom(...' !"#$%&()*+,-./0123456789:;<=>?@ABCXYZ[]^_`abcxyz{|}'.split('')), maxLength: 12 });

/** Every type FastTransfer streams carry, with its value arbitrary. */
const VALUES: [PropType, fc.Arbitrary<PropValue>][] = [
  [PropType.Null, fc.constant(null)],
  [PropType.Integer16, fc.integer({ min: -32768, max: 32767 })],
  [PropType.Integer32, fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })],
  [PropType.Floating32, fc.float()],
  [PropType.Floating64, fc.double()],
  [PropType.Currency, i64],
  [PropType.FloatingTime, fc.double()],
  [PropType.ErrorCode, fc.integer({ min: 0, max: 0xffffffff })],
  [PropType.Boolean, fc.boolean()],
  [PropType.Object, bin],
  [PropType.Integer64, i64],
  [PropType.String8, ascii],
  [PropType.String, unicode],
  [PropType.Time, u64],
  [PropType.Guid, guid],
  [PropType.ServerId, bin],
  [PropType.Restriction, bin],
  [PropType.RuleAction, bin],
  [PropType.Binary, bin],
  [PropType.MultipleInteger16, fc.array(fc.integer({ min: -32768, max: 32767 }), { maxLength: 4 })],
  [PropType.MultipleInteger32, fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { maxLength: 4 })],
  [PropType.MultipleFloating32, fc.array(fc.float(), { maxLength: 4 })],
  [PropType.MultipleFloating64, fc.array(fc.double(), { maxLength: 4 })],
  [PropType.MultipleCurrency, fc.array(i64, { maxLength: 4 })],
  [PropType.MultipleFloatingTime, fc.array(fc.double(), { maxLength: 4 })],
  [PropType.MultipleInteger64, fc.array(i64, { maxLength: 4 })],
  [PropType.MultipleString8, fc.array(ascii, { maxLength: 4 })],
  [PropType.MultipleString, fc.array(unicode, { maxLength: 4 })],
  [PropType.MultipleTime, fc.array(u64, { maxLength: 4 })],
  [PropType.MultipleGuid, fc.array(guid, { maxLength: 4 })],
  [PropType.MultipleBinary, fc.array(bin, { maxLength: 4 })],
];
const typedValue = fc.oneof(...VALUES.map(([type, arb]) => arb.map((value) => ({ type, value }))));

// Tagged ids: anything but the marker/meta-property range (0x4000-0x40FF), the code-page ids
// (set on purpose below) and PidTagAttachNumber (the encoder writes it first).
const taggedId = fc.integer({ min: 0x0001, max: 0x7fff }).filter((id) => (id < 0x4000 || id > 0x40ff) && id !== 0x3ffd && id !== 0x3fde && id !== 0x0e21);
const namedKey: fc.Arbitrary<NamedPropertyKey> = fc.oneof(
  fc.record({ guid: fc.oneof(fc.constantFrom(...Object.values(PSETID)), guid), lid: fc.integer({ min: 0, max: 0xffffffff }) }),
  fc.record({ guid: fc.oneof(fc.constantFrom(PS_PUBLIC_STRINGS, PS_INTERNET_HEADERS), guid), name: fc.string({ unit: 'binary', maxLength: 16 }).filter((s) => !s.includes('\0')) }),
);
const codepage = fc.constantFrom(undefined, 1252, 1251, 28591, 65001, 932, 1200);

const bag = (maxProps: number) =>
  fc.record({
    tagged: fc.array(fc.tuple(taggedId, typedValue), { maxLength: maxProps }),
    named: fc.array(fc.tuple(namedKey, typedValue), { maxLength: Math.ceil(maxProps / 3) }),
  }).map(({ tagged, named }) => {
    const b = new PropertyBag();
    for (const [id, tv] of tagged) b.set(id, tv.type, tv.value);
    for (const [key, tv] of named) b.setNamed(key, tv.type, tv.value);
    return b;
  });

/** A message with recipients and attachments; attachments nest embedded messages `depth` more levels. */
function message(depth: number): fc.Arbitrary<MapiItem> {
  const attachment = fc.record({
    props: bag(6),
    embedded: depth > 0 ? fc.option(message(depth - 1), { nil: undefined }) : fc.constant(undefined),
  });
  return fc.record({ props: bag(12), cp: codepage, recipients: fc.array(bag(4), { maxLength: 3 }), attachments: fc.array(attachment, { maxLength: 2 }) })
    .map(({ props, cp, recipients, attachments }) => {
      const item = newMapiItem();
      for (const e of props.entries()) {
        if (e.kind === 'tagged') item.properties.set(e.id, e.type, e.value);
        else item.properties.setNamed(e.key, e.type, e.value);
      }
      if (cp !== undefined) item.properties.set(0x3ffd, PropType.Integer32, cp); // PidTagMessageCodepage
      item.recipients.push(...recipients);
      attachments.forEach((a, i) => {
        a.props.set(0x0e21, PropType.Integer32, i); // PidTagAttachNumber
        if (a.embedded) a.props.set(0x3705, PropType.Integer32, 5);
        item.attachments.push({ properties: a.props, ...(a.embedded ? { embedded: a.embedded } : {}) });
      });
      return item;
    });
}

/** A message with an embedded message exactly 3 levels down (and random siblings). */
const deep = fc.tuple(message(0), message(0), message(0), message(1)).map(([a, b, c, top]) => {
  const chain = [top, c, b, a];
  for (let i = 0; i + 1 < chain.length; i++) {
    const props = new PropertyBag().set(0x0e21, PropType.Integer32, chain[i].attachments.length).set(0x3705, PropType.Integer32, 5);
    chain[i].attachments.push({ properties: props, embedded: chain[i + 1] });
  }
  return top;
});

/** Strings as code-page strings for some properties (odd ids), or never. */
const stringForms = fc.constantFrom<FtsEncodeOptions['stringCodepage'] | 'none'>('none', 1200, 1252, 1251, 28591, 932).map((cp): FtsEncodeOptions => (
  cp === 'none' ? {} : { stringCodepage: (e) => ((e.kind === 'tagged' ? e.id : 1) % 2 ? (cp as number) : undefined) }
));

/** The item as plain data, for equality with useful diffs. */
function plain(item: MapiItem): unknown {
  return {
    props: [...item.properties.entries()],
    recipients: item.recipients.map((r) => [...r.entries()]),
    attachments: item.attachments.map((a) => ({ props: [...a.properties.entries()], embedded: a.embedded ? plain(a.embedded) : undefined })),
    associated: item.associated,
  };
}

const RUNS = { numRuns: 150 };

describe('FTS round trips (fast-check)', () => {
  it('decode(encode(x)) equals x: every type, named properties, recipients, attachments, embedded, code pages', () => {
    fc.assert(fc.property(message(2), stringForms, fc.boolean(), (item, opts, fxDel) => {
      const stream = encodeFtsMessage(item, { ...opts, fxDelProps: fxDel });
      const r = decodeFtsMessage(stream);
      expect(r.complete).toBe(true);
      expect(plain(r.item)).toEqual(plain(item));
    }), RUNS);
  });

  it('embedded messages 3 deep', () => {
    fc.assert(fc.property(deep, (item) => {
      const r = decodeFtsMessage(encodeFtsMessage(item));
      let e: MapiItem | undefined = r.item;
      for (let d = 0; d < 3; d++) e = e!.attachments[e!.attachments.length - 1].embedded;
      expect(e).toBeDefined();
      expect(plain(r.item)).toEqual(plain(item));
    }), { numRuns: 50 });
  });

  it('through the framing with TransferBuffers cut at random positions', () => {
    fc.assert(fc.property(message(1), stringForms, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 }), (item, opts, fractions) => {
      const stream = encodeFtsMessage(item, opts);
      const cuts = [...new Set(fractions.map((f) => Math.floor(f * stream.length)))].sort((a, b) => a - b);
      const r = decodeExportItem(frameExportDataAt(stream, cuts));
      expect(r.complete).toBe(true);
      expect(r.framing.records.filter((x) => x.kind === 'transferBuffer').length).toBeGreaterThanOrEqual(1);
      expect(plain(r.item)).toEqual(plain(item));
    }), RUNS);
  });

  it('through the framing at small buffer sizes (1..64 bytes), base64 as Graph sends it', () => {
    fc.assert(fc.property(message(1), fc.integer({ min: 1, max: 64 }), (item, size) => {
      const framed = encodeExportItem(item, { bufferSizeBytes: size });
      const r = decodeExportItem(Buffer.from(framed).toString('base64'));
      expect(r.complete).toBe(true);
      expect(plain(r.item)).toEqual(plain(item));
    }), { numRuns: 60 });
  });

  it('a fixed item split into two TransferBuffers at every byte (inside every tag, length and character)', () => {
    const item = newMapiItem();
    item.properties.set(0x0037, PropType.String, 'Grüße 😀').set(0x0017, PropType.Integer32, 1).set(0x3ffd, PropType.Integer32, 1252)
      .set(0x0e1d, PropType.String8, 'Ünïcode?').setNamed({ guid: PSETID.Common, name: 'x-name' }, PropType.MultipleString, ['a', 'ß']);
    item.recipients.push(new PropertyBag().set(0x3001, PropType.String, 'Ann'));
    const emb = newMapiItem();
    emb.properties.set(0x0037, PropType.String, 'inner');
    item.attachments.push({ properties: new PropertyBag().set(0x0e21, PropType.Integer32, 0).set(0x3705, PropType.Integer32, 5), embedded: emb });
    const stream = encodeFtsMessage(item, { stringCodepage: (e) => (e.kind === 'tagged' && e.id === 0x0037 ? 1200 : undefined) });
    for (let k = 1; k < stream.length; k++) {
      expect(plain(decodeExportItem(frameExportDataAt(stream, [k])).item)).toEqual(plain(item));
    }
  });
});
