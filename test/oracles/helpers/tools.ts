/**
 * Running the independent PST readers (libpff's pffinfo/pffexport/pypff, libpst's readpst) from
 * oracle tests, and the skip rule: when ../shared or a tool is absent, a test block is skipped
 * VISIBLY (console.warn and "[SKIPPED: …]" in its name) on a developer machine and FAILS on CI
 * (process.env.CI === 'true'), where .ci/run installs every tool.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';

import { REPO_ROOT, SHARED_DIR, SAMPLES_DIR, PST_DUMP } from '../../pst/shared-samples';

/** Repository root, ../shared, its sample PSTs and libpff's pst-dump (one definition: test/pst/shared-samples.ts). */
export { REPO_ROOT, SHARED_DIR, SAMPLES_DIR, PST_DUMP };
/** Our ctypes reader of libpff (recipients and embedded messages, which pst-dump omits). */
export const LIBPFF_VIEW = path.join(__dirname, 'libpff-view.py');
/** The python that has pypff/libpff (Debian's). */
export const PYTHON = '/usr/bin/python3';

function hasCommand(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  return !r.error;
}

/** True when python3 with pypff (and so libpff.so.1) is installed. */
export function hasPypff(): boolean {
  return spawnSync(PYTHON, ['-c', 'import pypff'], { stdio: 'ignore' }).status === 0;
}

/** Which prerequisites are missing: "../shared", "pffinfo", "pffexport", "readpst", "python3-pypff". */
export function missingPrerequisites(needs: { shared?: boolean; pffinfo?: boolean; pffexport?: boolean; readpst?: boolean; pypff?: boolean }): string[] {
  const missing: string[] = [];
  if (needs.shared && !existsSync(SAMPLES_DIR)) missing.push(`${SHARED_DIR}`);
  if (needs.pffinfo && !hasCommand('pffinfo', ['-V'])) missing.push('pffinfo (apt-get install pff-tools)');
  if (needs.pffexport && !hasCommand('pffexport', ['-V'])) missing.push('pffexport (apt-get install pff-tools)');
  if (needs.readpst && !hasCommand('readpst', ['-V'])) missing.push('readpst (apt-get install pst-utils)');
  if (needs.pypff && !hasPypff()) missing.push('python3-pypff (apt-get install python3-pypff)');
  return missing;
}

export { describeWhenAvailable } from '../../pst/shared-samples';

/** Result of a finished child process. */
export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  elapsedMs: number;
}

/** Runs a command to completion (never rejects on a non-zero exit; the caller asserts `code`). */
export function run(cmd: string, args: string[], options: { maxBufferBytes?: number; cwd?: string } = {}): Promise<RunResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(cmd, args, { maxBuffer: options.maxBufferBytes ?? 1 << 30, cwd: options.cwd, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: unknown }).code as number | null | undefined) ?? 1 : 0;
      resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr, elapsedMs: Date.now() - started });
    });
  });
}

/** libpff's folder/item/property view of a PST (shared/tools/pst-dump JSON). @throws when pst-dump fails */
export function pstDump(file: string): PstDumpFile {
  return JSON.parse(execFileSync(PST_DUMP, [file], { maxBuffer: 1 << 30 }).toString('utf8')) as PstDumpFile;
}

/** One message as libpff-view.py prints it (see that script's doc string). */
export interface LibpffMessage {
  folder: string;
  index: number;
  id: number;
  props: Record<string, unknown>;
  body: string | null | { error: string };
  html?: string | null;
  recipients: Record<string, unknown>[];
  attachments: LibpffAttachment[];
}

/** One attachment as libpff-view.py prints it. */
export interface LibpffAttachment {
  type: number;
  size?: number;
  sha256?: string;
  props: Record<string, unknown>;
  message?: LibpffMessage;
}

/** Every message of a PST through libpff-view.py (`all`: every property, else the corpus test's). @throws when it fails */
export async function libpffView(file: string, all = false): Promise<LibpffMessage[]> {
  const r = await run(PYTHON, [LIBPFF_VIEW, file, ...(all ? ['--all'] : [])]);
  if (r.code !== 0) throw new Error(`libpff-view ${file}: exit ${r.code}: ${r.stderr.slice(0, 2000)}`);
  return r.stdout.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as LibpffMessage);
}

/**
 * The store's name-to-ID map as libpff reads it (libpff-view.py --name-map): property id
 * ("0x8000"…) → "{GUID}:lid:0x8205" or "{GUID}:name:Keywords". @throws when it fails
 */
export async function libpffNameMap(file: string): Promise<Record<string, string>> {
  const r = await run(PYTHON, [LIBPFF_VIEW, file, '--name-map']);
  if (r.code !== 0) throw new Error(`libpff-view --name-map ${file}: exit ${r.code}: ${r.stderr.slice(0, 2000)}`);
  return JSON.parse(r.stdout) as Record<string, string>;
}

/** pst-dump's JSON: a file with a folder tree. */
export interface PstDumpFile {
  file: string;
  size: number;
  encryption_type: number;
  orphan_items: number;
  root: PstDumpFolder;
}

/** A pst-dump folder. */
export interface PstDumpFolder {
  path: string;
  records: Record<string, unknown>[];
  messages: PstDumpMessage[];
  folders: PstDumpFolder[];
}

/** A pst-dump message. */
export interface PstDumpMessage {
  identifier: number;
  subject: string | null;
  records: Record<string, unknown>[];
  plain_text_body_sha256: string | null;
  html_body_sha256: string | null;
  attachments: { size: number; sha256: string; records: Record<string, unknown>[] }[];
}
