/**
 * Input rules the store and the CSV import share (docs/api.md "Shapes", docs/jobs.md): item sources,
 * default PST names, PST-name checks, the uniqueness keys of an item, option defaults and ranges,
 * and splitting a DestinationInput into its public half and its secret.
 */
import { describeDestination, pstNameProblem as storagePstNameProblem, validateDestination } from '../storage/validate';
import {
  DEFAULT_PROJECT_OPTIONS, JobsError, PROJECT_OPTION_LIMITS,
  type Destination, type DestinationInput, type DestinationSecret, type ItemInput, type MailboxKind,
  type NewItem, type ProjectOptions, type RowError,
} from './contract';

/** An SMTP address or UPN (RFC 5321 local@domain, no spaces), or a mailbox id (`MBX:…`, a GUID). */
const ADDRESS = /^[^\s@",;<>]+@[^\s@",;<>]+\.[^\s@",;<>]+$/;
const MAILBOX_ID = /^(?:MBX:\S+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;
/** RFC 5321 4.5.3.1: a path is at most 256 octets. */
const MAX_SOURCE_LENGTH = 256;

/**
 * Why a source is unusable, or undefined when it is an SMTP address/UPN or a mailbox id.
 * @param source trimmed
 */
export function sourceProblem(source: string): string | undefined {
  if (source === '') return 'the source mailbox is empty: give an SMTP address, a UPN or a mailbox id';
  if (source.length > MAX_SOURCE_LENGTH) return `the source is longer than ${MAX_SOURCE_LENGTH} characters`;
  if (ADDRESS.test(source) || MAILBOX_ID.test(source)) return undefined;
  return `"${source}" is not an SMTP address, UPN or mailbox id (write e.g. user1@contoso.com)`;
}

/**
 * Why a destination PST name is unusable, or undefined: storage/validate.ts's rules (ends in .pst,
 * plain file name, no traversal, not a Windows-reserved name, ≤ 200 characters).
 */
export function pstNameProblem(name: string): string | undefined {
  const p = storagePstNameProblem(name);
  return p === undefined ? undefined : `${JSON.stringify(name)} ${p}`;
}

/** Default PST name: `<local part>.pst`, archives `<local part>-archive.pst` (mailbox ids: the id with unsafe characters replaced). */
export function defaultPstName(source: string, mailbox: MailboxKind): string {
  const local = (source.includes('@') ? source.slice(0, source.indexOf('@')) : source).replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+|\.+$/g, '') || 'mailbox';
  return `${local}${mailbox === 'archive' ? '-archive' : ''}.pst`;
}

/** Uniqueness key of an item's mailbox within a project: lowercased source + kind. */
export function mailboxKey(source: string, mailbox: MailboxKind): string {
  return `${source.trim().toLowerCase()}|${mailbox}`;
}

/** Uniqueness key of a PST name within a project (case-insensitive, as Windows file names). */
export function pstKey(pstName: string): string {
  return pstName.toLowerCase();
}

/**
 * Collects item inputs row by row (API `items[]`, CSV records): `mailbox: "both"` → two items,
 * default PST names, checks. Exact duplicates (same source case-insensitively, same mailbox, same
 * PST name) are dropped silently; other collisions are row errors.
 */
export class ItemCollector {
  readonly items: NewItem[] = [];
  readonly errors: RowError[] = [];
  readonly #byMailbox = new Map<string, { item: NewItem; row: number }>();
  readonly #byPst = new Map<string, number>();

  /** Adds one input found at `row` (1-based). */
  add(input: ItemInput, row: number): void {
    const source = typeof input?.source === 'string' ? input.source.trim() : '';
    const sp = sourceProblem(source);
    if (sp) { this.errors.push({ row, field: 'source', message: sp }); return; }
    const kind = input.mailbox ?? 'primary';
    if (kind !== 'primary' && kind !== 'archive' && kind !== 'both') {
      this.errors.push({ row, field: 'mailbox', message: `mailbox must be "primary", "archive" or "both" (got ${JSON.stringify(kind)})` });
      return;
    }
    if (input.pstName !== undefined && typeof input.pstName !== 'string') {
      this.errors.push({ row, field: 'pstName', message: 'pstName must be a string such as "user1.pst"' });
      return;
    }
    const kinds: MailboxKind[] = kind === 'both' ? ['primary', 'archive'] : [kind];
    for (const mailbox of kinds) {
      let pstName = input.pstName?.trim() || defaultPstName(source, mailbox);
      if (kind === 'both' && input.pstName?.trim() && mailbox === 'archive') pstName = pstName.replace(/\.pst$/i, '-archive.pst');
      const pp = pstNameProblem(pstName);
      if (pp) { this.errors.push({ row, field: 'pstName', message: pp }); continue; }
      const mk = mailboxKey(source, mailbox);
      const previous = this.#byMailbox.get(mk);
      if (previous) {
        if (pstKey(previous.item.pstName) !== pstKey(pstName)) {
          this.errors.push({ row, field: 'source', message: `${source} (${mailbox}) is already row ${previous.row} with another PST name (${previous.item.pstName})` });
        }
        continue;
      }
      const owner = this.#byPst.get(pstKey(pstName));
      if (owner !== undefined) {
        this.errors.push({ row, field: 'pstName', message: `${pstName} is already the destination of row ${owner}: each item needs its own PST name` });
        continue;
      }
      const item: NewItem = { source, mailbox, pstName };
      this.#byMailbox.set(mk, { item, row });
      this.#byPst.set(pstKey(pstName), row);
      this.items.push(item);
    }
  }
}

/** {@link ItemCollector} over an array; rows are 1-based indexes into `inputs`. */
export function expandItemInputs(inputs: readonly ItemInput[]): { items: NewItem[]; errors: RowError[] } {
  const c = new ItemCollector();
  inputs.forEach((input, i) => c.add(input, i + 1));
  return { items: c.items, errors: c.errors };
}

/**
 * Options with defaults applied and ranges checked.
 * @param base the current options (PATCH) or the defaults
 * @throws JobsError InvalidInput naming `options.<field>`
 */
export function resolveOptions(options: ProjectOptions | undefined, base: Required<ProjectOptions> = DEFAULT_PROJECT_OPTIONS): Required<ProjectOptions> {
  const o = { ...base, ...stripUndefined(options ?? {}) } as Required<ProjectOptions>;
  const range = (field: 'splitSizeBytes' | 'maxConcurrentExports') => {
    const { min, max } = PROJECT_OPTION_LIMITS[field];
    const v = o[field];
    if (!Number.isInteger(v) || v < min || v > max) {
      throw new JobsError('InvalidInput', `options.${field} must be an integer from ${min} to ${max} (got ${JSON.stringify(v)})`, { field: `options.${field}` });
    }
  };
  range('splitSizeBytes');
  range('maxConcurrentExports');
  const allTypes = DEFAULT_PROJECT_OPTIONS.itemTypes;
  if (!Array.isArray(o.itemTypes) || o.itemTypes.length === 0 || o.itemTypes.some((t) => !allTypes.includes(t))) {
    throw new JobsError('InvalidInput', `options.itemTypes must be a non-empty list of ${allTypes.join(', ')}`, { field: 'options.itemTypes' });
  }
  for (const f of ['includeFolders', 'excludeFolders'] as const) {
    if (!Array.isArray(o[f]) || o[f].some((p) => typeof p !== 'string' || p.trim() === '')) {
      throw new JobsError('InvalidInput', `options.${f} must be a list of folder paths like "Inbox/Lists"`, { field: `options.${f}` });
    }
  }
  for (const f of ['notBefore', 'before'] as const) {
    const v = o.dateRange?.[f];
    if (v !== undefined && (typeof v !== 'string' || Number.isNaN(Date.parse(v)))) {
      throw new JobsError('InvalidInput', `options.dateRange.${f} must be an ISO 8601 date-time (e.g. 2024-01-01T00:00:00Z)`, { field: `options.dateRange.${f}` });
    }
  }
  if (typeof o.logSubjects !== 'boolean') throw new JobsError('InvalidInput', 'options.logSubjects must be true or false', { field: 'options.logSubjects' });
  return { ...o, itemTypes: [...o.itemTypes], includeFolders: [...o.includeFolders], excludeFolders: [...o.excludeFolders], dateRange: { ...o.dateRange } };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Validates a destination with storage/validate.ts and splits it into what is returned (no secret)
 * and what is encrypted (the one credential given).
 * @throws JobsError InvalidInput naming the first bad field (`destination.accountName`…); a local
 *         directory destination (CLI only) is refused too
 */
export function splitDestination(input: DestinationInput): { destination: Destination; secret: DestinationSecret } {
  const v = validateDestination(input, 'destination');
  if (!v.ok) {
    const first = v.errors[0]!;
    throw new JobsError('InvalidInput', `${first.field}: ${first.message}`, { field: first.field });
  }
  if (v.config.kind !== 'azure') {
    throw new JobsError('InvalidInput', 'destination.directory: a project exports to an Azure Blob container, not a local directory', { field: 'destination.directory' });
  }
  const destination: Destination = describeDestination(v.config);
  const credential = destination.credential;
  const secret: DestinationSecret = { [credential]: String(input[credential]).trim() };
  return { destination, secret };
}
