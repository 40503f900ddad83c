/**
 * A conservative estimate of an item's bytes in a PST, for the writer's split rule (writer.ts) and
 * encoder threads (encode/thread.ts), which compute it beside the item before it is encoded.
 */
import type { MapiItem } from '../mapi/item';
import { fixedSize, isMultiValued, type PropValue } from '../mapi/types';

function valueBytes(v: PropValue): number {
  if (v === null) return 0;
  if (typeof v === 'string') return v.length * 2;
  if (v instanceof Uint8Array) return v.length;
  if (Array.isArray(v)) return (v as unknown[]).reduce<number>((a, x) => a + valueBytes(x as PropValue) + 4, 0);
  return 8;
}

/** A conservative estimate of an item's bytes in a PST (values, heap/table overhead, attachments, embedded messages). */
export function estimateItemBytes(item: MapiItem): number {
  let n = 2048;
  item.properties.forEachValue((type, value) => {
    n += (isMultiValued(type) || fixedSize(type) === 0 ? valueBytes(value) : 8) + 12;
  });
  for (const r of item.recipients) r.forEachValue((_t, value) => (n += valueBytes(value) + 16));
  for (const a of item.attachments) {
    n += 1024;
    a.properties.forEachValue((_t, value) => (n += valueBytes(value) + 12));
    if (a.embedded) n += estimateItemBytes(a.embedded);
  }
  // data blocks carry a 16-byte trailer and 64-byte alignment per 8176 bytes, plus tree pages
  return Math.ceil(n * 1.03) + 512;
}
