/**
 * Command-line plumbing shared by the `outport` commands (cli.ts and cli/*.ts): the usage error,
 * flag parsing and size parsing.
 */

/** Bad command-line input; the message says what to type instead. Exit code 2. */
export class UsageError extends Error {
  readonly code = 'Usage';
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Positional arguments and `--flag value` / `--flag=value` pairs (last one wins; `booleans` take no value). */
export interface ParsedArgs {
  positional: string[];
  flags: Map<string, string>;
}

/**
 * Parses `argv` accepting only the flags in `known` (names without `--`). Flags in `booleans` take no
 * value and are set to "true". @throws UsageError for an unknown flag or a missing value (with `usage`)
 */
export function parseArgs(argv: string[], known: readonly string[], usage: string, booleans: readonly string[] = []): ParsedArgs {
  const positional: string[] = [];
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const [k, inline] = a.slice(2).split('=', 2);
      if (booleans.includes(k)) {
        flags.set(k, inline ?? 'true');
        continue;
      }
      if (!known.includes(k)) throw new UsageError(`unknown option --${k}\n${usage}`);
      const v = inline ?? argv[++i];
      if (v === undefined) throw new UsageError(`--${k} needs a value`);
      flags.set(k, v);
    } else positional.push(a);
  }
  return { positional, flags };
}

/** Parses "10GB", "500MB", "1.5GiB", "1048576" into bytes (GB = 1024³, as Outlook and MigrationWiz count). @throws UsageError */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib|t|tb|tib)?$/i.exec(text.trim());
  if (!m) throw new UsageError(`"${text}" is not a size: write e.g. 10GB, 500MB or a number of bytes`);
  const unit = (m[2] ?? 'b').toLowerCase()[0];
  const mult = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[unit as 'b' | 'k' | 'm' | 'g' | 't'];
  return Math.round(parseFloat(m[1]) * mult);
}
