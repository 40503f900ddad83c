/**
 * The Destination form's model and its validation. Validation is the worker's own
 * (worker-service/src/storage/validate.ts: pure, no Node APIs, so it runs in the pane too): the pane
 * shows exactly the messages the API would answer, under the same field paths
 * (`destination.accountName`), before anything is sent.
 */
import {
  DEFAULT_CONTAINER, ENDPOINT_SUFFIXES, validateDestination as validateInput, type DestinationInput, type FieldError, type StorageCloud,
} from '../../../worker-service/src/storage/validate';

export { DEFAULT_CONTAINER, ENDPOINT_SUFFIXES };

/** The storage endpoint suffix choice (docs/api.md `Cloud`). */
export type Cloud = StorageCloud;

/** What the user typed in the Destination form; only the chosen credential's fields are sent. */
export interface DestinationDraft {
  credential: 'accountKey' | 'sasUrl';
  accountName: string;
  accountKey: string;
  sasUrl: string;
  container: string;
  /** Only with an account key: a SAS URL carries its own endpoint. */
  storageCloud: Cloud;
  /** Only with storageCloud "custom": http(s)://host[:port]/[account] (Azurite's style). */
  blobEndpoint: string;
}

/** One problem with a field, named by its JSON path in the API request. */
export type FieldProblem = FieldError;

/**
 * The JSON the API takes (docs/api.md DestinationInput) for a draft. With a SAS URL the container is
 * sent only when typed (it must then match the URL's), and no cloud (the URL's host decides).
 */
export function toDestinationInput(d: DestinationDraft): DestinationInput {
  if (d.credential === 'sasUrl') return { sasUrl: d.sasUrl, ...(d.container ? { container: d.container } : {}) };
  return {
    accountName: d.accountName,
    accountKey: d.accountKey,
    container: d.container || DEFAULT_CONTAINER,
    storageCloud: d.storageCloud,
    ...(d.storageCloud === 'custom' ? { blobEndpoint: d.blobEndpoint } : {}),
  };
}

/** First letter upper case: the API's messages are phrased to follow a field name. */
const sentence = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** Every problem the API would report for this draft, with messages phrased for display under the field. */
export function validateDestination(d: DestinationDraft): FieldProblem[] {
  const r = validateInput(toDestinationInput(d));
  return r.ok ? [] : r.errors.map((e) => ({ field: e.field, message: sentence(e.message) }));
}

/** The blob service URL the draft points at, for display (no secrets); undefined while unknown. */
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
  return `https://${d.accountName}.blob.${ENDPOINT_SUFFIXES[d.storageCloud]}/${d.container || DEFAULT_CONTAINER}`;
}
