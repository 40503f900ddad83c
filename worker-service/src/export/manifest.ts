/**
 * Part manifests (`<part>.manifest.json`, {@link PartManifest}): built while a part is written in
 * compact columns — one id string, one folder and class index, a size, a fidelity bit and the
 * 64-digit SHA-256 per item (see docs/export.md for the measured bytes an item) — and
 * serialized once when the part closes, straight into one buffer of the exact size. No object per
 * item is held while the part is open.
 */
import type { SourceFidelity, SourceMailbox } from '../graph/source-types';
import type { ExportPass, FinishedPart, PartManifest } from './types';

/** Suffix of a part's manifest name: "user1-2.pst" → "user1-2.pst.manifest.json". */
export const MANIFEST_SUFFIX = '.manifest.json';

/** The manifest's object name for a part. */
export function manifestName(partName: string): string {
  return partName + MANIFEST_SUFFIX;
}

/** The manifest's mailbox block from the request's mailbox. */
export function manifestMailbox(mailbox: SourceMailbox): PartManifest['mailbox'] {
  return 'mailboxId' in mailbox
    ? { source: mailbox.user ?? mailbox.mailboxId, archive: false, mailboxId: mailbox.mailboxId }
    : { source: mailbox.user, archive: mailbox.archive === true };
}

/** Strings interned to small indexes (folder paths, message classes repeat across a part). */
class Interner {
  readonly values: string[] = [];
  private readonly index = new Map<string, number>();
  of(s: string): number {
    let i = this.index.get(s);
    if (i === undefined) {
      i = this.values.length;
      this.values.push(s);
      this.index.set(s, i);
    }
    return i;
  }
}

/** A growable typed-array column (×1.5 growth). */
class Column<T extends Float64Array | Uint32Array | Uint8Array> {
  length = 0;
  constructor(public data: T, private readonly make: (n: number) => T, private readonly width = 1) {}
  /** Room for one more record; returns its offset. */
  next(): number {
    if ((this.length + 1) * this.width > this.data.length) {
      const grown = this.make(Math.ceil(this.data.length * 1.5) + this.width);
      grown.set(this.data);
      this.data = grown;
    }
    return this.length++ * this.width;
  }
}
const f64 = () => new Column(new Float64Array(64), (n) => new Float64Array(n));
const u32 = () => new Column(new Uint32Array(64), (n) => new Uint32Array(n));

/** The items of one part as written so far (column store). */
export class ManifestBuilder {
  /** Source ids in write order (also {@link FinishedPart.sourceIds}). */
  readonly sourceIds: string[] = [];
  private readonly folders = new Interner();
  private readonly classes = new Interner();
  private readonly folderIx = u32();
  private readonly classIx = u32();
  private readonly sizes = f64();
  /** Bit 0: fidelity full; bit 1: a SHA-256 is present. */
  private readonly flags = new Column(new Uint8Array(64), (n) => new Uint8Array(n));
  /** 32 raw bytes an item (the hex string would be ~80 bytes of heap). */
  private readonly sha = new Column(new Uint8Array(64 * 32), (n) => new Uint8Array(n), 32);

  constructor(readonly name: string, readonly index: number) {}

  get items(): number {
    return this.sourceIds.length;
  }

  /** Records one written item. `sourceSha256`: 64 hex digits, or undefined. */
  add(sourceId: string, folderPath: string, messageClass: string, sizeBytes: number, fidelity: SourceFidelity, sourceSha256: string | undefined): void {
    this.sourceIds.push(sourceId);
    // next() may replace `data` (growth): take the offset before reading `data`
    const hasSha = sourceSha256 !== undefined && /^[0-9a-f]{64}$/i.test(sourceSha256);
    let o = this.folderIx.next();
    this.folderIx.data[o] = this.folders.of(folderPath);
    o = this.classIx.next();
    this.classIx.data[o] = this.classes.of(messageClass);
    o = this.sizes.next();
    this.sizes.data[o] = sizeBytes;
    o = this.flags.next();
    this.flags.data[o] = (fidelity === 'full' ? 1 : 0) | (hasSha ? 2 : 0);
    o = this.sha.next();
    if (hasSha) this.sha.data.set(Buffer.from(sourceSha256, 'hex'), o);
  }

  /**
   * The manifest JSON (UTF-8) of a {@link PartManifest}, one item per line. Written straight into
   * one buffer of the exact size (the lines are generated twice: once to measure, once to write),
   * so the peak is the columns plus the JSON once, not the JSON plus its pieces.
   */
  serialize(head: Omit<PartManifest, 'items'>): Uint8Array {
    const headJson = JSON.stringify(head);
    const first = headJson.slice(0, -1) + ',"items":[\n';
    const last = '\n]}\n';
    const folderJson = this.folders.values.map((f) => JSON.stringify(f));
    const classJson = this.classes.values.map((c) => JSON.stringify(c));
    const line = (i: number): string => {
      const f = this.flags.data[i];
      const sha = f & 2 ? Buffer.from(this.sha.data.buffer, this.sha.data.byteOffset + i * 32, 32).toString('hex') : undefined;
      return `${i ? ',\n' : ''}{"sourceId":${JSON.stringify(this.sourceIds[i])},"folderPath":${folderJson[this.folderIx.data[i]]},` +
        `"messageClass":${classJson[this.classIx.data[i]]},"sizeBytes":${this.sizes.data[i]},"fidelity":"${f & 1 ? 'full' : 'rest'}"` +
        `${sha ? `,"sourceSha256":"${sha}"` : ''}}`;
    };
    let total = Buffer.byteLength(first) + Buffer.byteLength(last);
    for (let i = 0; i < this.sourceIds.length; i++) total += Buffer.byteLength(line(i));
    const out = Buffer.allocUnsafe(total);
    let o = out.write(first, 0);
    for (let i = 0; i < this.sourceIds.length; i++) o += out.write(line(i), o);
    o += out.write(last, o);
    if (o !== total) throw new Error(`internal: manifest measured ${total} bytes, wrote ${o}`);
    return out;
  }
}

/**
 * Parses and checks a stored manifest. @returns the manifest, or undefined when the bytes are not
 * a version-1 manifest (a foreign or damaged object: its part counts as unfinished)
 */
export function parseManifest(bytes: Uint8Array): PartManifest | undefined {
  let m: unknown;
  try {
    m = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return undefined;
  }
  const o = m as PartManifest;
  if (!o || typeof o !== 'object' || o.version !== 1 || !o.part || typeof o.part.name !== 'string' || !Number.isSafeInteger(o.part.index)
    || typeof o.part.sizeBytes !== 'number' || typeof o.part.sha256 !== 'string' || !Array.isArray(o.items) || !o.mailbox) return undefined;
  if (!o.items.every((i) => i && typeof i.sourceId === 'string')) return undefined;
  return o;
}

/** The finished-part record a manifest stands for. */
export function finishedPartOf(m: PartManifest): FinishedPart {
  return { name: m.part.name, index: m.part.index, sizeBytes: m.part.sizeBytes, sha256: m.part.sha256, sourceIds: m.items.map((i) => i.sourceId), pass: m.pass as ExportPass };
}
