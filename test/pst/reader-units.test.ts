/**
 * Unit tests of the read layers from hand-built bytes (no ../shared needed): header errors, heap
 * allocation lookup, PC/TC value decoding, multi-valued layouts (MS-PST 2.3.3.4.2).
 */
import { parseHeader } from '../../worker-service/src/pst/ndb/read-header';
import { PstReadError } from '../../worker-service/src/pst/ndb/read-error';
import { HeapOnNode } from '../../worker-service/src/pst/ltp/read-heap';
import { decodeValue } from '../../worker-service/src/pst/ltp/read-value';
import { PstReader } from '../../worker-service/src/pst/reader';
import { PropType } from '../../worker-service/src/mapi/types';

function code(fn: () => unknown): string | undefined {
  try { fn(); } catch (e) { return e instanceof PstReadError ? e.code : `not PstReadError: ${String(e)}`; }
  return undefined;
}

describe('parseHeader', () => {
  it('rejects a wrong magic, an unknown wVer and a short file with codes', () => {
    const b = new Uint8Array(564);
    expect(code(() => parseHeader(b))).toBe('BadHeaderMagic');
    b.set([0x21, 0x42, 0x44, 0x4e], 0); b.set([0x53, 0x4d], 8); b[10] = 99;
    expect(code(() => parseHeader(b))).toBe('UnsupportedVersion');
    b[10] = 36;
    expect(code(() => parseHeader(b))).toBe('UnsupportedVersion');
    b[10] = 23;
    expect(code(() => parseHeader(b))).toBe('HeaderCrcMismatch');
    expect(code(() => parseHeader(b.subarray(0, 100)))).toBe('Truncated');
  });
  it('openBytes on garbage throws PstReadError', async () => {
    await expect(PstReader.openBytes(new Uint8Array(10))).rejects.toMatchObject({ code: 'Truncated' });
  });
});

describe('HeapOnNode', () => {
  // One block: HNHDR (12) + two allocations "abcd" (12..16) and "xy" (16..18), page map at 18.
  const block = new Uint8Array([18, 0, 0xec, 0xbc, 0x20, 0, 0, 0, 0, 0, 0, 0, 97, 98, 99, 100, 120, 121, 2, 0, 0, 0, 12, 0, 16, 0, 18, 0]);
  it('returns allocations by HID (hidIndex 1-based, MS-PST 2.3.1.1)', () => {
    const h = new HeapOnNode([block], 0x21);
    expect(Buffer.from(h.get(0x20)).toString()).toBe('abcd');
    expect(Buffer.from(h.get(0x40)).toString()).toBe('xy');
    expect(code(() => h.get(0x60))).toBe('HeapOutOfBounds');
    expect(code(() => h.get(0x10020))).toBe('HeapOutOfBounds');
    expect(code(() => h.get(0x21))).toBe('BadHid');
  });
  it('rejects a page map outside the block', () => {
    const bad = block.slice(); bad[0] = 200;
    expect(code(() => new HeapOnNode([bad], 1))).toBe('BadHeap');
  });
});

describe('decodeValue', () => {
  it('decodes scalars in Outport shapes', () => {
    expect(decodeValue(PropType.Integer32, new Uint8Array([0xff, 0xff, 0xff, 0xff]))).toBe(-1);
    expect(decodeValue(PropType.Boolean, new Uint8Array([1]))).toBe(true);
    expect(decodeValue(PropType.Time, new Uint8Array([0, 0x80, 0x3e, 0xd5, 0xde, 0xb1, 0x9d, 0x01]))).toBe(116444736000000000n);
    expect(decodeValue(PropType.String, Buffer.from('héllo', 'utf16le'))).toBe('héllo');
    expect(decodeValue(PropType.String8, new Uint8Array([0x80, 0x41]), 1252)).toBe('€A');
    expect(decodeValue(PropType.Guid, new Uint8Array([0x29, 0x03, 0x02, 0, 0, 0, 0, 0, 0xc0, 0, 0, 0, 0, 0, 0, 0x46]))).toBe('00020329-0000-0000-c000-000000000046');
  });
  it('decodes multi-valued layouts (MS-PST 2.3.3.4.2)', () => {
    expect(decodeValue(PropType.MultipleInteger32, new Uint8Array([1, 0, 0, 0, 2, 0, 0, 0]))).toEqual([1, 2]);
    const mv = new Uint8Array([2, 0, 0, 0, 12, 0, 0, 0, 14, 0, 0, 0, 0x61, 0, 0x62, 0, 0x63, 0]);
    expect(decodeValue(PropType.MultipleString, mv)).toEqual(['a', 'bc']);
    const bad = mv.slice(); bad[4] = 200;
    expect(code(() => decodeValue(PropType.MultipleString, bad))).toBe('BadPropertyValue');
    expect(code(() => decodeValue(PropType.MultipleInteger32, new Uint8Array(3)))).toBe('BadPropertyValue');
  });
});
