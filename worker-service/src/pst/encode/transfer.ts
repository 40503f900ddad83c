/**
 * An encoded item (messaging/encode-item.ts) as one ArrayBuffer plus a small descriptor, so an
 * encoder thread can hand it to the writer's thread by transfer instead of by copy: every block
 * payload, subnode stream and the packed row are laid end to end; the descriptor gives each one's
 * (offset, length) and the node tree (subnode NIDs, sizes).
 */
import type { EncodedNode } from '../messaging/encode-message';
import type { EncodedStoreItem } from '../messaging/encode-item';

/** Descriptor of one encoded node: b = heap block spans [offset, length, …]; s = subnode streams; c = child nodes; z = sizeBytes. */
export interface PackedNode {
  b: number[];
  s: { n: number; d: number[]; whole: boolean }[];
  c: { n: number; x: PackedNode }[];
  z: number;
}

/** Descriptor of an encoded item: its node tree, the row's span, the FAI and unread flags. */
export interface PackedItem {
  node: PackedNode;
  row: [number, number];
  associated: boolean;
  unread: boolean;
}

class Spans {
  readonly parts: Uint8Array[] = [];
  total = 0;
  add(b: Uint8Array, out: number[]): void {
    out.push(this.total, b.length);
    this.parts.push(b);
    this.total += b.length;
  }
}

function packNode(n: EncodedNode, spans: Spans): PackedNode {
  const b: number[] = [];
  for (const blk of n.out.blocks) spans.add(blk, b);
  const s = n.out.subnodes.map((sn) => {
    const d: number[] = [];
    if (Array.isArray(sn.data)) for (const x of sn.data) spans.add(x, d);
    else spans.add(sn.data, d);
    return { n: sn.nid, d, whole: !Array.isArray(sn.data) };
  });
  return { b, s, c: n.children.map((c) => ({ n: c.nid, x: packNode(c.node, spans) })), z: n.sizeBytes };
}

/** Packs an encoded item into one new ArrayBuffer (transferable) and its descriptor. */
export function packEncodedItem(enc: EncodedStoreItem): { desc: PackedItem; buffer: ArrayBuffer } {
  const spans = new Spans();
  const node = packNode(enc.node, spans);
  const row: number[] = [];
  spans.add(enc.row, row);
  const all = new Uint8Array(spans.total);
  let o = 0;
  for (const p of spans.parts) {
    all.set(p, o);
    o += p.length;
  }
  return { desc: { node, row: [row[0], row[1]], associated: enc.associated, unread: enc.unread }, buffer: all.buffer };
}

function views(buffer: ArrayBuffer, spans: number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < spans.length; i += 2) out.push(new Uint8Array(buffer, spans[i], spans[i + 1]));
  return out;
}

function unpackNode(p: PackedNode, buffer: ArrayBuffer): EncodedNode {
  return {
    out: { blocks: views(buffer, p.b), subnodes: p.s.map((s) => ({ nid: s.n, data: s.whole ? views(buffer, s.d)[0] : views(buffer, s.d) })) },
    children: p.c.map((c) => ({ nid: c.n, node: unpackNode(c.x, buffer) })),
    sizeBytes: p.z,
  };
}

/** The encoded item a {@link packEncodedItem} result describes (views into `buffer`, no copies). */
export function unpackEncodedItem(desc: PackedItem, buffer: ArrayBuffer): EncodedStoreItem {
  return { node: unpackNode(desc.node, buffer), associated: desc.associated, unread: desc.unread, row: new Uint8Array(buffer, desc.row[0], desc.row[1]) };
}
