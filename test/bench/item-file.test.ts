/**
 * bench/item-file.ts: the benchmarks' store of converted corpus items. Items read earlier must keep
 * their values after later reads refill the read-ahead window (v8.deserialize returns binary values
 * as views of the buffer it is given): bench:pst's throughput child holds every item it has read.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ItemFile, writeItemFile } from '../../bench/item-file';
import { PropertyBag } from '../../worker-service/src/mapi/item';
import { TAG } from '../../worker-service/src/mapi/tags';
import type { CorpusItem } from '../../worker-service/src/sandbox/replicate';

function item(n: number, htmlBytes: number): CorpusItem {
  const html = Buffer.alloc(htmlBytes, `<p>message ${n}</p>`);
  const properties = new PropertyBag().setTag(TAG.PidTagSubject, `subject ${n}`).setTag(TAG.PidTagHtml, html);
  const attachment = new PropertyBag().setTag(TAG.PidTagAttachMethod, 1).setTag(TAG.PidTagAttachDataBinary, Buffer.alloc(1000 + n, n & 0xff));
  return { group: n % 2 ? 'ham' : 'spam', id: `m${n}`, item: { properties, recipients: [], attachments: [{ properties: attachment }], associated: false } };
}

describe('ItemFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'outport-item-file-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('gives items whose values stay the same while later items are read (window refills, records larger than it)', () => {
    // ~60 KB records: a 1 MiB window holds ~17, so reading all 200 refills it many times; two larger than 1 MiB
    const items = Array.from({ length: 200 }, (_, n) => item(n, n === 50 || n === 51 ? 1_500_000 : 60_000));
    const path = join(dir, 'items.bin');
    writeItemFile(path, items);
    const file = new ItemFile(path);
    try {
      expect(file.count).toBe(200);
      const kept = Array.from({ length: file.count }, (_, i) => file.read(i));
      file.read(3); // out of order too
      kept.forEach((got, n) => {
        const want = items[n].item;
        expect(got.group).toBe(items[n].group);
        expect(got.item.properties.get(TAG.PidTagSubject.id)).toBe(`subject ${n}`);
        expect(Buffer.from(got.item.properties.get(TAG.PidTagHtml.id) as Uint8Array).equals(want.properties.get(TAG.PidTagHtml.id) as Buffer)).toBe(true);
        const data = got.item.attachments[0].properties.get(TAG.PidTagAttachDataBinary.id) as Uint8Array;
        expect(Buffer.from(data).equals(want.attachments[0].properties.get(TAG.PidTagAttachDataBinary.id) as Buffer)).toBe(true);
      });
    } finally {
      file.close();
    }
  });
});
