#!/usr/bin/env node
// Runs a TypeScript entry point (bench or script) through tsx without a build step.
require('tsx/cjs');
const path = require('node:path');
const file = process.argv[2];
if (!file) { console.error('usage: run-ts.js FILE.ts [args…]'); process.exit(2); }
process.argv.splice(1, 1);
require(path.resolve(file));
