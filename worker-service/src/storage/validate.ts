/**
 * Validation of a destination before any work (docs/storage.md "Validation"; docs/api.md
 * DestinationInput): the storage account, credential form, endpoint, container and PST names. Every
 * problem is a {@link FieldError} naming the JSON path of the field (`destination.accountName`) and the
 * fix. Messages never echo an account key, a SAS signature or a connection string.
 *
 * Rules: Azure "Naming and referencing containers, blobs, and metadata"
 * (learn.microsoft.com/rest/api/storageservices/naming-and-referencing-containers--blobs--and-metadata),
 * "Storage account name" (3-24 lowercase letters and digits), Windows "Naming files, paths, and
 * namespaces" (reserved device names, reserved characters), FACTS.md "Azure Blob rules".
 */

/** Where the storage account lives: the blob endpoint suffix (FACTS.md "National clouds"). */
export type StorageCloud = 'global' | 'china' | 'usgov' | 'germany' | 'custom';

/** Blob endpoint DNS suffix by cloud: `https://<account>.blob.<suffix>`. */
export const ENDPOINT_SUFFIXES: Readonly<Record<Exclude<StorageCloud, 'custom'>, string>> = {
  global: 'core.windows.net',
  china: 'core.chinacloudapi.cn',
  usgov: 'core.usgovcloudapi.net',
  germany: 'core.cloudapi.de',
};

/**
 * The DestinationInput fields for an account and an endpoint suffix (CLI `--endpoint-suffix S`): one of
 * the four known suffixes gives its storageCloud; any other DNS suffix gives storageCloud "custom" with
 * blobEndpoint https://<account>.blob.<suffix>. The result still goes through validateDestination.
 */
export function endpointFromSuffix(accountName: string, suffix: string): Pick<DestinationInput, 'storageCloud' | 'blobEndpoint'> {
  const s = suffix.trim().toLowerCase().replace(/^\.+|\.+$/g, '');
  const known = (Object.entries(ENDPOINT_SUFFIXES) as [Exclude<StorageCloud, 'custom'>, string][]).find(([, v]) => v === s);
  if (known) return { storageCloud: known[0] };
  return { storageCloud: 'custom', blobEndpoint: `https://${accountName}.blob.${s}` };
}

/** The container used when none is given. */
export const DEFAULT_CONTAINER = 'outport';

/** Longest PST name accepted, in characters (keeps "<name>-NN.pst.manifest.json" under common path limits). */
export const MAX_PST_NAME_LENGTH = 200;

/** Azurite's development account and key (public, documented in Azurite's README; used for UseDevelopmentStorage=true). */
export const DEVELOPMENT_STORAGE = {
  accountName: 'devstoreaccount1',
  accountKey: 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==',
  blobEndpoint: 'http://127.0.0.1:10000/devstoreaccount1',
} as const;

/**
 * A destination as the API and the CLI receive it (docs/api.md DestinationInput), plus `directory`
 * for the CLI's `--to DIR`. Exactly one of accountKey, sasUrl, connectionString or directory.
 */
export interface DestinationInput {
  /** 3-24 lowercase letters and digits; required with accountKey. */
  accountName?: string;
  /** Base64 account key (write-only). */
  accountKey?: string;
  /** Container SAS URL https://acct.blob.<suffix>/<container>?sv=…&sig=… (write-only). */
  sasUrl?: string;
  /** Azure Storage connection string (write-only). */
  connectionString?: string;
  /** Default "global". */
  storageCloud?: StorageCloud;
  /** With storageCloud "custom": http(s)://host[:port][/account] (Azurite, private endpoints). */
  blobEndpoint?: string;
  /** Default "outport". */
  container?: string;
  /** A local directory (CLI only). */
  directory?: string;
}

/** Which input form the Azure credential came from (docs/api.md Destination.credential). */
export type CredentialSource = 'accountKey' | 'sasUrl' | 'connectionString';

/** A validated Azure Blob destination. `sharedKey` and `sas` are secrets: never log this object. */
export interface AzureDestinationConfig {
  kind: 'azure';
  accountName: string;
  container: string;
  storageCloud: StorageCloud;
  /** Present when storageCloud is "custom": the endpoint as given, normalised (no trailing slash). */
  blobEndpoint?: string;
  /** The blob service URL without query, no trailing slash: "https://acct.blob.core.windows.net" or "http://127.0.0.1:10000/devstoreaccount1". */
  serviceUrl: string;
  credentialSource: CredentialSource;
  /** Account key (base64) when the credential is a shared key (accountKey, or a key connection string). */
  sharedKey?: string;
  /** SAS query without "?" (a container SAS URL's query, or a connection string's SharedAccessSignature). */
  sas?: string;
}

/** A validated local-directory destination (CLI `--to DIR`). */
export interface DirectoryDestinationConfig {
  kind: 'directory';
  /** The directory path as given (absolute or relative to the working directory). */
  path: string;
}

/** A validated destination, input to {@link import('./index').createDestination}. */
export type DestinationConfig = AzureDestinationConfig | DirectoryDestinationConfig;

/** A destination as shown to callers (docs/api.md "Destination as returned"): no secrets. */
export interface DestinationView {
  accountName: string;
  container: string;
  storageCloud: StorageCloud;
  blobEndpoint?: string;
  credential: CredentialSource;
}

/** One validation problem: the JSON path of the field and what to do. */
export interface FieldError {
  /** e.g. "destination.accountName", "items[3].pstName". */
  field: string;
  message: string;
}

/** Outcome of a validation. */
export type ValidationResult<T> = { ok: true; config: T } | { ok: false; errors: FieldError[] };

const INPUT_KEYS = ['accountName', 'accountKey', 'sasUrl', 'connectionString', 'storageCloud', 'blobEndpoint', 'container', 'directory'] as const;

/**
 * Validates a destination (docs/api.md DestinationInput, or `{directory}` for the CLI).
 * @param input  parsed JSON (anything); checked for shape and types too
 * @param field  JSON path prefix of the destination in the request (default "destination")
 * @returns `{ok: true, config}` or `{ok: false, errors}` (every problem found, each naming its field)
 */
export function validateDestination(input: unknown, field = 'destination'): ValidationResult<DestinationConfig> {
  const errors: FieldError[] = [];
  const err = (name: string | undefined, message: string) => errors.push({ field: name ? `${field}.${name}` : field, message });
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, errors: [{ field, message: 'must be an object such as {"accountName": "…", "accountKey": "…"}, {"sasUrl": "…"} or {"connectionString": "…"}' }] };
  }
  const raw = input as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    if (!(INPUT_KEYS as readonly string[]).includes(key)) err(key, `unknown field; allowed: ${INPUT_KEYS.join(', ')}`);
  }
  const str = (key: (typeof INPUT_KEYS)[number]): string | undefined => {
    const v = raw[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') { err(key, `must be a string, got ${Array.isArray(v) ? 'array' : typeof v}`); return undefined; }
    return v;
  };
  const d: DestinationInput = {};
  for (const key of INPUT_KEYS) {
    const v = str(key);
    if (v !== undefined) (d as Record<string, string>)[key] = key === 'accountKey' || key === 'sasUrl' || key === 'connectionString' ? v.trim() : v;
  }
  if (errors.length) return { ok: false, errors };

  // Directory (CLI).
  if (d.directory !== undefined) {
    const others = INPUT_KEYS.filter((k) => k !== 'directory' && d[k] !== undefined);
    if (others.length) err(others[0], `a directory destination takes no ${others.join(', ')}: give either a directory or an Azure container`);
    if (d.directory.trim() === '') err('directory', 'must not be empty: give the directory to write the PST parts into');
    else if (d.directory.includes('\0')) err('directory', 'must not contain a NUL character');
    return errors.length ? { ok: false, errors } : { ok: true, config: { kind: 'directory', path: d.directory } };
  }

  const credentials = (['accountKey', 'sasUrl', 'connectionString'] as const).filter((k) => d[k] !== undefined);
  if (credentials.length === 0) {
    err(undefined, 'needs exactly one credential: accountName with accountKey, a container sasUrl, or a connectionString');
    return { ok: false, errors };
  }
  if (credentials.length > 1) {
    err(credentials[1], `give exactly one credential; ${credentials.join(' and ')} were both given: remove all but one`);
    return { ok: false, errors };
  }
  if (d.storageCloud !== undefined && !['global', 'china', 'usgov', 'germany', 'custom'].includes(d.storageCloud)) {
    err('storageCloud', `"${d.storageCloud}" is not a storage cloud: use global (core.windows.net), china (core.chinacloudapi.cn), usgov (core.usgovcloudapi.net), germany (core.cloudapi.de) or custom (with blobEndpoint)`);
  }
  if (d.container !== undefined) checkContainerName(d.container, `${field}.container`, errors);
  if (d.accountName !== undefined) checkAccountName(d.accountName, `${field}.accountName`, errors);
  if (errors.length) return { ok: false, errors };

  let result: AzureDestinationConfig | undefined;
  if (d.accountKey !== undefined) result = fromAccountKey(d, field, errors);
  else if (d.sasUrl !== undefined) result = fromSasUrl(d, field, errors);
  else result = fromConnectionString(d, field, errors);
  return errors.length || !result ? { ok: false, errors } : { ok: true, config: result };
}

/** The caller-visible view of a validated Azure destination (no secrets). */
export function describeDestination(config: AzureDestinationConfig): DestinationView {
  return {
    accountName: config.accountName,
    container: config.container,
    storageCloud: config.storageCloud,
    ...(config.blobEndpoint ? { blobEndpoint: config.blobEndpoint } : {}),
    credential: config.credentialSource,
  };
}

/**
 * Checks a storage account name: 3-24 characters, lowercase letters and digits only.
 * @returns the problem, or undefined when valid */
export function accountNameProblem(name: string): string | undefined {
  if (/[A-Z]/.test(name)) {
    const lower = name.toLowerCase();
    return `capital letters are not allowed in a storage account name: use "${/^[a-z0-9]{3,24}$/.test(lower) ? lower : lower.replace(/[^a-z0-9]/g, '')}" (3-24 lowercase letters and digits)`;
  }
  if (name.length < 3 || name.length > 24) return `must be 3-24 characters long (got ${name.length}): a storage account name has 3-24 lowercase letters and digits`;
  if (!/^[a-z0-9]+$/.test(name)) return `only lowercase letters and digits are allowed in a storage account name (found "${firstBad(name, /[a-z0-9]/)}")`;
  return undefined;
}

/**
 * Checks a container name: 3-63 characters, lowercase letters, digits and single hyphens, starting and
 * ending with a letter or digit ("$root" and "$logs" are not export targets).
 * @returns the problem, or undefined when valid */
export function containerNameProblem(name: string): string | undefined {
  if (/[A-Z]/.test(name)) return `capital letters are not allowed in a container name: use "${name.toLowerCase()}"`;
  if (name.length < 3 || name.length > 63) return `must be 3-63 characters long (got ${name.length}): lowercase letters, digits and single hyphens, e.g. "${DEFAULT_CONTAINER}"`;
  if (!/^[a-z0-9-]+$/.test(name)) return `only lowercase letters, digits and hyphens are allowed in a container name (found "${firstBad(name, /[a-z0-9-]/)}")`;
  if (!/^[a-z0-9]/.test(name) || !/[a-z0-9]$/.test(name)) return 'a container name must start and end with a letter or digit';
  if (name.includes('--')) return 'consecutive hyphens are not allowed in a container name: use single hyphens';
  return undefined;
}

const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[1-9¹²³]|lpt[1-9¹²³])$/i;

/**
 * Checks a PST file name (item `pstName`, CLI `--name`): ends in .pst, a plain file name (no "/", "\",
 * "..", drive letters), not a Windows reserved device name (CON, PRN, AUX, NUL, COM1-9, LPT1-9, with
 * or without extension), no control characters or `< > : " | ? *`, at most 200 characters, and the
 * part before ".pst" neither empty nor ending in a space or dot.
 * @returns the problem, or undefined when valid */
export function pstNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'must not be empty: give a file name such as "user1.pst"';
  if (name.length > MAX_PST_NAME_LENGTH) return `must be at most ${MAX_PST_NAME_LENGTH} characters (got ${name.length})`;
  if (/[/\\]/.test(name)) return 'must be a file name without directories: remove "/" and "\\"';
  if (name === '..' || name.startsWith('..') || name.includes('..')) return 'must not contain ".." (path traversal): use a plain file name such as "user1.pst"';
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(name)) return 'must not contain control characters';
  const bad = /[<>:"|?*]/.exec(name);
  if (bad) return `must not contain "${bad[0]}" (Windows does not allow < > : " | ? * in file names)`;
  if (!/\.pst$/i.test(name)) return `must end in .pst, e.g. "${name.replace(/\.[^.]*$/, '') || 'user1'}.pst"`;
  const stem = name.slice(0, -4);
  if (stem.length === 0) return 'needs a name before ".pst", e.g. "user1.pst"';
  if (/[ .]$/.test(stem)) return 'the part before ".pst" must not end in a space or a dot (Windows drops them)';
  if (/^\s/.test(name)) return 'must not start with a space';
  if (WINDOWS_RESERVED.test(stem.split('.')[0]!)) return `"${stem.split('.')[0]}" is a reserved device name on Windows (CON, PRN, AUX, NUL, COM1-9, LPT1-9): choose another name`;
  return undefined;
}

/** A PST name with the field it came from, for {@link duplicateNameErrors}. */
export interface NamedField {
  field: string;
  name: string;
}

/**
 * Finds destination names of one project that would overwrite each other: equal ignoring case, or a
 * name equal to a later part of another (`user1-2.pst` is part 2 of `user1.pst`; writer.ts partFileName).
 * The first holder of a name wins; each later clash is one error on its own field.
 */
export function duplicateNameErrors(names: readonly NamedField[]): FieldError[] {
  const errors: FieldError[] = [];
  const seen = new Map<string, string>(); // lowercase name → field
  for (const { field, name } of names) {
    const key = name.toLowerCase();
    const prior = seen.get(key);
    if (prior !== undefined) errors.push({ field, message: `"${name}" is already used by ${prior} (names are compared ignoring case): give each mailbox its own PST name` });
    else seen.set(key, field);
  }
  const bases = new Map<string, { field: string; name: string }>();
  for (const n of names) if (!bases.has(n.name.toLowerCase())) bases.set(n.name.toLowerCase(), n);
  for (const { field, name } of names) {
    const m = /^(.*)-([1-9]\d*)(\.pst)$/i.exec(name);
    if (!m || Number(m[2]) < 2) continue;
    const base = bases.get(`${m[1]}${m[3]}`.toLowerCase());
    if (base && base.field !== field) {
      errors.push({ field, message: `"${name}" is the name of part ${m[2]} of "${base.name}" (${base.field}) once that export passes the split size: choose a name that does not end in -<number>.pst, e.g. "${m[1]}_${m[2]}.pst"` });
    }
  }
  return errors;
}

// ---------------------------------------------------------------------------------------------

function checkAccountName(name: string, field: string, errors: FieldError[]): void {
  const p = accountNameProblem(name);
  if (p) errors.push({ field, message: p });
}

function checkContainerName(name: string, field: string, errors: FieldError[]): void {
  const p = containerNameProblem(name);
  if (p) errors.push({ field, message: p });
}

function firstBad(s: string, ok: RegExp): string {
  for (const ch of s) if (!ok.test(ch)) return ch;
  return '';
}

function validBase64Key(key: string): boolean {
  return key.length > 0 && key.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(key);
}

function isLocalHost(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.startsWith('[');
}

/** The cloud whose suffix ends `host` ("acct.blob.core.windows.net" → global), or undefined. */
function cloudOfHost(host: string): { cloud: Exclude<StorageCloud, 'custom'>; account: string } | undefined {
  for (const [cloud, suffix] of Object.entries(ENDPOINT_SUFFIXES) as [Exclude<StorageCloud, 'custom'>, string][]) {
    const m = new RegExp(`^([^.]+)\\.blob\\.${suffix.replace(/\./g, '\\.')}$`, 'i').exec(host);
    if (m) return { cloud, account: m[1]! };
  }
  return undefined;
}

/** Parses a custom blob endpoint: http(s)://host[:port][/account]. */
function parseBlobEndpoint(value: string, field: string, errors: FieldError[]): { serviceUrl: string; pathAccount?: string; hostAccount?: string } | undefined {
  let url: URL;
  try { url = new URL(value); } catch {
    errors.push({ field, message: 'is not a URL: give http(s)://host[:port][/account], e.g. http://127.0.0.1:10000/devstoreaccount1 (Azurite) or https://acct.privatelink.blob.core.windows.net' });
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') { errors.push({ field, message: `must be http or https, got ${url.protocol}` }); return undefined; }
  if (url.username || url.password) { errors.push({ field, message: 'must not contain a user name or password: give the credential in accountKey, sasUrl or connectionString' }); return undefined; }
  if (url.search || url.hash) { errors.push({ field, message: 'must not contain a query or fragment: give a SAS in sasUrl instead' }); return undefined; }
  const segments = url.pathname.split('/').filter(Boolean);
  if (segments.length > 1) { errors.push({ field, message: 'must end at the account (http(s)://host[:port][/account]); give the container in "container"' }); return undefined; }
  const serviceUrl = `${url.protocol}//${url.host}${segments.length ? `/${segments[0]}` : ''}`;
  const hostAccount = cloudOfHost(url.hostname)?.account ?? (/^([a-z0-9]{3,24})\.(blob|privatelink)\./i.exec(url.hostname)?.[1]);
  return { serviceUrl, pathAccount: segments[0], hostAccount };
}

function fromAccountKey(d: DestinationInput, field: string, errors: FieldError[]): AzureDestinationConfig | undefined {
  if (!validBase64Key(d.accountKey!)) errors.push({ field: `${field}.accountKey`, message: 'is not a base64 account key: copy key1 or key2 from the storage account\'s "Access keys" page' });
  const cloud = d.storageCloud ?? (d.blobEndpoint !== undefined ? 'custom' : 'global');
  let serviceUrl: string | undefined;
  let accountName = d.accountName;
  if (cloud === 'custom') {
    if (d.blobEndpoint === undefined) { errors.push({ field: `${field}.blobEndpoint`, message: 'is required with storageCloud "custom": give http(s)://host[:port][/account]' }); return undefined; }
    const ep = parseBlobEndpoint(d.blobEndpoint, `${field}.blobEndpoint`, errors);
    if (!ep) return undefined;
    const implied = ep.pathAccount ?? ep.hostAccount;
    if (accountName === undefined && implied !== undefined) {
      const p = accountNameProblem(implied);
      if (p) { errors.push({ field: `${field}.blobEndpoint`, message: `account "${implied}" in the endpoint: ${p}` }); return undefined; }
      accountName = implied;
    }
    if (accountName !== undefined && implied !== undefined && implied !== accountName) {
      errors.push({ field: `${field}.accountName`, message: `"${accountName}" differs from the account "${implied}" in blobEndpoint: make them the same` });
    }
    serviceUrl = ep.serviceUrl;
  } else if (d.blobEndpoint !== undefined) {
    errors.push({ field: `${field}.blobEndpoint`, message: `is only used with storageCloud "custom" (storageCloud is "${cloud}"): remove it or set storageCloud to "custom"` });
    return undefined;
  }
  if (accountName === undefined) { errors.push({ field: `${field}.accountName`, message: 'is required with accountKey: the storage account name, 3-24 lowercase letters and digits' }); return undefined; }
  if (errors.length) return undefined;
  return {
    kind: 'azure',
    accountName,
    container: d.container ?? DEFAULT_CONTAINER,
    storageCloud: cloud,
    ...(cloud === 'custom' ? { blobEndpoint: serviceUrl } : {}),
    serviceUrl: serviceUrl ?? `https://${accountName}.blob.${ENDPOINT_SUFFIXES[cloud as Exclude<StorageCloud, 'custom'>]}`,
    credentialSource: 'accountKey',
    sharedKey: d.accountKey!,
  };
}

function fromSasUrl(d: DestinationInput, field: string, errors: FieldError[]): AzureDestinationConfig | undefined {
  const f = `${field}.sasUrl`;
  let url: URL;
  try { url = new URL(d.sasUrl!); } catch {
    errors.push({ field: f, message: 'is not a URL: copy the container\'s "Blob SAS URL" (https://<account>.blob.core.windows.net/<container>?sv=…&sig=…)' });
    return undefined;
  }
  const where = `${url.protocol}//${url.host}${url.pathname}`; // safe to show: no query
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLocalHost(url.hostname))) {
    errors.push({ field: f, message: `must be https (got ${url.protocol}); http is accepted only for a local emulator` });
    return undefined;
  }
  if (!url.searchParams.get('sig')) {
    errors.push({ field: f, message: `has no signature (sig=…): copy the full "Blob SAS URL" including its query, not only ${where}` });
    return undefined;
  }
  if (url.username || url.password) { errors.push({ field: f, message: 'must not contain a user name or password' }); return undefined; }
  const segments = url.pathname.split('/').filter(Boolean).map((s) => decodeURIComponent(s));
  const hosted = cloudOfHost(url.hostname);
  const pathStyle = !hosted && (isLocalHost(url.hostname) || segments.length === 2);
  const expected = pathStyle ? 2 : 1;
  if (segments.length !== expected) {
    errors.push({ field: f, message: segments.length < expected
      ? `names no container (${where}): use a container SAS URL, https://<account>.blob.<suffix>/<container>?…`
      : `points below a container (${where}): use the container's SAS URL, not a blob's` });
    return undefined;
  }
  const container = segments[expected - 1]!;
  const accountName = pathStyle ? segments[0]! : (hosted?.account ?? url.hostname.split('.')[0]!);
  const cp = containerNameProblem(container);
  if (cp) { errors.push({ field: f, message: `container "${container}" in the URL: ${cp}` }); return undefined; }
  const ap = accountNameProblem(accountName);
  if (ap) { errors.push({ field: f, message: `account "${accountName}" in the URL: ${ap}` }); return undefined; }
  if (d.container !== undefined && d.container !== container) {
    errors.push({ field: `${field}.container`, message: `"${d.container}" differs from the container "${container}" the SAS URL is for: remove "container" or use a SAS URL for "${d.container}"` });
  }
  if (d.accountName !== undefined && d.accountName !== accountName) {
    errors.push({ field: `${field}.accountName`, message: `"${d.accountName}" differs from the account "${accountName}" of the SAS URL: remove it or make them the same` });
  }
  if (d.blobEndpoint !== undefined) errors.push({ field: `${field}.blobEndpoint`, message: 'is not used with sasUrl (the URL holds the endpoint): remove it' });
  const sp = url.searchParams.get('sp');
  if (sp !== null) {
    const missing = ['r', 'w', 'l'].filter((p) => !sp.includes(p));
    if (missing.length) errors.push({ field: f, message: `grants sp=${sp} but Outport needs at least read (r), write (w) and list (l), plus create (c) and delete (d) for manifests and probes: generate a SAS with sp=rcwdl` });
  }
  const se = url.searchParams.get('se');
  if (se !== null && Number.isFinite(Date.parse(se)) && Date.parse(se) <= Date.now()) {
    errors.push({ field: f, message: `expired at ${new Date(Date.parse(se)).toISOString()} (se=): generate a new SAS with a later expiry` });
  }
  const cloud: StorageCloud = hosted?.cloud ?? 'custom';
  if (d.storageCloud !== undefined && d.storageCloud !== cloud) {
    errors.push({ field: `${field}.storageCloud`, message: `is "${d.storageCloud}" but the SAS URL's host ${url.host} is ${cloud === 'custom' ? 'a custom endpoint' : `in ${cloud} (${ENDPOINT_SUFFIXES[cloud]})`}: remove storageCloud or make them agree` });
  }
  if (errors.length) return undefined;
  const serviceUrl = `${url.protocol}//${url.host}${pathStyle ? `/${encodeURIComponent(accountName)}` : ''}`;
  return {
    kind: 'azure', accountName, container, storageCloud: cloud,
    ...(cloud === 'custom' ? { blobEndpoint: serviceUrl } : {}),
    serviceUrl, credentialSource: 'sasUrl', sas: url.search.slice(1),
  };
}

/**
 * Parses an Azure Storage connection string ("Configure Azure Storage connection strings",
 * learn.microsoft.com/azure/storage/common/storage-configure-connection-string): `Key=Value;…`, keys
 * case-insensitive, values may contain "=". Supports AccountName, AccountKey, EndpointSuffix,
 * BlobEndpoint, DefaultEndpointsProtocol, SharedAccessSignature and UseDevelopmentStorage=true.
 * @returns the map with lowercase keys, or an error message (never containing the string's values) */
export function parseConnectionString(cs: string): Map<string, string> | string {
  const map = new Map<string, string>();
  for (const part of cs.split(';')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) return `segment ${map.size + 1} is not Key=Value: a connection string looks like DefaultEndpointsProtocol=https;AccountName=…;AccountKey=…;EndpointSuffix=core.windows.net`;
    const key = part.slice(0, eq).trim().toLowerCase();
    if (map.has(key)) return `${part.slice(0, eq).trim()} appears twice`;
    map.set(key, part.slice(eq + 1).trim());
  }
  if (map.size === 0) return 'is empty';
  return map;
}

function fromConnectionString(d: DestinationInput, field: string, errors: FieldError[]): AzureDestinationConfig | undefined {
  const f = `${field}.connectionString`;
  const parsed = parseConnectionString(d.connectionString!);
  if (typeof parsed === 'string') { errors.push({ field: f, message: parsed }); return undefined; }
  if (d.blobEndpoint !== undefined) errors.push({ field: `${field}.blobEndpoint`, message: 'is not used with connectionString: put BlobEndpoint=… in the connection string' });
  let accountName: string | undefined;
  let sharedKey: string | undefined;
  let sas: string | undefined;
  let serviceUrl: string;
  let cloud: StorageCloud;
  if ((parsed.get('usedevelopmentstorage') ?? '').toLowerCase() === 'true') {
    accountName = DEVELOPMENT_STORAGE.accountName;
    sharedKey = DEVELOPMENT_STORAGE.accountKey;
    serviceUrl = DEVELOPMENT_STORAGE.blobEndpoint;
    cloud = 'custom';
  } else {
    accountName = parsed.get('accountname');
    sharedKey = parsed.get('accountkey');
    sas = parsed.get('sharedaccesssignature')?.replace(/^\?/, '');
    if (sharedKey !== undefined && sas !== undefined) { errors.push({ field: f, message: 'has both AccountKey and SharedAccessSignature: keep one' }); return undefined; }
    if (sharedKey === undefined && sas === undefined) { errors.push({ field: f, message: 'has neither AccountKey nor SharedAccessSignature: copy the full connection string from the storage account\'s "Access keys" page' }); return undefined; }
    if (sharedKey !== undefined && !validBase64Key(sharedKey)) { errors.push({ field: f, message: 'AccountKey is not a base64 account key: copy the connection string again' }); return undefined; }
    if (sas !== undefined && !new URLSearchParams(sas).get('sig')) { errors.push({ field: f, message: 'SharedAccessSignature has no sig=…: copy the full connection string again' }); return undefined; }
    const protocol = (parsed.get('defaultendpointsprotocol') ?? 'https').toLowerCase();
    if (protocol !== 'https' && protocol !== 'http') { errors.push({ field: f, message: `DefaultEndpointsProtocol must be https or http, got "${protocol}"` }); return undefined; }
    const blobEndpoint = parsed.get('blobendpoint');
    if (blobEndpoint !== undefined) {
      const ep = parseBlobEndpoint(blobEndpoint, f, errors);
      if (!ep) return undefined;
      const implied = ep.pathAccount ?? ep.hostAccount;
      accountName ??= implied;
      serviceUrl = ep.serviceUrl;
      const host = new URL(ep.serviceUrl).hostname;
      cloud = ep.pathAccount === undefined ? (cloudOfHost(host)?.cloud ?? 'custom') : 'custom';
    } else {
      if (accountName === undefined) { errors.push({ field: f, message: 'has no AccountName (and no BlobEndpoint): copy the full connection string' }); return undefined; }
      const suffix = (parsed.get('endpointsuffix') ?? ENDPOINT_SUFFIXES.global).toLowerCase();
      if (!/^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(suffix)) { errors.push({ field: f, message: `EndpointSuffix "${suffix}" is not a DNS suffix such as core.windows.net` }); return undefined; }
      const known = (Object.entries(ENDPOINT_SUFFIXES) as [Exclude<StorageCloud, 'custom'>, string][]).find(([, s]) => s === suffix);
      cloud = known ? known[0] : 'custom';
      serviceUrl = `${protocol}://${accountName}.blob.${suffix}`;
    }
  }
  if (accountName === undefined) { errors.push({ field: f, message: 'names no account: add AccountName=…' }); return undefined; }
  const ap = accountNameProblem(accountName);
  if (ap) { errors.push({ field: f, message: `AccountName "${accountName}": ${ap}` }); return undefined; }
  if (d.accountName !== undefined && d.accountName !== accountName) {
    errors.push({ field: `${field}.accountName`, message: `"${d.accountName}" differs from the connection string's account "${accountName}": remove it or make them the same` });
  }
  if (d.storageCloud !== undefined && d.storageCloud !== cloud) {
    errors.push({ field: `${field}.storageCloud`, message: `is "${d.storageCloud}" but the connection string's endpoint is ${cloud === 'custom' ? 'a custom endpoint' : `in ${cloud} (${ENDPOINT_SUFFIXES[cloud]})`}: remove storageCloud or make them agree` });
  }
  if (errors.length) return undefined;
  return {
    kind: 'azure', accountName, container: d.container ?? DEFAULT_CONTAINER, storageCloud: cloud,
    ...(cloud === 'custom' ? { blobEndpoint: serviceUrl } : {}),
    serviceUrl, credentialSource: 'connectionString',
    ...(sharedKey !== undefined ? { sharedKey } : {}), ...(sas !== undefined ? { sas } : {}),
  };
}
