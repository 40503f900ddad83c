/**
 * Storage destinations (docs/storage.md): validate what the caller gave (validate.ts), then make the
 * destination with {@link createDestination}. The export pipeline uses the {@link Destination}
 * interface only.
 */
import { AzureBlobDestination, type AzureBlobOptions } from './azure';
import type { Destination } from './destination';
import { DirectoryDestination } from './directory';
import { validateDestination, type DestinationConfig, type FieldError } from './validate';

export { AzureBlobDestination, DEFAULT_BLOCK_SIZE_BYTES, DEFAULT_MAX_BLOCKS_IN_FLIGHT } from './azure';
export type { AzureBlobOptions } from './azure';
export { DirectoryDestination } from './directory';
export { StorageError } from './destination';
export type { Destination, PartSink, StoredObject, StoredPart, StorageErrorCode } from './destination';
export { CREATED_BY_KEY, CREATED_BY_VALUE, HEADER_REGION_BYTES, PST_CONTENT_TYPE } from './constants';
export {
  DEFAULT_CONTAINER, ENDPOINT_SUFFIXES, accountNameProblem, containerNameProblem, describeDestination,
  duplicateNameErrors, endpointFromSuffix, parseConnectionString, pstNameProblem, validateDestination,
} from './validate';
export type {
  AzureDestinationConfig, DestinationConfig, DestinationInput, DestinationView, DirectoryDestinationConfig,
  FieldError, NamedField, StorageCloud, ValidationResult,
} from './validate';

/** Options of {@link createDestination}. */
export interface CreateDestinationOptions {
  /** Azure only: block size, blocks in flight, retry policy. */
  azure?: AzureBlobOptions;
}

/**
 * Makes the destination a validated config describes (no network or disk access yet: call
 * `ensure()` before the first part).
 * @param config  from validateDestination(input).config
 * @throws RangeError for out-of-range Azure options */
export function createDestination(config: DestinationConfig, options: CreateDestinationOptions = {}): Destination {
  switch (config.kind) {
    case 'azure': return new AzureBlobDestination(config, options.azure);
    case 'directory': return new DirectoryDestination(config.path);
  }
}

/**
 * Validates `input` and, only when it is valid, creates the destination and runs `ensure()` (creating
 * the container or directory when missing). Invalid input touches no storage.
 * @param input  DestinationInput (docs/api.md) or {directory}
 * @param field  JSON path of the destination in the request, for the errors (default "destination")
 * @returns `{ok: true, destination, config}` or `{ok: false, errors}`
 * @throws StorageError from ensure() (AuthenticationFailed, Unreachable, …) */
export async function openDestination(
  input: unknown,
  options: CreateDestinationOptions & { field?: string; signal?: AbortSignal } = {},
): Promise<{ ok: true; destination: Destination; config: DestinationConfig } | { ok: false; errors: FieldError[] }> {
  const checked = validateDestination(input, options.field);
  if (!checked.ok) return checked;
  const destination = createDestination(checked.config, options);
  await destination.ensure(options.signal);
  return { ok: true, destination, config: checked.config };
}
