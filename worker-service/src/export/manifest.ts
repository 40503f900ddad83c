/**
 * Part manifests (`<part>.manifest.json`, {@link PartManifest}): built while a part is written in
 * compact columns — one id string, one folder and class index, a size, a fidelity bit and the
 * 64-digit SHA-256 per item (≈ 200-300 bytes an item with a typical 150-character Graph id) — and
 * serialized once when the part closes. No object per item is held while the part is open.
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

/** Growable Float64 / Uint32 columns. */
class NumberColumn {
  data: Float64Array = new Float64Array(64);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(Math.ceil(this.data.length * 1.5));
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
}

/** The items of one part as written so far (column store). */
export class ManifestBuilder {
  /** Source ids in write order (also {@link FinishedPart.sourceIds}). */
  readonly sourceIds: string[] = [];
  private readonly folders = new Interner();
  private readonly classes = new Interner();
  private readonly folderIx = new NumberColumn();
  private readonly classIx = new NumberColumn();
  private readonly sizes = new NumberColumn();
  private readonly fidelity = new NumberColumn();
  private readonly sha: (string | undefined)[] = [];

  constructor(readonly name: string, readonly index: number) {}

  get items(): number {
    return this.sourceIds.length;
  }

  /** Records one written item. */
  add(sourceId: string, folderPath: string, messageClass: string, sizeBytes: number, fidelity: SourceFidelity, sourceSha256: string | undefined): void {
    this.sourceIds.push(sourceId);
    this.folderIx.push(this.folders.of(folderPath));
    this.classIx.push(this.classes.of(messageClass));
    this.sizes.push(sizeBytes);
    this.fidelity.push(fidelity === 'full' ? 1 : 0);
    this.sha.push(sourceSha256);
  }

  /**
   * The manifest JSON (UTF-8), built as one chunk per item and joined once: the bytes of a
   * {@link PartManifest}, one item per line.
   */
  serialize(head: Omit<PartManifest, 'items'>): Uint8Array {
    const chunks: Buffer[] = [];
    const headJson = JSON.stringify(head);
    chunks.push(Buffer.from(headJson.slice(0, -1) + ',"items":[\n'));
    const folderJson = this.folders.values.map((f) => JSON.stringify(f));
    const classJson = this.classes.values.map((c) => JSON.stringify(c));
    for (let i = 0; i < this.sourceIds.length; i++) {
      const sha = this.sha[i];
      chunks.push(Buffer.from(
        `${i ? ',\n' : ''}{"sourceId":${JSON.stringify(this.sourceIds[i])},"folderPath":${folderJson[this.folderIx.data[i]]},` +
        `"messageClass":${classJson[this.classIx.data[i]]},"sizeBytes":${this.sizes.data[i]},"fidelity":"${this.fidelity.data[i] ? 'full' : 'rest'}"` +
        `${sha ? `,"sourceSha256":"${sha}"` : ''}}`,
      ));
    }
    chunks.push(Buffer.from('\n]}\n'));
    return Buffer.concat(chunks);
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
