/**
 * An encoded item (messaging/encode-item.ts) as one ArrayBuffer, so an encoder thread can hand it
 * to the writer's thread by transfer — no copy and no structured clone of a descriptor object:
 *
 *   u32 headerWords | header (u32 words) | padding to 8 | data
 *
 * The data region holds every heap block payload, subnode stream and the packed row end to end.
 * The header describes the node tree in pre-order; spans are (offset from the buffer's start, length):
 *   node  = nBlocks, span × nBlocks, nSubnodes, subnode × nSubnodes, sizeBytes, nChildren, child × nChildren
 *   subnode = nid, whole (1: one stream, 0: ready block payloads), nSpans, span × nSpans
 *   child = nid, node
 *   item  = node, span of the row, flags (1 associated, 2 unread)
 * Sizes and offsets are 32-bit: an item is < 4 GiB (a message's PidTagMessageSize is 32-bit too).
 */
import type { EncodedNode } from '../messaging/encode-message';
import type { EncodedStoreItem } from '../messaging/encode-item';

/** Error for a buffer that is not a packed item (a bug, never user input). */
export class PackedItemError extends Error {
  readonly code = 'BadPackedItem';
  constructor(message: string) {
    super(message);
    this.name = 'PackedItemError';
  }
}

class Packer {
  readonly header: number[] = [];
  readonly parts: Uint8Array[] = [];
  dataBytes = 0;
  span(b: Uint8Array): void {
    this.header.push(this.dataBytes, b.length); // relative to the data region; rebased when packed
    this.parts.push(b);
    this.dataBytes += b.length;
  }
  node(n: EncodedNode): void {
    const h = this.header;
    h.push(n.out.blocks.length);
    for (const b of n.out.blocks) this.span(b);
    h.push(n.out.subnodes.length);
    for (const s of n.out.subnodes) {
      h.push(s.nid >>> 0);
      if (Array.isArray(s.data)) {
        h.push(0, s.data.length);
        for (const d of s.data) this.span(d);
      } else {
        h.push(1, 1);
        this.span(typeof s.data === 'string' ? Buffer.from(s.data, 'utf16le') : s.data);
      }
    }
    h.push(n.sizeBytes >>> 0, n.children.length);
    for (const c of n.children) {
      h.push(c.nid >>> 0);
      this.node(c.node);
    }
  }
}

/** Largest buffer worth recycling; larger items (big attachments) get a buffer of their own. */
export const RECYCLE_MAX_BYTES = 1024 * 1024;

/**
 * Packs an encoded item into one ArrayBuffer (see the file comment): the first of `spare` that is
 * large enough (taken out of the list; bytes past the item are left as they are), else a new one.
 * @throws PackedItemError when the item passes 4 GiB
 */
export function packEncodedItem(enc: EncodedStoreItem, spare: ArrayBuffer[] = []): ArrayBuffer {
  const p = new Packer();
  p.node(enc.node);
  p.span(enc.row);
  p.header.push((enc.associated ? 1 : 0) | (enc.unread ? 2 : 0));
  const headerBytes = (1 + p.header.length) * 4;
  const dataStart = (headerBytes + 7) & ~7;
  if (dataStart + p.dataBytes > 0xffffffff) throw new PackedItemError(`an encoded item of ${p.dataBytes} bytes passes the 4 GiB a packed item holds`);
  const need = dataStart + p.dataBytes;
  const fit = need <= RECYCLE_MAX_BYTES ? spare.findIndex((b) => b.byteLength >= need) : -1;
  const buffer = fit >= 0 ? spare.splice(fit, 1)[0] : new ArrayBuffer(need <= RECYCLE_MAX_BYTES ? Math.ceil(need / 16384) * 16384 : need);
  const words = new Uint32Array(buffer, 0, 1 + p.header.length);
  words[0] = p.header.length;
  words.set(p.header, 1);
  const bytes = new Uint8Array(buffer);
  let o = dataStart;
  for (const part of p.parts) {
    bytes.set(part, o);
    o += part.length;
  }
  // spans were recorded relative to the data region; the reader adds dataStart
  return buffer;
}

/**
 * The encoded item a {@link packEncodedItem} buffer holds (views into `buffer`, no copies).
 * @throws PackedItemError for a buffer that does not parse
 */
export function unpackEncodedItem(buffer: ArrayBuffer): EncodedStoreItem {
  const n = new Uint32Array(buffer, 0, 1)[0];
  if ((1 + n) * 4 > buffer.byteLength) throw new PackedItemError('packed item header passes its buffer');
  const h = new Uint32Array(buffer, 4, n);
  const dataStart = ((1 + n) * 4 + 7) & ~7;
  let i = 0;
  const next = (): number => {
    if (i >= h.length) throw new PackedItemError('packed item header ends early');
    return h[i++];
  };
  const span = (): Uint8Array => {
    const off = next();
    const len = next();
    if (dataStart + off + len > buffer.byteLength) throw new PackedItemError('packed item span passes its buffer');
    return new Uint8Array(buffer, dataStart + off, len);
  };
  const node = (depth: number): EncodedNode => {
    if (depth > 64) throw new PackedItemError('packed item nests too deep');
    const blocks: Uint8Array[] = [];
    for (let k = next(); k > 0; k--) blocks.push(span());
    const subnodes: EncodedNode['out']['subnodes'] = [];
    for (let k = next(); k > 0; k--) {
      const nid = next();
      const whole = next() === 1;
      const spans: Uint8Array[] = [];
      for (let m = next(); m > 0; m--) spans.push(span());
      subnodes.push({ nid, data: whole ? spans[0] : spans });
    }
    const sizeBytes = next();
    const children: EncodedNode['children'] = [];
    for (let k = next(); k > 0; k--) {
      const nid = next();
      children.push({ nid, node: node(depth + 1) });
    }
    return { out: { blocks, subnodes }, children, sizeBytes };
  };
  const root = node(0);
  // the row is kept until its folder's table is written (row-spill.ts): a copy, so that the buffer
  // can go back to its thread (and a 200-byte row does not hold a 14 KB buffer alive)
  const row = span().slice();
  const flags = next();
  return { node: root, row, associated: (flags & 1) !== 0, unread: (flags & 2) !== 0 };
}
