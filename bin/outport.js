#!/usr/bin/env node
// The `outport` command: runs worker-service/src/cli.ts — compiled from dist/ when `npm run build` made a
// build of the current sources (bin/compiled.js), else through tsx (no build step needed after `npm ci`).
// Long-running commands (export, serve, worker) run with a V8 heap cap (bin/heap-cap.js; docs/export.md
// "Memory"): this process starts node again with --max-old-space-size=N and passes signals and the exit
// code through, unless a cap was given (node flag, NODE_OPTIONS) or OUTPORT_HEAP_MB=0.
'use strict';
const argv = process.argv.slice(2);
let flags = [];
try {
  flags = process.env.OUTPORT_HEAP_CAPPED === '1' ? [] : require('./heap-cap').heapCapFlags(argv[0], argv.slice(1), process.env, process.execArgv);
} catch (err) {
  console.error(`outport: ${err.message}`);
  process.exit(2);
}
if (flags.length > 0) {
  const { spawn } = require('node:child_process');
  // Its own process group (POSIX): a terminal's Ctrl-C reaches this process only, which passes it on
  // once (the commands cancel on the first SIGINT/SIGTERM and stop hard on a second).
  // The IPC channel is how the child notices that this process died without passing anything on
  // (kill -9, OOM killer): it then stops at once too (below), as a single-process command would.
  const child = spawn(process.execPath, [...process.execArgv, ...flags, __filename, ...argv], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'], detached: process.platform !== 'win32', env: { ...process.env, OUTPORT_HEAP_CAPPED: '1' },
  });
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const sig of signals) process.on(sig, () => child.kill(sig));
  child.on('error', (err) => { console.error(`outport: cannot start ${process.execPath}: ${err.message}`); process.exit(2); });
  child.on('exit', (code, signal) => {
    if (signal) {
      for (const sig of signals) process.removeAllListeners(sig);
      process.kill(process.pid, signal);
    } else {
      process.exit(code ?? 1);
    }
  });
} else {
  if (process.env.OUTPORT_HEAP_CAPPED === '1' && process.channel) {
    // Started by the launcher above: if it is gone (SIGKILL), go too, without cleanup — whoever
    // killed it meant this process. The channel must not keep this process alive by itself.
    process.channel.unref();
    process.on('disconnect', () => process.kill(process.pid, 'SIGKILL'));
  }
  // The compiled build when it matches the sources (bin/compiled.js), else the sources through tsx.
  const compiled = require('./compiled').compiledCli();
  let main;
  if (compiled.entry) {
    ({ main } = require(compiled.entry));
  } else {
    if (compiled.stale) console.error(`outport: ${compiled.dir} was built from other sources than worker-service/src holds now; running the sources through tsx (npm run build makes a current build)`);
    require('tsx/cjs');
    ({ main } = require('../worker-service/src/cli.ts'));
  }
  main(argv).then(
    (code) => { process.exitCode = code; },
    (err) => { console.error(err && err.stack ? err.stack : String(err)); process.exitCode = 2; },
  );
}
