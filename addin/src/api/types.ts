/**
 * The worker API's shapes, as docs/api.md "Shapes" gives them (the contract both sides are written
 * against). Times are ISO 8601 UTC strings, sizes bytes, rates per second.
 */
import type { Cloud } from '../validate/destination';

export type { Cloud };

/** `GET /api/v1/config`: what the pane needs to sign in. */
export interface ApiConfig {
  tenantId: string;
  /** The login root (https://login.microsoftonline.com, a national cloud's, or the sandbox's); authority = `<authorityUrl>/<tenantId>`. */
  authorityUrl: string;
  /** The client id the pane signs in with (the add-in's own app registration; in the sandbox the worker app). */
  clientId: string;
  /** `api://<worker client id>/access_as_user`. */
  apiScope: string;
  cloud: string;
  /** True when the tenant is Outport's sandbox (password sign-in for its test users). */
  sandbox: boolean;
  /**
   * Sandbox only: where the pane's password sign-in posts (the sandbox's plain-HTTP loopback token
   * endpoint, which answers CORS; its HTTPS authority has a self-signed certificate a browser refuses).
   */
  sandboxSignIn?: { tokenUrl: string };
}

export interface Health { ok: true; version: string }

export interface User { id: string; displayName: string; mail: string | null; userPrincipalName: string }

export interface MailboxInfo { mailboxId?: string; itemCount: number; sizeBytes: number }

/** `GET /api/v1/me`. */
export interface Me {
  user: User;
  isAdmin: boolean;
  mailboxes: { primary: MailboxInfo; archive: MailboxInfo | null };
}

export interface DestinationInput {
  accountName?: string;
  accountKey?: string;
  sasUrl?: string;
  connectionString?: string;
  storageCloud?: Cloud;
  blobEndpoint?: string;
  container?: string;
}

/** A destination as returned: never a secret. */
export interface Destination {
  accountName: string;
  container: string;
  storageCloud: Cloud;
  blobEndpoint?: string;
  credential: 'accountKey' | 'sasUrl' | 'connectionString';
}

export type ItemType = 'mail' | 'contacts' | 'calendar' | 'tasks' | 'notes' | 'journal';
export const ITEM_TYPES: readonly ItemType[] = ['mail', 'contacts', 'calendar', 'tasks', 'notes', 'journal'];

export interface ProjectOptions {
  itemTypes?: ItemType[];
  includeFolders?: string[];
  excludeFolders?: string[];
  dateRange?: { notBefore?: string; before?: string };
  /** Default 10 GiB; 1 MiB .. 50 GiB. */
  splitSizeBytes?: number;
  /** Default 20; 1..500. */
  maxConcurrentExports?: number;
  logSubjects?: boolean;
}

export type AuthMode = 'delegated' | 'application';

export interface ProjectInput {
  name: string;
  authMode?: AuthMode;
  destination: DestinationInput;
  options?: ProjectOptions;
}

export type ItemState = 'NotStarted' | 'Verifying' | 'Verified' | 'Queued' | 'Running' | 'Completed'
  | 'CompletedWithErrors' | 'Failed' | 'Cancelled' | 'WaitingForAuth';

export const ITEM_STATES: readonly ItemState[] = ['NotStarted', 'Verifying', 'Verified', 'Queued', 'Running', 'Completed',
  'CompletedWithErrors', 'Failed', 'Cancelled', 'WaitingForAuth'];

export interface Project {
  id: string;
  name: string;
  tenantId: string;
  createdBy: string;
  createdAt: string;
  authMode: AuthMode;
  destination: Destination;
  options: Required<ProjectOptions>;
  counts: Record<ItemState, number>;
}

export type MailboxKind = 'primary' | 'archive';

export interface ItemInput { source: string; mailbox?: MailboxKind | 'both'; pstName?: string }

export type Pass = 'full' | 'prestage' | 'incremental';

export interface ItemProgress {
  itemId: string;
  state: ItemState;
  folder?: string;
  itemsDone: number;
  itemsTotal?: number;
  bytesDone: number;
  bytesTotal?: number;
  itemsPerSecond: number;
  bytesPerSecond: number;
  etaSeconds?: number;
  partsDone: number;
  updatedAt: string;
}

export interface ItemStatistics {
  itemId: string;
  source: string;
  mailbox: MailboxKind;
  state: ItemState;
  itemsExported: number;
  bytesExported: number;
  errors: number;
  parts: number;
  passes: number;
  fidelity: { full: number; rest: number };
  startedAt?: string;
  finishedAt?: string;
  durationSeconds?: number;
}

export interface VerificationCheck { name: string; ok: boolean; message?: string }

export interface Item {
  id: string;
  projectId: string;
  source: string;
  mailbox: MailboxKind;
  pstName: string;
  state: ItemState;
  lastPass?: Pass | 'retry-errors';
  verification?: { ok: boolean; checks: VerificationCheck[] };
  progress?: ItemProgress;
  statistics?: ItemStatistics;
  error?: { code: string; message: string };
}

export interface ItemError {
  code: string;
  sourceId: string;
  folderPath?: string;
  message: string;
  subject?: string;
  at: string;
}

export interface Part { name: string; sizeBytes: number; sha256: string; items: number; url?: string }

/** `GET …/statistics`: per item, and the totals (summed counters). */
export interface Statistics { value: ItemStatistics[]; totals: Record<string, number> }

/** One bad CSV or items row (`400` with `rows`). */
export interface RowProblem { row: number; field: string; message: string }
