/**
 * The checker's per-block and per-node bookkeeping, held in typed arrays (about 40 bytes a block
 * and 25 bytes a node, no per-entry objects) so a 10 GB PST with millions of blocks stays within a
 * bounded, predictable heap. Both tables are filled in B-tree key order and searched by binary search.
 */

/** Block kinds (MS-PST 2.2.2.8): external data block or one of the internal block types. */
export const enum BlockKind {
  Unknown = 0,
  Data = 1,
  XBlock = 2,
  XXBlock = 3,
  SlBlock = 4,
  SiBlock = 5,
  /** Could not be read or parsed (a finding was made). */
  Bad = 6,
}

function grow<T extends Float64Array | Uint32Array | Uint8Array>(a: T, n: number, make: (n: number) => T): T {
  if (n <= a.length) return a;
  const b = make(Math.max(n, a.length * 2));
  b.set(a);
  return b;
}

/** Every BBT entry (MS-PST 2.2.2.7.7.3) plus what the checks learn about it. */
export class BlockTable {
  length = 0;
  bid = new Float64Array(1024);
  ib = new Float64Array(1024);
  cb = new Uint32Array(1024);
  cRef = new Uint32Array(1024);
  /** References counted from the NBT and from internal blocks. */
  refs = new Uint32Array(1024);
  kind = new Uint8Array(1024);
  /** lcbTotal of XBLOCK/XXBLOCK blocks (bytes); 0 otherwise. */
  lcb = new Float64Array(1024);
  sorted = true;

  push(bid: number, ib: number, cb: number, cRef: number): void {
    const n = this.length + 1;
    if (n > this.bid.length) {
      this.bid = grow(this.bid, n, (k) => new Float64Array(k));
      this.ib = grow(this.ib, n, (k) => new Float64Array(k));
      this.cb = grow(this.cb, n, (k) => new Uint32Array(k));
      this.cRef = grow(this.cRef, n, (k) => new Uint32Array(k));
      this.refs = grow(this.refs, n, (k) => new Uint32Array(k));
      this.kind = grow(this.kind, n, (k) => new Uint8Array(k));
      this.lcb = grow(this.lcb, n, (k) => new Float64Array(k));
    }
    if (this.length > 0 && bid <= this.bid[this.length - 1]) this.sorted = false;
    const i = this.length++;
    this.bid[i] = bid; this.ib[i] = ib; this.cb[i] = cb; this.cRef[i] = cRef;
  }

  /** Sorts by BID when the B-tree was out of order, so that lookups still work. */
  ensureSorted(): void {
    if (this.sorted) return;
    const n = this.length;
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort((a, b) => this.bid[a] - this.bid[b]);
    const perm = <T extends Float64Array | Uint32Array | Uint8Array>(a: T): T => {
      const c = a.slice(0, n) as T;
      for (let i = 0; i < n; i++) a[i] = c[order[i]];
      return a;
    };
    perm(this.bid); perm(this.ib); perm(this.cb); perm(this.cRef); perm(this.refs); perm(this.kind); perm(this.lcb);
    this.sorted = true;
  }

  /** Index of the block with this BID (bit 0 ignored, MS-PST 2.2.2.2), or -1. */
  find(bid: number): number {
    const key = bid - (bid % 2);
    let lo = 0, hi = this.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = this.bid[mid] - (this.bid[mid] % 2);
      if (v === key) return mid;
      if (v < key) lo = mid + 1; else hi = mid - 1;
    }
    return -1;
  }

  /** Block indexes ordered by file offset. */
  byOffset(): Uint32Array {
    const order = new Uint32Array(this.length);
    for (let i = 0; i < this.length; i++) order[i] = i;
    return order.sort((a, b) => this.ib[a] - this.ib[b]);
  }
}

/** Every NBT leaf entry (MS-PST 2.2.2.7.7.4). */
export class NodeTable {
  length = 0;
  nid = new Uint32Array(1024);
  parent = new Uint32Array(1024);
  bidData = new Float64Array(1024);
  bidSub = new Float64Array(1024);
  /** Set when a folder table lists the node (messaging checks). */
  listed = new Uint8Array(1024);
  sorted = true;

  push(nid: number, bidData: number, bidSub: number, parent: number): void {
    const n = this.length + 1;
    if (n > this.nid.length) {
      this.nid = grow(this.nid, n, (k) => new Uint32Array(k));
      this.parent = grow(this.parent, n, (k) => new Uint32Array(k));
      this.bidData = grow(this.bidData, n, (k) => new Float64Array(k));
      this.bidSub = grow(this.bidSub, n, (k) => new Float64Array(k));
      this.listed = grow(this.listed, n, (k) => new Uint8Array(k));
    }
    if (this.length > 0 && nid <= this.nid[this.length - 1]) this.sorted = false;
    const i = this.length++;
    this.nid[i] = nid; this.bidData[i] = bidData; this.bidSub[i] = bidSub; this.parent[i] = parent;
  }

  ensureSorted(): void {
    if (this.sorted) return;
    const n = this.length;
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort((a, b) => this.nid[a] - this.nid[b]);
    const perm = <T extends Float64Array | Uint32Array | Uint8Array>(a: T): T => {
      const c = a.slice(0, n) as T;
      for (let i = 0; i < n; i++) a[i] = c[order[i]];
      return a;
    };
    perm(this.nid); perm(this.parent); perm(this.bidData); perm(this.bidSub); perm(this.listed);
    this.sorted = true;
  }

  /** Index of the node with this NID, or -1. */
  find(nid: number): number {
    nid >>>= 0;
    let lo = 0, hi = this.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = this.nid[mid];
      if (v === nid) return mid;
      if (v < nid) lo = mid + 1; else hi = mid - 1;
    }
    return -1;
  }
}
