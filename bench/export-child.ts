/**
 * One export of `npm run bench:export` (bench/export.ts), in a process of its own so that its peak
 * RSS is its own. It loads only what a deployed worker's export loads (the Graph client and source,
 * runExport, the PST writer, the Azure destination) — not the sandbox, the corpus or the MIME
 * encoder, which the bench's parent and sandbox processes use — and the parent starts it with the
 * node flags the product's launcher gives an export (bin/heap-cap.js: --max-old-space-size=128 --heap-growing-percent=100).
 *
 * Protocol (IPC): the child sends {kind: "want-job"}, gets an {@link ExportJob}, runs it, sends an
 * {@link ExportReport} and exits.
 */
import { writeHeapSnapshot } from 'node:v8';
import { DestinationCheckpoint } from '../worker-service/src/export/checkpoint-destination';
import { runExport } from '../worker-service/src/export/run';
import { GraphClient } from '../worker-service/src/graph/client';
import { customCloud } from '../worker-service/src/graph/clouds';
import { FetchClientCredentialsTokenSource } from '../worker-service/src/graph/client-credentials';
import { GraphSource } from '../worker-service/src/graph/source';
import { createDestination, validateDestination } from '../worker-service/src/storage';

const MB = 1e6;

/** What the parent asks a child to export. */
export interface ExportJob {
  kind: 'export'; graphUrl: string; tenantId: string; clientId: string; clientSecret: string; mail: string; blobEndpoint: string;
  /** The storage account (Azurite's development account). */
  accountName: string; accountKey: string; container: string;
  pstName: string; splitSizeBytes: number; sampleMs: number;
  /** Collect garbage before each sample (the child runs with --expose-gc). */
  live: boolean;
  /** Items of the mailbox (known to the parent). */
  expectedItems: number;
  /** Write a heap snapshot into this file at 90 % of the items. */
  snapshotFile?: string;
}
/** What a child reports when its export is done. */
export interface ExportReport {
  kind: 'report';
  items: number; sourceBytes: number; pstBytes: number; parts: number; errors: number; outcome: string; ms: number;
  /** getrusage high-water mark of the process, bytes. */
  maxRssBytes: number;
  peakHeapUsed: number; peakExternal: number; peakArrayBuffers: number;
  /** With `live`: heapUsed after a full collection at the first sample past 10 % of the items, and at the last sample before the end. */
  liveHeapEarly?: number; liveHeapLate?: number;
  /** Items done at those two samples, and `external` (ArrayBuffers: typed-array bookkeeping, buffers) after the same collections. */
  liveItemsEarly?: number; liveItemsLate?: number; liveExternalEarly?: number; liveExternalLate?: number;
  cpuMs: number;
  /** [seconds, rss MB, heapUsed MB, external MB, items] every sample. */
  samples: [number, number, number, number, number][];
}

/** Runs one export, sampling memory every `job.sampleMs`, and sends the report. */
async function exportOne(job: ExportJob): Promise<void> {
  const tokenSource = new FetchClientCredentialsTokenSource({ authorityUrl: job.graphUrl.replace(/\/v1\.0$/, ''), tenantId: job.tenantId, clientId: job.clientId, clientSecret: job.clientSecret });
  const client = new GraphClient({ cloud: customCloud({ graphBaseUrl: job.graphUrl.replace(/\/v1\.0$/, '') }), tokenSource, retry: { baseDelayMs: 50, maxDelayMs: 1000 } });
  const v = validateDestination({ accountName: job.accountName, accountKey: job.accountKey, storageCloud: 'custom', blobEndpoint: job.blobEndpoint, container: job.container });
  if (!v.ok) throw new Error(JSON.stringify(v.errors));
  const destination = createDestination(v.config);
  await destination.ensure();
  const mailbox = { user: job.mail, archive: false };
  const checkpoint = await DestinationCheckpoint.open({ destination, pstName: job.pstName, mailbox });
  const peaks = { heapUsed: 0, external: 0, arrayBuffers: 0 };
  const samples: ExportReport['samples'] = [];
  let items = 0;
  const expectedItems = job.expectedItems;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const gc = job.live ? (globalThis as { gc?: () => void }).gc : undefined;
  if (job.live && !gc) throw new Error('--live needs the child to run with --expose-gc');
  let liveEarly: [number, number, number] | undefined;
  let liveLate: [number, number, number] | undefined;
  let snapped = false;
  const sample = () => {
    gc?.();
    const m = process.memoryUsage();
    if (gc && items > 0) {
      liveEarly ??= items >= 0.1 * expectedItems ? [items, m.heapUsed, m.external] : undefined;
      if (items < expectedItems) liveLate = [items, m.heapUsed, m.external];
    }
    peaks.heapUsed = Math.max(peaks.heapUsed, m.heapUsed);
    peaks.external = Math.max(peaks.external, m.external);
    peaks.arrayBuffers = Math.max(peaks.arrayBuffers, m.arrayBuffers);
    samples.push([Math.round((performance.now() - t0) / 100) / 10, Math.round(m.rss / MB), Math.round(m.heapUsed / MB), Math.round(m.external / MB), items]);
  };
  const timer = setInterval(sample, job.sampleMs);
  const result = await runExport(
    { mailbox, pstName: job.pstName, pass: 'full', splitSizeBytes: job.splitSizeBytes, progressIntervalMs: 250 },
    {
      source: new GraphSource(client), destination, checkpoint,
      onProgress: (p) => {
        items = p.itemsDone;
        if (job.snapshotFile && !snapped && items >= 0.9 * expectedItems) {
          snapped = true;
          writeHeapSnapshot(job.snapshotFile);
        }
      },
    },
  );
  const ms = performance.now() - t0;
  clearInterval(timer);
  sample();
  const cpu = process.cpuUsage(cpu0);
  const report: ExportReport = {
    kind: 'report', items: result.itemsExported, sourceBytes: result.sourceBytes, pstBytes: result.bytesExported, parts: result.parts.length,
    errors: result.errors, outcome: result.outcome, ms, maxRssBytes: process.resourceUsage().maxRSS * 1024,
    peakHeapUsed: peaks.heapUsed, peakExternal: peaks.external, peakArrayBuffers: peaks.arrayBuffers,
    ...(liveEarly && liveLate ? {
      liveItemsEarly: liveEarly[0], liveHeapEarly: liveEarly[1], liveExternalEarly: liveEarly[2], liveItemsLate: liveLate[0], liveHeapLate: liveLate[1], liveExternalLate: liveLate[2],
    } : {}), cpuMs: (cpu.user + cpu.system) / 1000, samples,
  };
  process.send!(report, () => process.exit(0));
}

process.on('message', (m) => { if ((m as { kind: string }).kind === 'export') exportOne(m as ExportJob).catch((e: unknown) => { console.error(e instanceof Error ? e.stack : String(e)); process.exit(1); }); });
process.send!({ kind: 'want-job' });
