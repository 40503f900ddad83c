/**
 * Jest: TypeScript through ts-jest in transpile-only mode (type checking is `tsc --noEmit`, which
 * `npm test` runs first).
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts', '**/*.test.tsx'],
  transform: {
    // The add-in (browser code, JSX) compiles with its own tsconfig (addin/tsconfig.jest.json).
    '/(addin|test/addin)/.+\\.tsx?$': ['ts-jest', { diagnostics: false, tsconfig: '<rootDir>/addin/tsconfig.jest.json' }],
    '^.+\\.tsx?$': ['ts-jest', { diagnostics: false }],
  },
  // office-addin-mock pulls office-addin-manifest (an ESM chain) that its mocks never use.
  moduleNameMapper: { '^office-addin-manifest$': '<rootDir>/test/addin/stubs/office-addin-manifest.js' },
  testTimeout: 120000,
  maxWorkers: 2,
};
