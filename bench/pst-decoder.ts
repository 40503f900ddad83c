/**
 * bench:pst's decoder for encoder threads (pst/encode/pool.ts): each thread opens the item file
 * itself and makes copy n of item n mod count — the same copies bench/pst.ts makes on the writer's
 * thread without threads — so the copy-making is off the writer's thread as a real source's
 * decoding (MIME, FastTransfer) is.
 */
import type { MapiItem } from '../worker-service/src/mapi/item';
import type { DecoderSpec } from '../worker-service/src/pst/encode/pool';
import { replicateItem } from '../worker-service/src/sandbox/replicate';
import { ItemFile } from './item-file';

/** Options: the item file's path. */
export interface BenchDecoderOptions {
  itemsPath: string;
}

/** Per thread: a decoder of `{ n }` (the copy number; the payload is empty) into copy n. */
export function createDecoder(options: BenchDecoderOptions): (payload: Uint8Array, meta: unknown) => MapiItem {
  const source = new ItemFile(options.itemsPath);
  return (_payload, meta) => {
    const n = (meta as { n: number }).n;
    return replicateItem(source.read(n % source.count).item, n);
  };
}

/** The encoder pool's DecoderSpec for this module (its own path: .ts through tsx, .js compiled). */
export function benchDecoderSpec(itemsPath: string): DecoderSpec {
  return { module: __filename, options: { itemsPath } satisfies BenchDecoderOptions };
}
