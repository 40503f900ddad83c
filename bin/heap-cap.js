// The V8 heap cap the long-running `outport` commands run with (docs/export.md "Memory").
// Plain JavaScript with no dependencies: bin/outport.js decides with it before loading anything
// else, and bench/export.ts starts its export children with the same flags.
'use strict';

/** Heap cap (MiB of V8 old space) of one export: measured live heap 25-70 MB, peak under the cap ~60-100 MB (docs/benchmarks.md bench:export). */
const EXPORT_HEAP_MB = 128;
/** What each further concurrent export adds in `serve` and `worker` (--concurrency N, default 4). */
const PER_EXTRA_EXPORT_MB = 64;
/** Commands that run exports for a long time, and so get a cap. */
const CAPPED_COMMANDS = new Set(['export', 'serve', 'worker']);

/**
 * The heap cap in MiB for `command` with its arguments, or undefined for none:
 * - OUTPORT_HEAP_MB=N in `env` sets it (0: no cap);
 * - a --max-old-space-size already given (node flags in `execArgv`, or NODE_OPTIONS) wins: undefined;
 * - export: 128; serve and worker: 128 + 64 × (--concurrency − 1), default concurrency 4 → 320;
 * - other commands (check, convert, start, …): undefined.
 * @param {string | undefined} command  the first argument of `outport`
 * @param {string[]} args  the arguments after it
 * @param {Record<string, string | undefined>} env  the environment
 * @param {string[]} execArgv  node's own flags of this process
 * @returns {number | undefined}
 * @throws {Error} when OUTPORT_HEAP_MB is not a whole number ≥ 0
 */
function heapCapMb(command, args, env, execArgv) {
  const given = [...execArgv, ...String(env.NODE_OPTIONS || '').split(/\s+/)];
  if (given.some((a) => /^--max[-_]old[-_]space[-_]size(=|$)/.test(a))) return undefined;
  if (env.OUTPORT_HEAP_MB !== undefined && env.OUTPORT_HEAP_MB !== '') {
    const n = Number(env.OUTPORT_HEAP_MB);
    if (!Number.isInteger(n) || n < 0) throw new Error(`OUTPORT_HEAP_MB must be a whole number of MiB (0: no cap), not "${env.OUTPORT_HEAP_MB}"`);
    return n === 0 ? undefined : n;
  }
  if (!CAPPED_COMMANDS.has(command)) return undefined;
  if (command === 'export') return EXPORT_HEAP_MB;
  const i = args.findIndex((a) => a === '--concurrency' || a.startsWith('--concurrency='));
  const raw = i < 0 ? '4' : args[i].includes('=') ? args[i].slice('--concurrency='.length) : args[i + 1];
  const c = Number(raw);
  const concurrency = Number.isInteger(c) && c >= 1 && c <= 64 ? c : 4; // the command itself reports a bad value
  return EXPORT_HEAP_MB + PER_EXTRA_EXPORT_MB * (concurrency - 1);
}

/**
 * Node flags that apply {@link heapCapMb}: `['--max-old-space-size=N']` or [].
 * @param {string | undefined} command
 * @param {string[]} args
 * @param {Record<string, string | undefined>} env
 * @param {string[]} execArgv
 * @returns {string[]}
 */
function heapCapFlags(command, args, env, execArgv) {
  const mb = heapCapMb(command, args, env, execArgv);
  return mb === undefined ? [] : [`--max-old-space-size=${mb}`];
}

module.exports = { EXPORT_HEAP_MB, PER_EXTRA_EXPORT_MB, CAPPED_COMMANDS, heapCapMb, heapCapFlags };
