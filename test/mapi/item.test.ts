/** mapi/item.ts PropertyBag and mapi/guid.ts normalizeGuid (MS-OXCDATA 2.5.1 GUID text forms). */
import { GuidFormatError, normalizeGuid } from '../../worker-service/src/mapi/guid';
import { PropertyBag } from '../../worker-service/src/mapi/item';
import { PropType } from '../../worker-service/src/mapi/types';

describe('PropertyBag.clone', () => {
  it('copies every property in order; later changes to either bag stay in that bag', () => {
    const a = new PropertyBag().set(0x0037, PropType.String, 'subject').set(0x0017, PropType.Integer32, 1);
    a.setNamed({ guid: '00062008-0000-0000-c000-000000000046', lid: 0x8580 }, PropType.Integer32, 5);
    const b = a.clone();
    expect([...b.entries()]).toEqual([...a.entries()]);
    b.set(0x0037, PropType.String, 'changed');
    b.delete(0x0017);
    b.setNamed({ guid: '00062008-0000-0000-c000-000000000046', lid: 0x8580 }, PropType.Integer32, 6);
    a.set(0x1000, PropType.String, 'body');
    expect(a.get(0x0037)).toBe('subject');
    expect(a.get(0x0017)).toBe(1);
    expect(a.getNamed({ guid: '00062008-0000-0000-c000-000000000046', lid: 0x8580 })?.value).toBe(5);
    expect(b.get(0x0037)).toBe('changed');
    expect(b.has(0x0017)).toBe(false);
    expect(b.has(0x1000)).toBe(false);
    expect(b.size).toBe(2);
  });
});

describe('normalizeGuid', () => {
  it('gives the lower-case form without braces, the same on every call', () => {
    for (let i = 0; i < 3; i++) {
      expect(normalizeGuid('{00020329-0000-0000-C000-000000000046}')).toBe('00020329-0000-0000-c000-000000000046');
      expect(normalizeGuid('00020329-0000-0000-c000-000000000046')).toBe('00020329-0000-0000-c000-000000000046');
    }
  });
  it('refuses a malformed GUID every time (a refusal is not remembered as a value)', () => {
    for (let i = 0; i < 3; i++) expect(() => normalizeGuid('00020329-0000-0000-C000-00000000004')).toThrow(GuidFormatError);
  });
  it('stays right past its memory bound (thousands of distinct GUIDs)', () => {
    for (let i = 0; i < 5000; i++) {
      const hex = i.toString(16).padStart(12, '0');
      expect(normalizeGuid(`{ABCDEF01-0000-0000-0000-${hex.toUpperCase()}}`)).toBe(`abcdef01-0000-0000-0000-${hex}`);
    }
  });
});
