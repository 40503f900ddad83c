/**
 * `outport export`: one mailbox (or its in-place archive, auxiliary part included) to PST parts in
 * a local directory or an Azure Blob container, through export/run.ts with the checkpoint kept in
 * the destination (export/checkpoint-destination.ts): running the same command again after a crash,
 * Ctrl-C or a failure resumes — finished parts are kept, the unfinished one is redone.
 *
 *   outport export --tenant-config FILE --mailbox SMTP [--archive]
 *     (--to DIR | --to CONTAINER_SAS_URL | --connection-string CS
 *      | --storage-account A --storage-key K [--endpoint-suffix S | --blob-endpoint URL])
 *     [--container NAME] [--name user1.pst] [--split-size 10GB] [--older-than DAYS]
 *     [--types mail,contacts,calendar,tasks,notes,journal] [--incremental] [--retry-errors] [--log-subjects]
 *
 * The storage key may come from the environment variable OUTPORT_STORAGE_KEY instead of the
 * command line (it is never printed). Everything is validated before any Graph or storage call; the
 * messages name the flag and the fix. Progress on stderr when it is a terminal; the summary (parts
 * with sizes and SHA-256, items, errors by code, fidelity) on stdout.
 * Exit codes: 0 completed; 1 completed with per-item errors (`--retry-errors` retries them);
 * 2 bad usage, a refused pass (RetryNotAllowed, IncrementalNotAllowed), a fatal error or a cancel.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { GraphError } from '../graph/errors';
import { GraphSource } from '../graph/source';
import { graphClientForTenant, readTenantConfig, TenantConfigError } from '../graph/tenant-client';
import { DestinationCheckpoint } from '../export/checkpoint-destination';
import { ExportError } from '../export/errors';
import { runExport } from '../export/run';
import type { ExportItemError, ExportPass, ExportProgress, ExportRequest, ExportResult } from '../export/types';
import { createDestination, endpointFromSuffix, pstNameProblem, validateDestination, type DestinationInput } from '../storage';
import { StorageError } from '../storage/destination';
import { DEFAULT_SPLIT_SIZE_BYTES, MAX_SPLIT_SIZE_BYTES, MIN_SPLIT_SIZE_BYTES } from '../pst/writer';
import { parseArgs, parseSize, UsageError } from './args';

/** The usage text. */
export const EXPORT_USAGE = `usage: outport export --tenant-config FILE --mailbox SMTP [--archive]
         (--to DIR | --to CONTAINER_SAS_URL | --connection-string CS
          | --storage-account A --storage-key K [--endpoint-suffix S | --blob-endpoint URL])
         [--container NAME] [--name user1.pst] [--split-size 10GB] [--older-than DAYS]
         [--types mail,contacts,calendar,tasks,notes,journal] [--incremental] [--retry-errors] [--log-subjects]
  The storage key may also come from the environment variable OUTPORT_STORAGE_KEY.
  Running the same command again resumes an interrupted export.`;

/** `--types` names → message class prefixes (SourceOptions.itemTypes; MS-OXCMSG class names). */
export const ITEM_TYPE_CLASSES: Readonly<Record<string, readonly string[]>> = {
  mail: ['IPM.Note', 'IPM.Post'],
  contacts: ['IPM.Contact', 'IPM.DistList'],
  calendar: ['IPM.Appointment', 'IPM.Schedule'],
  tasks: ['IPM.Task'],
  notes: ['IPM.StickyNote'],
  journal: ['IPM.Activity'],
};

/** Environment variable that may hold the storage account key. */
export const STORAGE_KEY_ENV = 'OUTPORT_STORAGE_KEY';

/** Which flag a validation field (storage/validate.ts) came from, for the messages. */
const FLAG_OF_FIELD: Record<string, string> = {
  accountName: '--storage-account', accountKey: `--storage-key (or ${STORAGE_KEY_ENV})`, sasUrl: '--to', connectionString: '--connection-string',
  container: '--container', blobEndpoint: '--blob-endpoint / --endpoint-suffix', storageCloud: '--endpoint-suffix', directory: '--to',
};

/** Parsed and checked command line. */
export interface ExportCommandArgs {
  tenantConfig: string;
  destination: DestinationInput;
  request: ExportRequest;
}

const VALUE_FLAGS = ['tenant-config', 'mailbox', 'to', 'connection-string', 'storage-account', 'storage-key', 'endpoint-suffix', 'blob-endpoint', 'container', 'name', 'split-size', 'older-than', 'types'];
const BOOLEAN_FLAGS = ['archive', 'incremental', 'retry-errors', 'log-subjects'];

/**
 * Parses and validates `argv` (without "export") — no network or disk access.
 * @param env  the environment (for OUTPORT_STORAGE_KEY)
 * @throws UsageError naming the flag and the fix
 */
export function parseExportArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): ExportCommandArgs {
  const { positional, flags } = parseArgs(argv, VALUE_FLAGS, EXPORT_USAGE, BOOLEAN_FLAGS);
  if (positional.length > 0) throw new UsageError(`unexpected argument "${positional[0]}"\n${EXPORT_USAGE}`);
  const bool = (k: string) => {
    const v = flags.get(k);
    if (v === undefined || v === 'false') return false;
    if (v === 'true') return true;
    throw new UsageError(`--${k} takes no value (got "${v}")`);
  };
  const tenantConfig = flags.get('tenant-config');
  if (!tenantConfig) throw new UsageError(`--tenant-config FILE is required (a tenant config, e.g. from "outport sandbox --write-config FILE")\n${EXPORT_USAGE}`);
  const mailbox = flags.get('mailbox') ?? '';
  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(mailbox)) throw new UsageError(`--mailbox needs the user's SMTP address (user@domain), not "${mailbox}"\n${EXPORT_USAGE}`);
  const archive = bool('archive');

  // destination: exactly one form
  const to = flags.get('to');
  const cs = flags.get('connection-string');
  const account = flags.get('storage-account');
  const forms = [to !== undefined && '--to', cs !== undefined && '--connection-string', account !== undefined && '--storage-account'].filter(Boolean) as string[];
  if (forms.length !== 1) {
    throw new UsageError(forms.length === 0
      ? `a destination is required: --to DIR, --to CONTAINER_SAS_URL, --connection-string CS, or --storage-account A with --storage-key K\n${EXPORT_USAGE}`
      : `give one destination, not ${forms.join(' and ')}\n${EXPORT_USAGE}`);
  }
  const container = flags.get('container');
  const suffix = flags.get('endpoint-suffix');
  const blobEndpoint = flags.get('blob-endpoint');
  const keyFlag = flags.get('storage-key');
  if (account === undefined) {
    for (const [k, v] of [['storage-key', keyFlag], ['endpoint-suffix', suffix], ['blob-endpoint', blobEndpoint]] as const) {
      if (v !== undefined) throw new UsageError(`--${k} goes with --storage-account only`);
    }
  }
  let destination: DestinationInput;
  if (to !== undefined) {
    if (/^https?:\/\//i.test(to)) {
      if (container !== undefined) throw new UsageError('--container does not go with a container SAS URL: the URL names the container');
      destination = { sasUrl: to };
    } else {
      if (container !== undefined) throw new UsageError('--container does not go with --to DIR (a local directory)');
      destination = { directory: to };
    }
  } else if (cs !== undefined) {
    destination = { connectionString: cs, ...(container !== undefined ? { container } : {}) };
  } else {
    const key = keyFlag ?? env[STORAGE_KEY_ENV];
    if (!key) throw new UsageError(`--storage-account needs the account key: --storage-key K or the environment variable ${STORAGE_KEY_ENV}`);
    if (suffix !== undefined && blobEndpoint !== undefined) throw new UsageError('give --endpoint-suffix or --blob-endpoint, not both');
    destination = {
      accountName: account, accountKey: key,
      ...(suffix !== undefined ? endpointFromSuffix(account!, suffix) : {}),
      ...(blobEndpoint !== undefined ? { storageCloud: 'custom' as const, blobEndpoint } : {}),
      ...(container !== undefined ? { container } : {}),
    };
  }
  const checked = validateDestination(destination, 'destination');
  if (!checked.ok) {
    throw new UsageError(checked.errors.map((e) => {
      const field = e.field.replace(/^destination\.?/, '');
      return `${FLAG_OF_FIELD[field] ?? (field || 'destination')}: ${e.message}`;
    }).join('\n'));
  }

  // the PST name
  const local = mailbox.split('@')[0].replace(/[^\w.-]/g, '_');
  const pstName = flags.get('name') ?? `${local}${archive ? '-archive' : ''}.pst`;
  const nameProblem = pstNameProblem(pstName);
  if (nameProblem) throw new UsageError(`--name "${pstName}": ${nameProblem}`);

  let splitSizeBytes = DEFAULT_SPLIT_SIZE_BYTES;
  if (flags.has('split-size')) {
    splitSizeBytes = parseSize(flags.get('split-size')!);
    if (splitSizeBytes < MIN_SPLIT_SIZE_BYTES || splitSizeBytes > MAX_SPLIT_SIZE_BYTES) {
      throw new UsageError(`--split-size must be between 1MB and 50GB (Outlook's default Unicode PST limit), not ${flags.get('split-size')}`);
    }
  }

  const passes: [ExportPass, boolean][] = [['prestage', flags.has('older-than')], ['incremental', bool('incremental')], ['retry-errors', bool('retry-errors')]];
  const chosen = passes.filter(([, on]) => on).map(([p]) => p);
  if (chosen.length > 1) throw new UsageError(`--older-than, --incremental and --retry-errors are separate passes: give one (got ${chosen.join(', ')})`);
  const pass: ExportPass = chosen[0] ?? 'full';
  let olderThanDays: number | undefined;
  if (pass === 'prestage') {
    const t = flags.get('older-than')!;
    olderThanDays = Number(t);
    if (!/^\d+(\.\d+)?$/.test(t) || !Number.isFinite(olderThanDays)) throw new UsageError(`--older-than takes a number of days (e.g. 30), not "${t}"`);
  }

  let itemTypes: string[] | undefined;
  if (flags.has('types')) {
    const names = flags.get('types')!.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
    const unknown = names.filter((n) => !Object.hasOwn(ITEM_TYPE_CLASSES, n));
    if (names.length === 0 || unknown.length) throw new UsageError(`--types: ${unknown.length ? `unknown type "${unknown[0]}"` : 'empty'}; use a comma-separated list of ${Object.keys(ITEM_TYPE_CLASSES).join(', ')}`);
    itemTypes = [...new Set(names.flatMap((n) => ITEM_TYPE_CLASSES[n]))];
  }

  return {
    tenantConfig,
    destination,
    request: {
      mailbox: { user: mailbox, archive },
      pstName,
      pass,
      ...(olderThanDays !== undefined ? { olderThanDays } : {}),
      splitSizeBytes,
      logSubjects: bool('log-subjects'),
      ...(itemTypes ? { source: { itemTypes } } : {}),
    },
  };
}

async function write(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

const grouped = (n: number) => Math.round(n).toLocaleString('en-US');
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const duration = (s: number) => (s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(Math.floor(s % 60)).padStart(2, '0')}s` : `${Math.ceil(s)}s`);

/** The progress line shown on a terminal. */
export function progressLine(p: ExportProgress, width = 100): string {
  const total = p.itemsTotal !== undefined ? `/${grouped(p.itemsTotal)}` : '';
  const eta = p.etaSeconds !== undefined ? ` ETA ${duration(p.etaSeconds)}` : '';
  const skipped = p.itemsSkipped ? ` (${grouped(p.itemsSkipped)} already done)` : '';
  const line = `${grouped(p.itemsDone)}${total} items${skipped} ${mb(p.bytesDone)} ${p.itemsPerSecond.toFixed(1)} items/s ${mb(p.bytesPerSecond)}/s${eta} parts ${p.partsDone} errors ${p.errors} ${p.folder ?? ''}`;
  return line.length > width ? line.slice(0, width - 1) + '…' : line.padEnd(width);
}

/** The summary printed at the end. */
export function summary(result: ExportResult, location: string, errors: readonly ExportItemError[]): string {
  const lines: string[] = [];
  lines.push(`${result.outcome}: ${grouped(result.itemsExported)} items exported${result.itemsSkipped ? `, ${grouped(result.itemsSkipped)} already in earlier parts` : ''}, ${grouped(result.errors)} errors`);
  lines.push(`Destination: ${location}`);
  for (const p of result.parts) lines.push(`  ${p.name}  ${grouped(p.sizeBytes)} bytes  sha256 ${p.sha256}  ${grouped(p.itemCount)} items`);
  if (result.parts.length === 0) lines.push('  no new part (nothing new to export)');
  lines.push(`Fidelity: ${grouped(result.fidelity.full)} full (exportItems), ${grouped(result.fidelity.rest)} REST`);
  for (const n of result.notices ?? []) lines.push(`Note: ${n.code}${n.folderPath ? ` (${n.folderPath})` : ''}: ${n.message}`);
  if (errors.length) {
    const byCode = new Map<string, number>();
    for (const e of errors) byCode.set(e.code, (byCode.get(e.code) ?? 0) + 1);
    lines.push(`Errors by code: ${[...byCode].map(([c, n]) => `${c} ${n}`).join(', ')}`);
    for (const e of errors.slice(0, 20)) lines.push(`  ${e.code} ${e.sourceId}${e.folderPath ? ` in ${e.folderPath}` : ''}${e.subject !== undefined ? ` "${e.subject}"` : ''}: ${e.message}`);
    if (errors.length > 20) lines.push(`  … ${errors.length - 20} more`);
    lines.push('Run the same command with --retry-errors to export the failed items into an extra part.');
  }
  return lines.join('\n') + '\n';
}

/** I/O of {@link run} (tests pass their own). */
export interface ExportCommandIo {
  out?: Writable;
  err?: Writable;
  env?: NodeJS.ProcessEnv;
  /** Cancels the run (default: SIGINT/SIGTERM). */
  signal?: AbortSignal;
  /** Show the progress line (default: stderr is a TTY). */
  progress?: boolean;
}

/** Runs `outport export`. @returns the exit code (0, 1, 2) */
export async function run(argv: string[], io: ExportCommandIo = {}): Promise<number> {
  const out = io.out ?? process.stdout;
  const err = io.err ?? process.stderr;
  const fail = async (message: string) => { await write(err, `outport export: ${message}\n`); return 2; };
  let args: ExportCommandArgs;
  try {
    args = parseExportArgs(argv, io.env ?? process.env);
  } catch (e) {
    if (e instanceof UsageError) return fail(e.message);
    throw e;
  }
  let source: GraphSource;
  try {
    source = new GraphSource(graphClientForTenant(await readTenantConfig(args.tenantConfig)));
  } catch (e) {
    if (e instanceof TenantConfigError || e instanceof TypeError) return fail(e.message);
    throw e;
  }

  const ac = new AbortController();
  const onSignal = () => ac.abort(new Error('cancelled by a signal'));
  if (io.signal) io.signal.addEventListener('abort', onSignal, { once: true });
  else {
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
  const showProgress = io.progress ?? (err as { isTTY?: boolean }).isTTY === true;
  let progressShown = false;
  try {
    const checked = validateDestination(args.destination);
    if (!checked.ok) return await fail(checked.errors.map((e) => `${e.field}: ${e.message}`).join('\n'));
    const destination = createDestination(checked.config);
    await destination.ensure(ac.signal);
    const checkpoint = await DestinationCheckpoint.open({ destination, pstName: args.request.pstName, mailbox: args.request.mailbox, signal: ac.signal });
    const result = await runExport(args.request, {
      source, destination, checkpoint, signal: ac.signal,
      onProgress: showProgress ? (p) => { progressShown = true; err.write(`\r${progressLine(p, Math.max(40, ((err as { columns?: number }).columns ?? 100) - 1))}`); } : undefined,
    });
    if (progressShown) await write(err, '\n');
    if (result.outcome === 'Cancelled') {
      await write(out, summary(result, destination.location, []));
      return await fail('cancelled; finished parts are kept: run the same command again to resume');
    }
    const errors = result.errors > 0 ? await checkpoint.lastPassErrors() : [];
    await write(out, summary(result, destination.location, errors));
    return result.outcome === 'Completed' ? 0 : 1;
  } catch (e) {
    if (progressShown) await write(err, '\n');
    if (e instanceof ExportError || e instanceof StorageError) return fail(`${e.code}: ${e.message}`);
    if (e instanceof GraphError) return fail(`${e.code}: ${e.message}`);
    throw e;
  } finally {
    if (io.signal) io.signal.removeEventListener('abort', onSignal);
    else {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }
}
