/**
 * Part manifests (`<part>.manifest.json`, {@link PartManifest}; format in docs/export.md): one
 * JSON object, one item per line. While a part is written its item lines are spilled to a temporary
 * file as they come ({@link ManifestBuilder}); at the part's close the manifest streams from that
 * file to the destination ({@link ManifestBuilder.chunks} → `Destination.putStream`), so neither the
 * items nor the JSON are ever held in memory whole: a part of a million items costs the same
 * memory as a part of ten (docs/export.md "Memory"), and ~250 bytes an item of temporary disk.
 */
import { closeSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { SourceFidelity, SourceMailbox } from '../graph/source-types';
import type { ExportPass, FinishedPart, PartManifest } from './types';

/** Suffix of a part's manifest name: "user1-2.pst" → "user1-2.pst.manifest.json". */
export const MANIFEST_SUFFIX = '.manifest.json';

/** Content type the manifests are stored with. */
export const MANIFEST_CONTENT_TYPE = 'application/json';

/** Bytes gathered before one write to the spill file, and the size of the chunks read back. */
const SPILL_BUFFER_BYTES = 256 * 1024;

/** Folder paths and classes whose JSON is kept (a mailbox has a few hundred folders; beyond this, re-encoded each time). */
const MAX_CACHED_STRINGS = 10_000;

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

/** Options of {@link ManifestBuilder}. */
export interface ManifestBuilderOptions {
  /** Directory of the spill file (default: the OS temporary directory). */
  spillDir?: string;
}

/**
 * The items of one part as written so far, spilled to a temporary file (one JSON line an item,
 * exactly as they appear in the manifest). On POSIX systems the file is unlinked as soon as it is
 * opened, so a crash leaves nothing behind; elsewhere it is removed by {@link dispose}.
 * Memory: one 256 KiB buffer, whatever the number of items.
 */
export class ManifestBuilder {
  private fd: number | undefined;
  private readonly file: string;
  private unlinked = false;
  private readonly buffer = Buffer.allocUnsafe(SPILL_BUFFER_BYTES);
  private used = 0;
  /** Bytes in the file (without the buffer). */
  private fileBytes = 0;
  private count = 0;
  private readonly json = new Map<string, string>();

  /**
   * @throws Error (fs) when the spill file cannot be created in `spillDir`
   */
  constructor(readonly name: string, readonly index: number, options: ManifestBuilderOptions = {}) {
    const dir = options.spillDir ?? tmpdir();
    this.file = path.join(dir, `outport-manifest-${process.pid}-${randomBytes(6).toString('hex')}.jsonl`);
    this.fd = openSync(this.file, 'wx+', 0o600);
    try {
      unlinkSync(this.file);
      this.unlinked = true;
    } catch { /* Windows: an open file cannot be removed; dispose() removes it */ }
  }

  /** Items added. */
  get items(): number {
    return this.count;
  }

  /** Bytes of the item lines spilled so far (the manifest is this plus its head and tail). */
  get spilledBytes(): number {
    return this.fileBytes + this.used;
  }

  private quoted(s: string): string {
    let j = this.json.get(s);
    if (j === undefined) {
      j = JSON.stringify(s);
      if (this.json.size < MAX_CACHED_STRINGS) this.json.set(s, j);
    }
    return j;
  }

  /**
   * Records one written item (appends its manifest line). `sourceSha256`: 64 hex digits, or
   * undefined (anything else is left out). @throws Error (fs) when the spill file cannot be written
   */
  add(sourceId: string, folderPath: string, messageClass: string, sizeBytes: number, fidelity: SourceFidelity, sourceSha256: string | undefined): void {
    const hasSha = sourceSha256 !== undefined && /^[0-9a-f]{64}$/i.test(sourceSha256);
    const line = `${this.count ? ',\n' : ''}{"sourceId":${JSON.stringify(sourceId)},"folderPath":${this.quoted(folderPath)},` +
      `"messageClass":${this.quoted(messageClass)},"sizeBytes":${sizeBytes},"fidelity":"${fidelity === 'full' ? 'full' : 'rest'}"` +
      `${hasSha ? `,"sourceSha256":"${sourceSha256.toLowerCase()}"` : ''}}`;
    this.count++;
    const n = Buffer.byteLength(line);
    if (n > this.buffer.length - this.used) {
      this.flush();
      if (n > this.buffer.length) {
        this.writeFile(Buffer.from(line));
        return;
      }
    }
    this.used += this.buffer.write(line, this.used);
  }

  private open(): number {
    if (this.fd === undefined) throw new Error(`internal: the manifest spill of ${this.name} is already disposed`);
    return this.fd;
  }

  private writeFile(bytes: Uint8Array): void {
    const fd = this.open();
    let done = 0;
    while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, this.fileBytes + done);
    this.fileBytes += bytes.length;
  }

  private flush(): void {
    if (this.used === 0) return;
    this.writeFile(this.buffer.subarray(0, this.used));
    this.used = 0;
  }

  /**
   * The manifest's bytes (UTF-8 JSON of a {@link PartManifest}, one item a line): `head` with
   * `"items":[`, the spilled lines, `]}`. Chunks of at most 256 KiB; each chunk is valid only
   * until the next one is asked for (the buffer is reused): a consumer copies or writes it first.
   */
  async *chunks(head: Omit<PartManifest, 'items'>): AsyncGenerator<Uint8Array> {
    this.flush();
    const fd = this.open();
    const headJson = JSON.stringify(head);
    yield Buffer.from(headJson.slice(0, -1) + ',"items":[\n');
    for (let pos = 0; pos < this.fileBytes;) {
      const n = readSync(fd, this.buffer, 0, Math.min(this.buffer.length, this.fileBytes - pos), pos);
      if (n <= 0) throw new Error(`manifest spill of ${this.name}: read ${pos} of ${this.fileBytes} bytes, then the file ended`);
      pos += n;
      yield this.buffer.subarray(0, n);
    }
    yield Buffer.from('\n]}\n');
  }

  /** The manifest whole in one buffer (tests and small parts; the export streams {@link chunks}). */
  async serialize(head: Omit<PartManifest, 'items'>): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const c of this.chunks(head)) parts.push(Buffer.from(c));
    return Buffer.concat(parts);
  }

  /** The source ids of the items added, in order, read back from the spill file. */
  async sourceIds(): Promise<string[]> {
    const ids: string[] = [];
    for await (const line of itemLines(this.chunks({} as Omit<PartManifest, 'items'>))) ids.push((JSON.parse(line) as { sourceId: string }).sourceId);
    return ids;
  }

  /** Closes and removes the spill file (idempotent). */
  dispose(): void {
    if (this.fd === undefined) return;
    try {
      closeSync(this.fd);
    } finally {
      this.fd = undefined;
      if (!this.unlinked) {
        try { unlinkSync(this.file); } catch { /* already gone */ }
      }
    }
  }
}

/**
 * The item lines of a manifest's bytes, one JSON object each (trailing commas removed), from
 * chunks in the layout {@link ManifestBuilder.chunks} writes (the first line, the head, is skipped).
 * Lines are decoded one at a time: the manifest is never one string.
 */
async function* itemLines(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): AsyncGenerator<string> {
  let first = true;
  for await (const raw of splitLines(chunks)) {
    if (first) { first = false; continue; }
    let s = raw.trim();
    if (s.endsWith(',')) s = s.slice(0, -1);
    if (s === '' || s === ']}') continue;
    yield s;
  }
}

/** Every line of the chunks' bytes (UTF-8, without the "\n"), a line cut across chunks joined. */
async function* splitLines(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): AsyncGenerator<string> {
  let rest: Buffer = Buffer.alloc(0);
  for await (const c of chunks) {
    const view = Buffer.from(c.buffer, c.byteOffset, c.byteLength); // no copy: a whole manifest may come as one chunk
    let buf = rest.length ? Buffer.concat([rest, view]) : view;
    let nl: number;
    while ((nl = buf.indexOf(10)) >= 0) {
      yield buf.subarray(0, nl).toString('utf8');
      buf = buf.subarray(nl + 1);
    }
    rest = Buffer.from(buf); // the unfinished line, copied: the producer may reuse its buffer
  }
  if (rest.length) yield rest.toString('utf8');
}

const isHead = (o: PartManifest): boolean => !!o && typeof o === 'object' && o.version === 1 && !!o.part && typeof o.part.name === 'string'
  && Number.isSafeInteger(o.part.index) && typeof o.part.sizeBytes === 'number' && typeof o.part.sha256 === 'string' && !!o.mailbox;

/**
 * Parses and checks a stored manifest. @returns the manifest, or undefined when the bytes are not
 * a version-1 manifest (a foreign or damaged object: its part counts as unfinished)
 */
export function parseManifest(bytes: Uint8Array): PartManifest | undefined {
  let m: unknown;
  try {
    m = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch {
    return undefined;
  }
  const o = m as PartManifest;
  if (!isHead(o) || !Array.isArray(o.items)) return undefined;
  if (!o.items.every((i) => i && typeof i.sourceId === 'string')) return undefined;
  return o;
}

/**
 * The head of a stored manifest (everything but the items) and its items' source ids, read line
 * by line: memory is the ids, not the manifest's objects (a resume of a part of a million items).
 * Manifests in another layout (not one item a line) are parsed whole.
 * @returns undefined when the bytes are not a version-1 manifest
 */
export async function parseManifestIds(bytes: Uint8Array): Promise<{ head: Omit<PartManifest, 'items'>; sourceIds: string[] } | undefined> {
  const sourceIds: string[] = [];
  const read = await readManifestIds(bytes, (id) => { sourceIds.push(id); });
  return read && { head: read.head, sourceIds };
}

/**
 * Like {@link parseManifestIds}, but hands each item's source id to `onId` as it is read, so that
 * no array of the ids is built (a resume of a part of a million items; export/run.ts).
 * @returns the head and the number of ids, or undefined when the bytes are not a version-1
 *          manifest — `onId` may have been called for some ids before that was found
 */
export async function readManifestIds(bytes: Uint8Array | AsyncIterable<Uint8Array>, onId: (sourceId: string) => void): Promise<{ head: Omit<PartManifest, 'items'>; count: number } | undefined> {
  if (!(bytes instanceof Uint8Array)) return readManifestIdsStreamed(bytes, onId);
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const nl = buf.indexOf(10);
  const headLine = nl >= 0 ? buf.subarray(0, nl).toString('utf8') : '';
  // the layout ManifestBuilder writes: read a line at a time, as a stream of one chunk
  if (headLine.endsWith(',"items":[')) return readManifestIdsStreamed([buf], onId);
  // another layout (not one item a line): parsed whole
  const m = parseManifest(bytes);
  if (!m) return undefined;
  const { items, ...head } = m;
  for (const i of items) onId(i.sourceId);
  return { head, count: items.length };
}

/**
 * {@link readManifestIds} over chunks as they arrive (Destination.getStream): the manifest is never
 * held whole. Only the layout {@link ManifestBuilder.chunks} writes is read (head line ending in
 * `"items":[`, one item a line, `]}` alone on the last line); anything else, a line that is not an
 * item, or a manifest cut short (no `]}`) is undefined.
 */
async function readManifestIdsStreamed(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, onId: (sourceId: string) => void): Promise<{ head: Omit<PartManifest, 'items'>; count: number } | undefined> {
  let head: PartManifest | undefined;
  let count = 0;
  let ended = false;
  for await (const raw of splitLines(chunks)) {
    if (!head) {
      if (!raw.endsWith(',"items":[')) return undefined;
      try {
        head = JSON.parse(raw.slice(0, -',"items":['.length) + '}') as PartManifest;
      } catch {
        return undefined;
      }
      if (!isHead(head)) return undefined;
      continue;
    }
    let line = raw.trim();
    if (line === '') continue;
    if (ended) return undefined; // something after the end
    if (line === ']}') { ended = true; continue; }
    if (line.endsWith(',')) line = line.slice(0, -1);
    let it: { sourceId?: unknown };
    try {
      it = JSON.parse(line) as { sourceId?: unknown };
    } catch {
      return undefined;
    }
    if (!it || typeof it.sourceId !== 'string') return undefined;
    onId(it.sourceId);
    count++;
  }
  return head && ended ? { head, count } : undefined;
}

/** The finished-part record a manifest stands for. */
export function finishedPartOf(m: Omit<PartManifest, 'items'>, sourceIds: readonly string[]): FinishedPart {
  return { name: m.part.name, index: m.part.index, sizeBytes: m.part.sizeBytes, sha256: m.part.sha256, sourceIds, pass: m.pass as ExportPass };
}
