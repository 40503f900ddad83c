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

/** `describe` when ../shared exists; otherwise a visibly skipped block (or a failing test on CI). */
export function describeWithShared(name: string, body: () => void): void {
  if (SHARED_PRESENT) { describe(name, body); return; }
  if (process.env.CI === 'true') {
    describe(name, () => it(`needs ${SHARED_DIR}`, () => { throw new Error(`${SHARED_DIR} is missing on CI`); }));
    return;
  }
  console.warn(`SKIPPED "${name}": ${SHARED_DIR} is absent`);
  describe.skip(`${name} [SKIPPED: ${SHARED_DIR} absent]`, body);
}
