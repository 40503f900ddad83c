/**
 * Fixtures for the checker tests: a store written by Outport's own writer (several folders, items
 * with recipients, attachments over 8 KB and over 1 MB so XBLOCKs appear, embedded messages three
 * deep, FAI items), and helpers that locate structures in a PST's bytes and re-seal CRCs after a
 * mutation, so each test breaks exactly the fault it targets.
 */
import { MemoryPstSink } from '../../worker-service/src/pst/sink';
import { PstStoreWriter } from '../../worker-service/src/pst/messaging/write-store';
import { newMapiItem, PropertyBag, TAG, filetimeFromDate, type MapiItem } from '../../worker-service/src/mapi';
import { NdbReader } from '../../worker-service/src/pst/ndb/read-ndb';
import { MemoryByteSource } from '../../worker-service/src/pst/ndb/read-source';
import { PageType } from '../../worker-service/src/pst/ndb/constants';
import { computeCrc } from '../../worker-service/src/pst/ndb/crc';
import { blockSizeOnDisk } from '../../worker-service/src/pst/ndb/read-block';
import type { BbtEntry, NbtEntry } from '../../worker-service/src/pst/ndb/read-page';

function bytesOf(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; b[i] = x & 0xff; }
  return b;
}

function message(subject: string, i: number, read: boolean): MapiItem {
  const it = newMapiItem();
  it.properties.setTag(TAG.PidTagSubject, subject).setTag(TAG.PidTagMessageClass, 'IPM.Note').setTag(TAG.PidTagBody, `Body ${i} `.repeat(20 + i * 50))
    .setTag(TAG.PidTagClientSubmitTime, filetimeFromDate(new Date(Date.UTC(2024, 0, 1 + i)))).setTag(TAG.PidTagMessageFlags, read ? 1 : 0)
    .setTag(TAG.PidTagSenderName, 'Alice').setTag(TAG.PidTagSentRepresentingName, 'Alice');
  for (const [name, type] of [['Bob', 1], ['Carol', 2]] as const) {
    const r = new PropertyBag();
    r.setTag(TAG.PidTagDisplayName, name).setTag(TAG.PidTagEmailAddress, `${name.toLowerCase()}@example.com`).setTag(TAG.PidTagAddressType, 'SMTP').setTag(TAG.PidTagRecipientType, type);
    it.recipients.push(r);
  }
  return it;
}

function fileAttachment(name: string, data: Buffer): { properties: PropertyBag } {
  const a = new PropertyBag();
  a.setTag(TAG.PidTagAttachLongFilename, name).setTag(TAG.PidTagAttachFilename, name).setTag(TAG.PidTagAttachMethod, 1).setTag(TAG.PidTagAttachDataBinary, data);
  return { properties: a };
}

/** Builds the writer fixture in memory and returns the PST bytes. */
export async function buildWriterFixture(): Promise<Uint8Array> {
  const sink = new MemoryPstSink();
  const w = PstStoreWriter.create(sink, { displayName: 'Checker fixture' });
  const inbox = w.createFolder(w.topFolder, { displayName: 'Inbox', containerClass: 'IPF.Note' });
  const sub = w.createFolder(inbox, { displayName: 'Sub', containerClass: 'IPF.Note' });
  const contacts = w.createFolder(w.topFolder, { displayName: 'Contacts', containerClass: 'IPF.Contact' });
  for (let i = 0; i < 4; i++) {
    const m = message(`Hello ${i}`, i, i % 2 === 0);
    if (i === 1) m.attachments.push(fileAttachment('small.txt', bytesOf(12_000, 7)));
    if (i === 2) m.attachments.push(fileAttachment('big.bin', bytesOf(1_200_000, 9)));
    if (i === 3) {
      // Embedded messages three deep.
      let inner = message('level 3', 30, true);
      inner.attachments.push(fileAttachment('deep.txt', bytesOf(9_000, 3)));
      for (const level of [2, 1]) {
        const outer = message(`level ${level}`, 30 + level, true);
        const a = new PropertyBag();
        a.setTag(TAG.PidTagAttachMethod, 5).setTag(TAG.PidTagDisplayName, `embedded ${level + 1}`);
        outer.attachments.push({ properties: a, embedded: inner });
        inner = outer;
      }
      const a = new PropertyBag();
      a.setTag(TAG.PidTagAttachMethod, 5).setTag(TAG.PidTagDisplayName, 'embedded 1');
      m.attachments.push({ properties: a, embedded: inner });
    }
    await w.addItem(i < 3 ? inbox : sub, m);
  }
  const c = newMapiItem();
  c.properties.setTag(TAG.PidTagMessageClass, 'IPM.Contact').setTag(TAG.PidTagSubject, 'Dana').setTag(TAG.PidTagDisplayName, 'Dana');
  await w.addItem(contacts, c);
  const fai = newMapiItem(true);
  fai.properties.setTag(TAG.PidTagMessageClass, 'IPM.Configuration.Test').setTag(TAG.PidTagSubject, 'config');
  await w.addItem(inbox, fai);
  await w.close();
  return new Uint8Array(sink.bytes());
}

/** Positions of the structures in a PST, read with the project's reader. */
export interface PstMap {
  ndb: NdbReader;
  nodes: NbtEntry[];
  blocks: BbtEntry[];
  /** NBT/BBT pages: offset, ptype, cLevel. */
  pages: { ib: number; ptype: PageType; cLevel: number; cEnt: number }[];
}

/** Reads where everything is (valid input only). */
export async function mapPst(bytes: Uint8Array): Promise<PstMap> {
  const ndb = await NdbReader.open(new MemoryByteSource(bytes));
  const nodes: NbtEntry[] = [];
  for await (const n of ndb.nodes()) nodes.push(n);
  const blocks: BbtEntry[] = [];
  for await (const b of ndb.blockEntries()) blocks.push(b);
  const pages: PstMap['pages'] = [];
  for (const t of [PageType.NBT, PageType.BBT] as const) for await (const v of ndb.walkBtPages(t)) pages.push({ ib: v.page.ib, ptype: t, cLevel: v.page.cLevel, cEnt: v.page.cEnt });
  return { ndb, nodes, blocks, pages };
}

/** Re-seals a Unicode page's dwCRC after its first 496 bytes changed. */
export function sealPage(bytes: Uint8Array, ib: number): void {
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(ib + 496 + 4, computeCrc(bytes, ib, ib + 496), true);
}

/** Re-seals a Unicode block's dwCRC after its payload changed. */
export function sealBlock(bytes: Uint8Array, ib: number, cb: number): void {
  const size = blockSizeOnDisk(cb, { blockTrailerSize: 16 } as never);
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(ib + size - 16 + 4, computeCrc(bytes, ib, ib + cb), true);
}

/** Re-seals both header CRCs (Unicode). */
export function sealHeader(bytes: Uint8Array): void {
  const v = new DataView(bytes.buffer, bytes.byteOffset);
  v.setUint32(4, computeCrc(bytes, 8, 8 + 471), true);
  v.setUint32(524, computeCrc(bytes, 8, 8 + 516), true);
}
