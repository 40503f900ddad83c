#!/usr/bin/env node
// The `outport` command: runs worker-service/src/cli.ts through tsx (no build step needed after `npm ci`).
require('tsx/cjs');
const { main } = require('../worker-service/src/cli.ts');
main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(err && err.stack ? err.stack : String(err)); process.exitCode = 2; },
);
