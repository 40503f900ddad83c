/** The Graph source's filters: folder paths, message classes, date ranges (source.ts options). */
import type { SourceDateRange, SourceOptions } from './source-types';

/** Normalised folder filter: include/exclude paths, lower case, no slashes at the ends. */
export interface FolderFilter {
  /** Whether a folder (display-name path) is read. */
  accepts(path: readonly string[]): boolean;
  /** Whether anything under this folder could be read (to skip whole subtrees). */
  mayDescend(path: readonly string[]): boolean;
}

const norm = (p: string): string => p.split('/').map((s) => s.trim()).filter(Boolean).join('/').toLowerCase();
const under = (path: string, root: string): boolean => path === root || path.startsWith(`${root}/`);

/** The folder filter of the options: a folder is read when it is (under) an include path, if any, and not (under) an exclude path. */
export function folderFilter(options: Pick<SourceOptions, 'includeFolders' | 'excludeFolders'>): FolderFilter {
  const inc = (options.includeFolders ?? []).map(norm);
  const exc = (options.excludeFolders ?? []).map(norm);
  const key = (path: readonly string[]): string => path.join('/').toLowerCase();
  return {
    accepts: (path) => {
      const k = key(path);
      if (exc.some((e) => under(k, e))) return false;
      return inc.length === 0 || inc.some((i) => under(k, i));
    },
    mayDescend: (path) => {
      const k = key(path);
      if (exc.some((e) => under(k, e))) return false;
      return inc.length === 0 || inc.some((i) => under(k, i) || under(i, k));
    },
  };
}

/** Whether a message class passes the `itemTypes` prefixes (case-insensitive; none = all). */
export function typeAccepted(messageClass: string | undefined, itemTypes: readonly string[] | undefined): boolean {
  if (!itemTypes || itemTypes.length === 0) return true;
  const c = (messageClass ?? '').toLowerCase();
  return itemTypes.some((t) => c.startsWith(t.toLowerCase()));
}

/** Whether an item with these dates is in the range (no range = yes; a missing date = no). */
export function dateAccepted(item: { createdDateTime?: unknown; lastModifiedDateTime?: unknown }, range: SourceDateRange | undefined): boolean {
  if (!range || (!range.before && !range.notBefore)) return true;
  const raw = item[range.field ?? 'createdDateTime'];
  const t = typeof raw === 'string' ? Date.parse(raw) : NaN;
  if (Number.isNaN(t)) return false;
  if (range.before && !(t < range.before.getTime())) return false;
  if (range.notBefore && t < range.notBefore.getTime()) return false;
  return true;
}

/** The range "older than `days` days" at `now` (the pre-stage): createdDateTime (default) before now − days. */
export function olderThanDays(days: number, now: Date = new Date(), field: SourceDateRange['field'] = 'createdDateTime'): SourceDateRange {
  return { field, before: new Date(now.getTime() - days * 86_400_000) };
}

/**
 * The `onlyItemIds` option as a tracker: which ids are wanted, which were found while listing.
 * `undefined` from {@link idFilter} means "no id filter" (read everything).
 */
export interface IdFilter {
  /** Whether the id is wanted; marks it found. */
  take(id: string): boolean;
  /** Every wanted id has been found (listing may stop). */
  complete(): boolean;
  /** Wanted ids not found, in the order given. */
  missing(): string[];
}

/** The id filter of the options, or undefined without `onlyItemIds`. */
export function idFilter(options: Pick<SourceOptions, 'onlyItemIds'>): IdFilter | undefined {
  if (!options.onlyItemIds) return undefined;
  const wanted = new Set(options.onlyItemIds);
  const found = new Set<string>();
  return {
    take: (id) => {
      if (!wanted.has(id)) return false;
      found.add(id);
      return true;
    },
    complete: () => found.size === wanted.size,
    missing: () => [...wanted].filter((id) => !found.has(id)),
  };
}
