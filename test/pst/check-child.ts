/**
 * Runs checkPst on each PST named on the command line and prints one JSON line of reports
 * (findings, stats, elapsedMs). Tests start it as a child process (`node bin/run-ts.js
 * test/pst/check-child.ts FILE…`) so a long check runs on another core while the test process
 * reads the file with Outport's reader.
 */
import { checkPst } from '../../worker-service/src/pst/check';

async function main(files: string[]): Promise<void> {
  const reports = [];
  for (const f of files) reports.push(await checkPst(f));
  process.stdout.write(JSON.stringify(reports) + '\n');
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(String(err instanceof Error ? err.stack : err) + '\n');
  process.exitCode = 2;
});
