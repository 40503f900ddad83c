/**
 * Helpers for storage tests: a few real MapiItems (messages with attachments, so a PST is a few MB),
 * and a tee sink that writes the same PST into a destination's part sink and a MemoryPstSink, so the
 * stored bytes can be compared with the bytes the writer produced.
 */
import { newMapiItem, PropertyBag, type MapiItem } from '../../worker-service/src/mapi/item';
import { TAG } from '../../worker-service/src/mapi/tags';
import { filetimeFromDate } from '../../worker-service/src/mapi/types';
import { MemoryPstSink, type PstSink } from '../../worker-service/src/pst/sink';
import { PstWriter } from '../../worker-service/src/pst/writer';
import type { Destination, PartSink } from '../../worker-service/src/storage/destination';

/** A message with a body and an attachment of `attachBytes` pseudo-random (incompressible-ish) bytes. */
export function message(subject: string, attachBytes: number): MapiItem {
  const it = newMapiItem();
  it.properties
    .setTag(TAG.PidTagMessageClass, 'IPM.Note')
    .setTag(TAG.PidTagSubject, subject)
    .setTag(TAG.PidTagBody, `Body of ${subject}\r\n`.repeat(20))
    .setTag(TAG.PidTagMessageFlags, 1)
    .setTag(TAG.PidTagClientSubmitTime, filetimeFromDate(new Date('2024-02-03T04:05:06Z')))
    .setTag(TAG.PidTagInternetMessageId, `<${subject.replace(/\W/g, '')}@outport.test>`);
  it.recipients.push(new PropertyBag()
    .setTag(TAG.PidTagRecipientType, 1)
    .setTag(TAG.PidTagDisplayName, 'Bob')
    .setTag(TAG.PidTagEmailAddress, 'bob@example.com')
    .setTag(TAG.PidTagAddressType, 'SMTP'));
  if (attachBytes > 0) {
    let x = subject.length * 2654435761 >>> 0;
    const data = new Uint8Array(attachBytes);
    for (let i = 0; i < data.length; i++) { x = (Math.imul(x, 1103515245) + 12345) >>> 0; data[i] = x >>> 24; }
    it.attachments.push({
      properties: new PropertyBag().setTag(TAG.PidTagAttachMethod, 1).setTag(TAG.PidTagAttachLongFilename, `${subject}.bin`).setTag(TAG.PidTagAttachDataBinary, data),
    });
  }
  return it;
}

/** A sink forwarding every call to two sinks in turn (the writer awaits each call). */
export class TeeSink implements PstSink {
  constructor(readonly a: PstSink, readonly b: PstSink) {}
  async append(bytes: Uint8Array): Promise<void> { await this.b.append(bytes); await this.a.append(bytes); }
  async writeAt(offset: number, bytes: Uint8Array): Promise<void> { await this.b.writeAt(offset, bytes); await this.a.writeAt(offset, bytes); }
  async close(): Promise<void> { await this.a.close(); await this.b.close(); }
  async abort(): Promise<void> { await this.a.abort?.(); await this.b.abort?.(); }
}

/**
 * Writes `count` messages (each with an `attachBytes` attachment) as one PST named `name` into
 * `dest.openPart(name)`, teed into memory.
 * @returns the part sink (closed) and the bytes the writer produced */
export async function writePst(dest: Destination, name: string, count: number, attachBytes: number): Promise<{ part: PartSink; expected: Buffer }> {
  const memory = new MemoryPstSink();
  let part: PartSink | undefined;
  const writer = PstWriter.open({
    partName: name,
    openSink: async (fileName) => { part = await dest.openPart(fileName); return new TeeSink(part, memory); },
  });
  for (let i = 0; i < count; i++) {
    await writer.addItem([{ displayName: i % 2 ? 'Inbox' : 'Archive' }], message(`Message ${i}`, attachBytes));
  }
  await writer.close();
  return { part: part!, expected: memory.bytes() };
}
