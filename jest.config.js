/**
 * Jest: TypeScript through ts-jest in transpile-only mode (type checking is `tsc --noEmit`, which
 * `npm test` runs first).
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.tsx?$': ['ts-jest', { diagnostics: false }] },
  testTimeout: 120000,
  maxWorkers: 2,
};
