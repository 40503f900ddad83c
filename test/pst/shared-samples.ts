/**
 * Where the shared samples live (../shared next to the repository) and how tests that need them
 * behave when it is absent: skip visibly on a developer machine, fail on CI (CI=true).
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '../..');
export const SHARED_DIR = path.resolve(REPO_ROOT, '../shared');
export const SAMPLES_DIR = path.join(SHARED_DIR, 'samples/pst');
export const PST_DUMP = path.join(SHARED_DIR, 'tools/pst-dump');
export const SHARED_PRESENT = existsSync(SAMPLES_DIR);

/**
 * `describe` when nothing in `missing` is missing; otherwise a visibly skipped block whose name
 * says what is absent, or, on CI (CI=true), a block with one failing test: on CI a missing
 * prerequisite is a failure, never a skip.
 */
export function describeWhenAvailable(name: string, missing: string[], body: () => void): void {
  if (missing.length === 0) { describe(name, body); return; }
  const what = missing.join(', ');
  if (process.env.CI === 'true') {
    describe(name, () => it(`needs ${what}`, () => { throw new Error(`missing on CI: ${what}`); }));
    return;
  }
  console.warn(`SKIPPED "${name}": missing ${what}`);
  describe.skip(`${name} [SKIPPED: missing ${what}]`, body);
}

/** `describe` when ../shared exists; otherwise as {@link describeWhenAvailable} says. */
export function describeWithShared(name: string, body: () => void): void {
  describeWhenAvailable(name, SHARED_PRESENT ? [] : [SHARED_DIR], body);
}
