// The V8 heap cap the long-running `outport` commands run with (docs/export.md "Memory").
// Plain JavaScript with no dependencies: bin/outport.js decides with it before loading anything
// else, and bench/export.ts starts its export children with the same flags.
'use strict';

/** Heap cap (MiB of V8 old space) of one export: measured live heap 25-70 MB, peak under the cap ~60-100 MB (docs/benchmarks.md bench:export). */
const EXPORT_HEAP_MB = 128;
/** What each further concurrent export adds in `serve` and `worker` (--concurrency N, default 4). */
const PER_EXTRA_EXPORT_MB = 64;
/**
 * V8's heap growing factor under the cap, as `--heap-growing-percent` (factor 1 + N/100). V8 takes
 * the factor by which the old generation may grow before the next full GC from the heap's maximum
 * (heap-controller.cc MemoryController::MaxGrowingFactor: 1.3 for a maximum of 256 MB or less,
 * up to 4.0 from 2 GB), so a 128 MiB cap alone made V8 run a full GC every time the heap grew by
 * ~30 %: the worker spent +70 % CPU for the same export (bench:scale cpu_s_workers 13.2 against 7.8
 * uncapped). Factor 2 brings it back to 9.2 s; the heap still never passes the cap (V8 also keeps
 * each limit at most halfway from the live heap to the cap), so memory stays bounded.
 */
const HEAP_GROWING_PERCENT = 100;
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
 * Node flags that apply {@link heapCapMb}: `['--max-old-space-size=N', '--heap-growing-percent=100']`
 * ({@link HEAP_GROWING_PERCENT}) or [].
 * @param {string | undefined} command
 * @param {string[]} args
 * @param {Record<string, string | undefined>} env
 * @param {string[]} execArgv
 * @returns {string[]}
 */
function heapCapFlags(command, args, env, execArgv) {
  const mb = heapCapMb(command, args, env, execArgv);
  return mb === undefined ? [] : [`--max-old-space-size=${mb}`, `--heap-growing-percent=${HEAP_GROWING_PERCENT}`];
}

module.exports = { EXPORT_HEAP_MB, PER_EXTRA_EXPORT_MB, HEAP_GROWING_PERCENT, CAPPED_COMMANDS, heapCapMb, heapCapFlags };
