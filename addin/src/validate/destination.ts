/**
 * The destination rules the worker API applies (docs/api.md "Shapes": DestinationInput; FACTS.md
 * "Azure Blob rules"), kept as pure functions so the pane can show the same message inline, under
 * the same field path, before anything is sent. test/addin/validate/destination.test.ts checks
 * these against worker-service/src/storage/validate.ts when that module exists.
 *
 * Sources: Azure "Naming and referencing containers, blobs, and metadata" (container names) and
 * "Storage account overview" (account names: 3-24 lowercase letters and digits).
 */

/** The storage endpoint suffix choice (docs/api.md `Cloud`). */
export type Cloud = 'global' | 'china' | 'usgov' | 'germany' | 'custom';

/** Blob endpoint suffix per cloud (FACTS.md "National clouds"); `custom` takes `blobEndpoint`. */
export const STORAGE_SUFFIX: Readonly<Record<Exclude<Cloud, 'custom'>, string>> = {
  global: 'core.windows.net',
  china: 'core.chinacloudapi.cn',
  usgov: 'core.usgovcloudapi.net',
  germany: 'core.cloudapi.de',
};

/** Default container when none is given (docs/api.md). */
export const DEFAULT_CONTAINER = 'outport';

/** What the user typed in the Destination form; exactly one credential kind is used. */
export interface DestinationDraft {
  credential: 'accountKey' | 'sasUrl';
  accountName: string;
  accountKey: string;
  sasUrl: string;
  container: string;
  storageCloud: Cloud;
  /** Only with storageCloud "custom": http(s)://host[:port]/[account] (Azurite's style). */
  blobEndpoint: string;
}

/** One problem with a field, named by its JSON path in the API request (`destination.accountName`). */
export interface FieldProblem {
  field: string;
  message: string;
}

/** Storage account names: 3-24 characters, lowercase letters and digits only. */
export function checkAccountName(name: string): string | undefined {
  if (name.length === 0) return 'Enter the storage account name.';
  if (/[A-Z]/.test(name)) return 'Use lowercase letters only: storage account names cannot contain capital letters.';
  if (!/^[a-z0-9]+$/.test(name)) return 'Use only lowercase letters and digits (no hyphens, dots or spaces).';
  if (name.length < 3 || name.length > 24) return `Use 3 to 24 characters (this one has ${name.length}).`;
  return undefined;
}

/** Container names: 3-63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit. */
export function checkContainerName(name: string): string | undefined {
  if (name.length < 3 || name.length > 63) return `Use 3 to 63 characters (this one has ${name.length}).`;
  if (/[A-Z]/.test(name)) return 'Use lowercase letters only: container names cannot contain capital letters.';
  if (!/^[a-z0-9-]+$/.test(name)) return 'Use only lowercase letters, digits and hyphens.';
  if (!/^[a-z0-9]/.test(name) || !/[a-z0-9]$/.test(name)) return 'Start and end with a letter or digit.';
  if (name.includes('--')) return 'Do not use two hyphens in a row.';
  return undefined;
}

/** Account keys are base64 (a real key is 64 bytes: 88 characters); only the shape is checked here. */
export function checkAccountKey(key: string): string | undefined {
  if (key.length === 0) return 'Enter the storage account key.';
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key) || key.length % 4 !== 0) return 'The key is not base64: copy it again from the storage account\'s "Access keys" page.';
  return undefined;
}

/** A container SAS URL: https, a path of exactly one container, and `sig` and `sv` parameters. */
export function checkSasUrl(text: string): string | undefined {
  if (text.length === 0) return 'Enter the container SAS URL.';
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'This is not a URL: paste the whole "Blob SAS URL" of the container.';
  }
  if (url.protocol !== 'https:') return 'Use an https:// SAS URL.';
  const parts = url.pathname.split('/').filter(Boolean);
  if (parts.length !== 1) return 'Use a container SAS URL: https://account.blob.core.windows.net/container?sv=…&sig=…';
  if (!url.searchParams.get('sig') || !url.searchParams.get('sv')) return 'The URL has no SAS token (sv and sig are missing).';
  const containerProblem = checkContainerName(decodeURIComponent(parts[0]));
  if (containerProblem) return `The container in the URL is not valid: ${containerProblem}`;
  return undefined;
}

/** A custom blob endpoint: http(s)://host[:port]/[account]. */
export function checkBlobEndpoint(text: string): string | undefined {
  if (text.length === 0) return 'Enter the blob endpoint, e.g. https://account.blob.example.net.';
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'This is not a URL.';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'Use an http:// or https:// endpoint.';
  if (url.search || url.hash) return 'Leave out the query and fragment.';
  if (url.pathname.split('/').filter(Boolean).length > 1) return 'Give the endpoint only, with at most the account as its path.';
  return undefined;
}

/** Every problem of a draft, in form order; empty when the API would accept it. */
export function validateDestination(d: DestinationDraft): FieldProblem[] {
  const out: FieldProblem[] = [];
  const add = (field: string, message: string | undefined): void => {
    if (message) out.push({ field: `destination.${field}`, message });
  };
  if (d.credential === 'accountKey') {
    add('accountName', checkAccountName(d.accountName));
    add('accountKey', checkAccountKey(d.accountKey));
  } else {
    add('sasUrl', checkSasUrl(d.sasUrl));
  }
  if (d.credential === 'accountKey' || d.container.length > 0) add('container', checkContainerName(d.container || DEFAULT_CONTAINER));
  if (d.storageCloud === 'custom') add('blobEndpoint', checkBlobEndpoint(d.blobEndpoint));
  return out;
}

/** The JSON the API takes (docs/api.md DestinationInput) for a draft; secrets only in their own field. */
export function toDestinationInput(d: DestinationDraft): Record<string, string> {
  const out: Record<string, string> = { storageCloud: d.storageCloud };
  if (d.credential === 'accountKey') {
    out.accountName = d.accountName;
    out.accountKey = d.accountKey;
    out.container = d.container || DEFAULT_CONTAINER;
  } else {
    out.sasUrl = d.sasUrl;
    if (d.container) out.container = d.container;
  }
  if (d.storageCloud === 'custom') out.blobEndpoint = d.blobEndpoint;
  return out;
}

/** The blob service URL the draft points at, for display (no secrets). */
export function blobServiceUrl(d: DestinationDraft): string | undefined {
  if (d.credential === 'sasUrl') {
    try {
      const u = new URL(d.sasUrl);
      return `${u.origin}${u.pathname}`;
    } catch {
      return undefined;
    }
  }
  if (!d.accountName) return undefined;
  if (d.storageCloud === 'custom') return d.blobEndpoint || undefined;
  return `https://${d.accountName}.blob.${STORAGE_SUFFIX[d.storageCloud]}`;
}
