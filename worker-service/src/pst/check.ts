/**
 * The PST checker's public API: `checkPst(path)` verifies a PST as strictly as Microsoft's ScanPST
 * (MS-PST 2.2 NDB, 2.3 LTP, 2.4 messaging) and returns findings with stable codes; never throws on
 * a corrupt file. `formatFindings(report)` renders a report for people (the `outport check` CLI).
 *
 * Checks, in order (one module each under check/): header and ROOT (header.ts), NBT and BBT pages
 * and keys (btree.ts), every block and the BBT reference counts (blocks.ts), the allocation maps
 * (allocation.ts), NBT relationships (nodes.ts), heaps, BTHs, PCs and TCs (ltp.ts), and the
 * messaging layer: folder tables against item PCs, counts and sizes (messaging.ts). ANSI files get
 * the NDB checks only.
 *
 * Bounded: the file is read positionally (never whole), per-block/node bookkeeping lives in typed
 * arrays (tables.ts), and per-item work holds one item at a time.
 */
import { HEADER_SIZE_UNICODE, PageType } from './ndb/constants';
import { NdbReader } from './ndb/read-ndb';
import { FileByteSource, MemoryByteSource, type ByteSource } from './ndb/read-source';
import { checkAllocation } from './check/allocation';
import { checkBlocks } from './check/blocks';
import { walkBTree } from './check/btree';
import type { CheckContext } from './check/context';
import { checkHeader } from './check/header';
import { checkLtp } from './check/ltp';
import { checkMessaging } from './check/messaging';
import { checkNodes } from './check/nodes';
import { BlockTable, NodeTable } from './check/tables';
import { CheckLimitReached, FindingSink, hex, type CheckFinding, type CheckOptions, type CheckReport, type CheckStats } from './check/types';

export type { CheckCode, CheckFinding, CheckOptions, CheckReport, CheckSeverity, CheckStats } from './check/types';

/** Default cap on findings: a badly damaged file stops here (report.truncated = true). */
export const DEFAULT_MAX_FINDINGS = 1000;

/**
 * Checks the PST at `path`.
 * @returns a report; `findings` is empty for a clean file. A file that cannot be opened gives a
 *   report with one "FileUnreadable" finding.
 * @throws only the AbortSignal's reason when `options.signal` is aborted */
export async function checkPst(path: string, options: CheckOptions = {}): Promise<CheckReport> {
  let source: ByteSource;
  try {
    source = await FileByteSource.open(path);
  } catch (err) {
    const finding: CheckFinding = { code: 'FileUnreadable', severity: 'error', message: `cannot open ${path}: ${(err as Error).message}` };
    return { file: path, findings: [finding], stats: emptyStats(0), truncated: false, elapsedMs: 0 };
  }
  try {
    return await checkPstSource(source, path, options);
  } finally {
    await source.close();
  }
}

/**
 * Checks a PST held in memory or any ByteSource (tests, fuzzing). `name` is the report's `file`.
 * @throws only the AbortSignal's reason */
export async function checkPstSource(input: ByteSource | Uint8Array, name = '<memory>', options: CheckOptions = {}): Promise<CheckReport> {
  const source = input instanceof Uint8Array ? new MemoryByteSource(input) : input;
  const started = Date.now();
  const sink = new FindingSink(options.maxFindings ?? DEFAULT_MAX_FINDINGS, options.signal);
  const stats = emptyStats(source.size);
  let format: 'unicode' | 'ansi' | undefined;
  try {
    options.signal?.throwIfAborted();
    const headBytes = await source.read(0, Math.min(HEADER_SIZE_UNICODE, source.size));
    const header = checkHeader(headBytes, source.size, sink);
    if (header) {
      format = header.format.ansi ? 'ansi' : 'unicode';
      const ndb = await NdbReader.open(source, { verifyCrc: false });
      const ctx: CheckContext = { source, header, fmt: header.format, ndb, sink, stats, blocks: new BlockTable(), nodes: new NodeTable(), pageOffsets: [], maxPageBid: 0, ltpBad: new Set() };
      await guarded(ctx, 'NBT', () => walkBTree(ctx, PageType.NBT));
      await guarded(ctx, 'BBT', () => walkBTree(ctx, PageType.BBT));
      await guarded(ctx, 'blocks', () => checkBlocks(ctx));
      await guarded(ctx, 'allocation maps', () => checkAllocation(ctx));
      await guarded(ctx, 'nodes', async () => checkNodes(ctx));
      if (!header.format.ansi) {
        await guarded(ctx, 'LTP', () => checkLtp(ctx));
        await guarded(ctx, 'messaging', () => checkMessaging(ctx));
      }
    }
  } catch (err) {
    if (!(err instanceof CheckLimitReached)) {
      if (options.signal?.aborted) throw options.signal.reason;
      sink.findings.push({ code: 'FileUnreadable', severity: 'error', message: `the check stopped: ${(err as Error).message ?? String(err)}` });
    }
  }
  return { file: name, format, findings: sink.findings, stats, truncated: sink.truncated, elapsedMs: Date.now() - started };
}

/** Runs one check phase; an unexpected exception becomes a finding and the next phase runs. */
async function guarded(ctx: CheckContext, phase: string, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (err) {
    if (err instanceof CheckLimitReached) throw err;
    if (ctx.sink instanceof FindingSink && (err as { name?: string }).name === 'AbortError') throw err;
    ctx.sink.add('FileUnreadable', `the ${phase} check stopped early: ${(err as Error).message ?? String(err)}`);
  }
}

function emptyStats(fileBytes: number): CheckStats {
  return { pages: 0, blocks: 0, nodes: 0, folders: 0, messages: 0, attachments: 0, intervals: 0, fileBytes };
}

/**
 * Human-readable report, one line per finding:
 * `error BlockCrc @0x1a40 bid=0x24: block 0x24 at 0x1a40: …`, then a summary line
 * (`clean: …` or `N error(s), M warning(s)`), and a note when the check was truncated.
 */
export function formatFindings(report: CheckReport): string {
  const lines: string[] = [];
  for (const f of report.findings) {
    const at = [f.offset !== undefined ? `@${hex(f.offset)}` : '', f.nid !== undefined ? `nid=${hex(f.nid)}` : '', f.bid !== undefined ? `bid=${hex(f.bid)}` : ''].filter(Boolean).join(' ');
    lines.push(`${f.severity} ${f.code}${at ? ' ' + at : ''}: ${f.message}`);
  }
  const s = report.stats;
  const what = `${s.fileBytes} bytes, ${s.pages} pages, ${s.blocks} blocks, ${s.nodes} nodes, ${s.folders} folders, ${s.messages} messages, ${s.attachments} attachments`;
  const errors = report.findings.filter((f) => f.severity === 'error').length;
  const warnings = report.findings.length - errors;
  lines.push(report.findings.length === 0 ? `${report.file}: clean (${what})` : `${report.file}: ${errors} error(s), ${warnings} warning(s) (${what})`);
  if (report.truncated) lines.push(`stopped after ${report.findings.length} findings (maxFindings); more problems may exist`);
  return lines.join('\n');
}
