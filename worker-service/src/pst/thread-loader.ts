/**
 * How the PST engine starts a worker thread for one of its own modules, compiled or under
 * TypeScript (tsx, ts-jest): the script's path beside the caller and the `execArgv` it needs.
 */
import * as path from 'node:path';

/** Node flags a worker thread accepts in `execArgv` and that a TypeScript thread needs: module loading. */
const LOADER_FLAGS = new Set(['--require', '-r', '--import', '--loader', '--experimental-loader', '--conditions', '-C']);

/**
 * The process's module-loading flags only: a worker thread refuses V8 and process flags in its
 * `execArgv` (ERR_WORKER_INVALID_EXEC_ARGV), e.g. the launcher's `--max-old-space-size` and
 * `--heap-growing-percent` (bin/heap-cap.js); the thread shares the process's heap limits anyway.
 */
export function loaderFlags(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const [name] = argv[i].split('=', 1);
    if (!LOADER_FLAGS.has(name)) continue;
    if (argv[i].includes('=')) out.push(argv[i]);
    else if (i + 1 < argv.length) out.push(argv[i], argv[++i]);
  }
  return out;
}

/**
 * The file and `execArgv` for a thread running `baseName` (without extension) from `dir`, the
 * directory of `callerFile` (the caller's `__filename`): `baseName.ts` with tsx's loader when the
 * caller is TypeScript, `baseName.js` with the process's own flags when it is compiled.
 */
export function threadScript(callerFile: string, baseName: string): { file: string; execArgv?: string[] } {
  const ts = callerFile.endsWith('.ts');
  const file = path.join(path.dirname(callerFile), `${baseName}${ts ? '.ts' : '.js'}`);
  return { file, execArgv: ts ? [...loaderFlags(process.execArgv), '--require', require.resolve('tsx/cjs')] : undefined };
}
