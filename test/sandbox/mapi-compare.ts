/** A comparable form of a MapiItem (every property of the item, its recipients and attachments, recursively). */
import type { MapiItem, PropertyBag } from '../../worker-service/src/mapi/item';
import { namedKeyString } from '../../worker-service/src/mapi/named';

function bagRows(bag: PropertyBag): [string, number, unknown][] {
  return [...bag.entries()].map((e) => {
    const key = e.kind === 'tagged' ? `0x${e.id.toString(16).padStart(4, '0')}` : namedKeyString(e.key);
    const v = e.value;
    const value = v instanceof Uint8Array ? `bytes:${Buffer.from(v).toString('hex')}`
      : Array.isArray(v) ? (v as unknown[]).map((x) => (x instanceof Uint8Array ? `bytes:${Buffer.from(x).toString('hex')}` : typeof x === 'bigint' ? `${x}n` : x))
      : typeof v === 'bigint' ? `${v}n` : v;
    return [key, e.type as number, value] as [string, number, unknown];
  }).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** Plain data for `toEqual`. */
export function comparable(item: MapiItem): unknown {
  return {
    properties: bagRows(item.properties),
    recipients: item.recipients.map(bagRows),
    attachments: item.attachments.map((a) => ({ properties: bagRows(a.properties), embedded: a.embedded ? comparable(a.embedded) : undefined })),
  };
}

/**
 * The attachments as REST can carry them: every property but PidTagAttachNumber (0x0e21), which
 * Exchange keeps and exportItems carries, while a MIME message has no attachment numbers (the PST
 * writer assigns them).
 */
export function restAttachments(item: MapiItem): unknown {
  const strip = (it: MapiItem): unknown => it.attachments.map((a) => ({
    properties: bagRows(a.properties).filter((r) => r[0] !== '0x0e21'),
    embedded: a.embedded ? { ...(comparable(a.embedded) as object), attachments: strip(a.embedded) } : undefined,
  }));
  return strip(item);
}
