/**
 * Benchmarks run the code they measure as a deployed worker does — JavaScript compiled by tsc, not
 * TypeScript through tsx (whose CommonJS output reads every imported binding through a getter:
 * 5-25 % of the writer's CPU, docs/benchmarks.md). This compiles one entry file and what it imports.
 */
import * as path from 'node:path';
import type * as TS from 'typescript';

const ROOT = path.resolve(__dirname, '..');

/** A directory for a benchmark's compiled JavaScript, under node_modules so that imports resolve. */
export function benchBuildDir(name: string): string {
  return path.join(ROOT, 'node_modules', '.cache', name);
}

/**
 * Compiles `entryTs` (an absolute .ts path in the repository) and what it imports with tsc (the
 * project's tsconfig.json, CommonJS, no source maps) into `buildDir`.
 * @param strict  true: any type error fails; false: type errors are shown and the emit is used (a file
 *                another engineer is editing right now should not stop a benchmark)
 * @returns the compiled entry's path
 * @throws Error when tsc emits nothing, or (strict) lists the type errors
 */
export function compileEntry(entryTs: string, buildDir: string, strict = false): string {
  // loaded here, not at the top: the compiled programs should not hold the compiler
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ts = require('typescript') as typeof TS;
  const config = ts.getParsedCommandLineOfConfigFile(path.join(ROOT, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
  if (!config) throw new Error('cannot read tsconfig.json');
  const options: TS.CompilerOptions = { ...config.options, noEmit: false, outDir: buildDir, rootDir: ROOT, sourceMap: false, declaration: false, incremental: false };
  const program = ts.createProgram([entryTs], options);
  const emitted = program.emit();
  const host = { getCanonicalFileName: (f: string) => f, getCurrentDirectory: () => process.cwd(), getNewLine: () => '\n' };
  const errors = ts.getPreEmitDiagnostics(program).concat(emitted.diagnostics).filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (emitted.emitSkipped || (strict && errors.length > 0)) throw new Error(`tsc: ${ts.formatDiagnostics(errors, host)}`);
  if (errors.length > 0) console.warn(`${path.basename(entryTs)}: compiled with type errors:\n${ts.formatDiagnostics(errors, host)}`);
  return path.join(buildDir, path.relative(ROOT, entryTs).replace(/\.ts$/, '.js'));
}
