/**
 * A worker process for test/export/crash-resume.test.ts: the real wiring of `outport serve`'s runner
 * (api/worker.ts startWorker: jobs/runner.ts Runner on the SQLite backend, GraphSource with app-only
 * tokens from a tenant config, AzureBlobDestination from the project's stored destination) in its
 * own process, so the test can kill it with SIGKILL mid-export and start another.
 *
 * argv: dataDir tenantConfigFile workerId leaseMs
 * env:  OUTPORT_SECRET_KEY (base64, 32 bytes: the data directory's secrets key)
 * stdout: "ready" once the runner is claiming. SIGTERM: stop (not graceful), close, exit 0.
 * Parts are staged in 64 KiB blocks (the destination's smallest), so a part being written shows
 * uncommitted blocks in the container long before its commit.
 */
import { readFileSync } from 'node:fs';
import { graphAccessForTenant } from '../../worker-service/src/api/graph-access';
import { startWorker } from '../../worker-service/src/api/worker';
import { checkTenantConfig } from '../../worker-service/src/graph/tenant-client';
import { openSqliteBackend } from '../../worker-service/src/jobs/sqlite/backend';
import { createDestination, validateDestination } from '../../worker-service/src/storage';

async function main(): Promise<void> {
  const [dataDir, configFile, workerId, leaseMs] = process.argv.slice(2);
  const key = process.env.OUTPORT_SECRET_KEY;
  if (!dataDir || !configFile || !workerId || !leaseMs || !key) throw new Error('usage: crash-child.ts dataDir tenantConfigFile workerId leaseMs (OUTPORT_SECRET_KEY set)');
  const backend = await openSqliteBackend({ dataDir, secretKey: Buffer.from(key, 'base64'), pollIntervalMs: 50 });
  const tenant = checkTenantConfig(JSON.parse(readFileSync(configFile, 'utf8')));
  const graph = graphAccessForTenant(tenant, { retry: { baseDelayMs: 5, maxDelayMs: 50, maxRetries: 8 } });
  const worker = startWorker({
    backend, graph, workerId, concurrency: 1, pollMs: 100, leaseMs: Number(leaseMs), heartbeatMs: Math.floor(Number(leaseMs) / 4),
    openDestination: (input) => {
      const v = validateDestination(input);
      if (!v.ok) throw new Error(`${v.errors[0].field}: ${v.errors[0].message}`);
      return createDestination(v.config, { azure: { blockSizeBytes: 64 * 1024, retry: { retryDelayInMs: 20, maxRetryDelayInMs: 200 } } });
    },
  });
  process.on('SIGTERM', () => {
    void (async () => {
      await worker.stop({ graceful: false });
      await backend.close();
      process.exit(0);
    })();
  });
  process.stdout.write('ready\n');
}

main().catch((e) => { process.stderr.write(String((e as Error).stack ?? e)); process.exit(1); });
