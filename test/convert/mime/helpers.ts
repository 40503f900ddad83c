/** Test helpers for MIME conversion: build messages with CRLF line ends and read properties. */
import { TAG, type TagDef } from '../../../worker-service/src/mapi/tags';
import type { MapiItem, PropertyBag } from '../../../worker-service/src/mapi/item';

/** Joins lines with CRLF and encodes as latin1 (bytes 0-255 as given), so tests control every byte. */
export function crlf(...lines: string[]): Buffer {
  return Buffer.from(lines.join('\r\n'), 'latin1');
}
/** Base64 of bytes, as a MIME body line. */
export function b64(bytes: Uint8Array | string): string {
  return Buffer.from(bytes).toString('base64');
}
/** A tagged property's value. */
export function prop(bag: PropertyBag, def: TagDef): unknown {
  const tv = bag.getTyped(def.id);
  if (tv && tv.type !== def.type) throw new Error(`property 0x${def.id.toString(16)} has type 0x${tv.type.toString(16)}, expected 0x${def.type.toString(16)}`);
  return tv?.value;
}
/** The subject of an item. */
export function subjectOf(item: MapiItem): unknown {
  return prop(item.properties, TAG.PidTagSubject);
}
