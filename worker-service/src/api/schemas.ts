/**
 * JSON Schemas of the worker API (docs/api.md "Shapes"): request bodies, params, queries and
 * responses. Fastify validates requests with them (Ajv, no type coercion: a string where a number
 * belongs is a 400 naming the field) and serializes responses with them; @fastify/swagger turns them
 * into the OpenAPI document at `GET /api/v1/openapi.json`. Semantic checks (account-name rules,
 * container names, PST names) are storage/validate.ts's and jobs/items.ts's, so every rule lives once.
 */
import { ITEM_STATES, PROJECT_OPTION_LIMITS } from '../jobs/contract';

const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;
const num = { type: 'number' } as const;
const bool = { type: 'boolean' } as const;
const dateTime = { type: 'string', description: 'ISO 8601 UTC' } as const;
const CLOUDS = ['global', 'china', 'usgov', 'germany', 'custom'];
const ITEM_TYPES = ['mail', 'contacts', 'calendar', 'tasks', 'notes', 'journal'];
const PASSES = ['full', 'prestage', 'incremental', 'retry-errors'];

/** Path params. */
export const projectParams = { type: 'object', required: ['projectId'], properties: { projectId: { type: 'string', minLength: 1, maxLength: 100 } }, additionalProperties: false } as const;
export const itemParams = { type: 'object', required: ['projectId', 'itemId'], properties: { projectId: { type: 'string', minLength: 1, maxLength: 100 }, itemId: { type: 'string', minLength: 1, maxLength: 100 } }, additionalProperties: false } as const;

/** DestinationInput: types only here; the rules are storage/validate.ts's. */
export const destinationInput = {
  type: 'object',
  description: 'Exactly one credential: accountName + accountKey, sasUrl, or connectionString. Secrets are write-only.',
  properties: {
    accountName: { type: 'string', description: '3-24 lowercase letters and digits' },
    accountKey: { type: 'string', description: 'base64; write-only' },
    sasUrl: { type: 'string', description: 'container SAS URL; write-only' },
    connectionString: { type: 'string', description: 'write-only' },
    storageCloud: { type: 'string', enum: CLOUDS },
    blobEndpoint: { type: 'string', description: 'with storageCloud custom: http(s)://host[:port]/[account]' },
    container: { type: 'string', description: 'default "outport"; 3-63 lowercase letters, digits, single hyphens' },
  },
  additionalProperties: false,
} as const;

export const destination = {
  type: 'object',
  required: ['accountName', 'container', 'storageCloud', 'credential'],
  properties: {
    accountName: str, container: str, storageCloud: { type: 'string', enum: CLOUDS }, blobEndpoint: str,
    credential: { type: 'string', enum: ['accountKey', 'sasUrl', 'connectionString'] },
  },
} as const;

const dateRange = {
  type: 'object',
  properties: { notBefore: { type: 'string', format: 'date-time' }, before: { type: 'string', format: 'date-time' } },
  additionalProperties: false,
} as const;

export const projectOptionsInput = {
  type: 'object',
  properties: {
    itemTypes: { type: 'array', items: { type: 'string', enum: ITEM_TYPES }, minItems: 1, uniqueItems: true },
    includeFolders: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 1024 }, maxItems: 1000 },
    excludeFolders: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 1024 }, maxItems: 1000 },
    dateRange,
    splitSizeBytes: { type: 'integer', minimum: PROJECT_OPTION_LIMITS.splitSizeBytes.min, maximum: PROJECT_OPTION_LIMITS.splitSizeBytes.max },
    maxConcurrentExports: { type: 'integer', minimum: PROJECT_OPTION_LIMITS.maxConcurrentExports.min, maximum: PROJECT_OPTION_LIMITS.maxConcurrentExports.max },
    logSubjects: bool,
  },
  additionalProperties: false,
} as const;

const projectOptions = {
  type: 'object',
  properties: {
    itemTypes: { type: 'array', items: str }, includeFolders: { type: 'array', items: str }, excludeFolders: { type: 'array', items: str },
    dateRange: { type: 'object', properties: { notBefore: str, before: str } },
    splitSizeBytes: int, maxConcurrentExports: int, logSubjects: bool,
  },
} as const;

const counts = { type: 'object', properties: Object.fromEntries(ITEM_STATES.map((s) => [s, int])) } as const;

export const projectInput = {
  type: 'object',
  required: ['name', 'destination'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200 },
    authMode: { type: 'string', enum: ['delegated', 'application'] },
    destination: destinationInput,
    options: projectOptionsInput,
  },
  additionalProperties: false,
} as const;

export const projectPatch = {
  type: 'object',
  properties: projectInput.properties,
  additionalProperties: false,
  minProperties: 1,
} as const;

export const project = {
  type: 'object',
  properties: {
    id: str, name: str, tenantId: str, createdBy: str, createdAt: dateTime,
    authMode: { type: 'string', enum: ['delegated', 'application'] }, destination, options: projectOptions, counts,
  },
} as const;

export const itemProgress = {
  type: 'object',
  properties: {
    itemId: str, state: { type: 'string', enum: ITEM_STATES }, folder: str, itemsDone: int, itemsTotal: int, bytesDone: int, bytesTotal: int,
    itemsPerSecond: num, bytesPerSecond: num, etaSeconds: num, partsDone: int, updatedAt: dateTime,
  },
} as const;

export const itemStatistics = {
  type: 'object',
  properties: {
    itemId: str, source: str, mailbox: { type: 'string', enum: ['primary', 'archive'] }, state: { type: 'string', enum: ITEM_STATES },
    itemsExported: int, bytesExported: int, errors: int, parts: int, passes: int,
    fidelity: { type: 'object', properties: { full: int, rest: int } },
    startedAt: dateTime, finishedAt: dateTime, durationSeconds: num,
  },
} as const;

const codeMessage = { type: 'object', properties: { code: str, message: str } } as const;

export const item = {
  type: 'object',
  properties: {
    id: str, projectId: str, source: str, mailbox: { type: 'string', enum: ['primary', 'archive'] }, pstName: str,
    state: { type: 'string', enum: ITEM_STATES }, lastPass: { type: 'string', enum: PASSES },
    verification: { type: 'object', properties: { ok: bool, checks: { type: 'array', items: { type: 'object', properties: { name: str, ok: bool, message: str } } } } },
    progress: itemProgress, statistics: itemStatistics, error: codeMessage,
  },
} as const;

export const itemInput = {
  type: 'object',
  required: ['source'],
  properties: {
    source: { type: 'string', minLength: 1, maxLength: 256, description: 'SMTP address, UPN or mailbox id (case-insensitive)' },
    mailbox: { type: 'string', enum: ['primary', 'archive', 'both'] },
    pstName: { type: 'string', minLength: 1, maxLength: 260, description: 'default <local part>.pst, archive <local part>-archive.pst' },
  },
  additionalProperties: false,
} as const;

export const itemsInput = {
  type: 'object',
  required: ['items'],
  properties: { items: { type: 'array', items: itemInput, minItems: 1, maxItems: 10_000 } },
  additionalProperties: false,
} as const;

const itemIds = { type: 'array', items: { type: 'string', minLength: 1, maxLength: 100 }, minItems: 1, maxItems: 10_000 } as const;

export const itemIdsInput = { type: 'object', properties: { itemIds }, additionalProperties: false } as const;

export const exportInput = {
  type: 'object',
  required: ['pass'],
  properties: {
    itemIds,
    pass: { type: 'string', enum: ['full', 'prestage', 'incremental'] },
    olderThanDays: { type: 'integer', minimum: 1, maximum: 36_500 },
  },
  additionalProperties: false,
} as const;

export const deleteContainerInput = {
  type: 'object',
  required: ['confirm'],
  properties: { confirm: { type: 'string', minLength: 1, description: 'the container name, typed again' } },
  additionalProperties: false,
} as const;

export const emptyInput = { type: 'object', additionalProperties: false } as const;

export const errorBody = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: {
        code: str, message: str, field: str, reason: str,
        rows: { type: 'array', items: { type: 'object', properties: { row: int, field: str, message: str } } },
      },
    },
  },
} as const;

export const part = { type: 'object', properties: { name: str, sizeBytes: int, sha256: str, items: int, url: str } } as const;

export const itemError = { type: 'object', properties: { code: str, sourceId: str, folderPath: str, message: str, subject: str, at: dateTime } } as const;

export const graphUser = { type: 'object', properties: { id: str, displayName: str, mail: str, userPrincipalName: str } } as const;

export const mailboxInfo = { type: 'object', properties: { mailboxId: str, itemCount: int, sizeBytes: int } } as const;

export const meResponse = {
  type: 'object',
  properties: {
    user: graphUser, isAdmin: bool,
    mailboxes: { type: 'object', properties: { primary: mailboxInfo, archive: { anyOf: [mailboxInfo, { type: 'null' }] } } },
  },
} as const;

export const usersQuery = {
  type: 'object',
  properties: {
    search: { type: 'string', maxLength: 100 },
    top: { type: 'string', pattern: '^(?:[1-9]|[1-4][0-9]|50)$', description: '1..50 (default 25)' },
  },
  additionalProperties: false,
} as const;

export const statisticsQuery = {
  type: 'object',
  properties: { format: { type: 'string', enum: ['json', 'csv'] } },
  additionalProperties: false,
} as const;

export const statisticsResponse = {
  type: 'object',
  properties: {
    value: { type: 'array', items: itemStatistics },
    totals: {
      type: 'object',
      properties: { items: int, itemsExported: int, bytesExported: int, errors: int, parts: int, byState: counts },
    },
  },
} as const;

export const configResponse = {
  type: 'object',
  properties: {
    tenantId: str, authorityUrl: str, clientId: str, apiScope: str, cloud: str, sandbox: bool,
    sandboxSignIn: { type: 'object', description: 'Sandbox only: the token endpoint for the test users\' password sign-in from a browser', properties: { tokenUrl: str } },
  },
} as const;

/** `{value: T[]}`. */
export const listOf = (schema: object): object => ({ type: 'object', properties: { value: { type: 'array', items: schema } } });

/** Error answers every authenticated route may give. */
export const errorResponses = { 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody, 409: errorBody, 413: errorBody, 415: errorBody, 500: errorBody, 502: errorBody, 503: errorBody } as const;
