/** Directories of .eml files (one RFC 5322 message per file), walked as a folder tree. */
import { opendir } from 'fs/promises';
import { join } from 'path';

/** One .eml file found by {@link walkEmlTree}. */
export interface EmlFile {
  /** Directory names from the walked root to the file's directory ([] for files in the root). */
  readonly relativeFolderPath: string[];
  /** Full path of the file. */
  readonly path: string;
}

const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Yields every *.eml file (extension matched case-insensitively) under `dir`, recursively. Order is
 * deterministic and independent of the file system: in each directory its files first, sorted by
 * name (UTF-16 code unit order), then its subdirectories, sorted the same way. Symbolic links are
 * not followed. Only one directory listing is held at a time per level.
 *
 * @throws the fs error when `dir` cannot be read (subdirectories that vanish meanwhile too)
 */
export async function* walkEmlTree(dir: string, relativeFolderPath: string[] = []): AsyncGenerator<EmlFile> {
  const files: string[] = [];
  const dirs: string[] = [];
  for await (const entry of await opendir(dir)) {
    if (entry.isDirectory()) dirs.push(entry.name);
    else if (entry.isFile() && /\.eml$/i.test(entry.name)) files.push(entry.name);
  }
  files.sort(byCodeUnits);
  dirs.sort(byCodeUnits);
  for (const f of files) yield { relativeFolderPath, path: join(dir, f) };
  for (const d of dirs) yield* walkEmlTree(join(dir, d), [...relativeFolderPath, d]);
}
