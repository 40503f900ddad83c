/**
 * The worker HTTP API (docs/api.md): {@link buildApi} (fastify routes, schemas, OpenAPI, auth,
 * redacted logging) and {@link startWorker} (the job runner wired to Graph and storage).
 */
export { buildApi, destinationInputOf, JSON_BODY_LIMIT_BYTES, CSV_BODY_LIMIT_BYTES, DOWNLOAD_URL_MINUTES, type ApiConfig, type ApiDeps } from './server';
export { startWorker, jobDepsBuilder, type WorkerHandle, type WorkerOptions } from './worker';
export { graphAccessForTenant, type GraphAccess } from './graph-access';
export { createApiLogger, scrubSecrets, REDACTED } from './logging';
export { ApiError, schemaErrorToApi, toApiError, jsonPathOf, type ApiErrorBody } from './errors';
