/**
 * A set of source ids kept as 96-bit hashes in one typed array (docs/export.md "Memory"): what a
 * run needs to drop an item it has already written (a source that yields an id twice, an id of a
 * finished part) without holding the id strings. A `Set<string>` of Graph ids (~54 characters)
 * costs ~100 bytes of JS heap an id; this costs 12 bytes a slot at a load of at most 1/2, i.e.
 * 24-48 bytes an id, outside the JS heap.
 *
 * Hash: the first 96 bits of SHA-256 of the id's UTF-8 bytes. Two distinct ids collide with
 * probability ~n² / 2^97 (for a million ids ~1e-17); a collision would make the second id look
 * written already. Membership only: the ids cannot be listed back.
 */
import { createHash } from 'node:crypto';

/** Words (uint32) a slot: 96 bits of hash. An all-zero slot is empty. */
const WORDS = 3;

/** Open addressing, linear probing, doubling at a load of 1/2. */
export class IdHashSet {
  private table: Uint32Array;
  private mask: number;
  private count = 0;

  /** @param expected ids expected (sizes the first table; it grows as needed) */
  constructor(expected = 512) {
    let slots = 1024;
    while (slots < expected * 2) slots *= 2;
    this.table = new Uint32Array(slots * WORDS);
    this.mask = slots - 1;
  }

  /** Ids held. */
  get size(): number {
    return this.count;
  }

  /** Bytes of the table (external memory). */
  get byteLength(): number {
    return this.table.byteLength;
  }

  /** Adds `id`. @returns true when it was not there yet */
  add(id: string): boolean {
    const h = hashOf(id);
    if (this.find(h[0], h[1], h[2]) >= 0) return false;
    if ((this.count + 1) * 2 > this.mask + 1) this.grow();
    this.insert(h[0], h[1], h[2]);
    this.count++;
    return true;
  }

  /** A set of the same ids that grows on its own (the table is copied). */
  clone(): IdHashSet {
    const c = new IdHashSet(0);
    c.table = this.table.slice();
    c.mask = this.mask;
    c.count = this.count;
    return c;
  }

  /** Whether `id` was added. */
  has(id: string): boolean {
    const h = hashOf(id);
    return this.find(h[0], h[1], h[2]) >= 0;
  }

  private find(a: number, b: number, c: number): number {
    const t = this.table;
    for (let s = a & this.mask; ; s = (s + 1) & this.mask) {
      const o = s * WORDS;
      if (t[o] === a && t[o + 1] === b && t[o + 2] === c) return s;
      if (t[o] === 0 && t[o + 1] === 0 && t[o + 2] === 0) return -1;
    }
  }

  private insert(a: number, b: number, c: number): void {
    const t = this.table;
    for (let s = a & this.mask; ; s = (s + 1) & this.mask) {
      const o = s * WORDS;
      if (t[o] === 0 && t[o + 1] === 0 && t[o + 2] === 0) {
        t[o] = a;
        t[o + 1] = b;
        t[o + 2] = c;
        return;
      }
    }
  }

  private grow(): void {
    const old = this.table;
    const slots = (this.mask + 1) * 2;
    this.table = new Uint32Array(slots * WORDS);
    this.mask = slots - 1;
    for (let o = 0; o < old.length; o += WORDS) {
      if (old[o] !== 0 || old[o + 1] !== 0 || old[o + 2] !== 0) this.insert(old[o], old[o + 1], old[o + 2]);
    }
  }
}

/** The id's 96-bit hash as three uint32s, never all zero (that marks an empty slot). */
function hashOf(id: string): [number, number, number] {
  const d = createHash('sha256').update(id, 'utf8').digest();
  const a = d.readUInt32LE(0);
  const b = d.readUInt32LE(4);
  let c = d.readUInt32LE(8);
  if (a === 0 && b === 0 && c === 0) c = 1;
  return [a, b, c];
}
