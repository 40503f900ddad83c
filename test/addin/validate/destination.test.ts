/**
 * The Destination form's model: the draft → DestinationInput mapping and that its messages are
 * the worker API's own (worker-service/src/storage/validate.ts), under the same field paths.
 */
import { validateDestination as apiValidate } from '../../../worker-service/src/storage/validate';
import { blobServiceUrl, toDestinationInput, validateDestination, type DestinationDraft } from '../../../addin/src/validate/destination';

const KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
const base: DestinationDraft = { credential: 'accountKey', accountName: 'contosoexports', accountKey: KEY, sasUrl: '', container: 'outport', storageCloud: 'global', blobEndpoint: '' };

describe('destination draft', () => {
  it('accepts a valid account-key destination and maps it to DestinationInput', () => {
    expect(validateDestination(base)).toEqual([]);
    expect(toDestinationInput(base)).toEqual({ accountName: 'contosoexports', accountKey: KEY, container: 'outport', storageCloud: 'global' });
    expect(blobServiceUrl(base)).toBe('https://contosoexports.blob.core.windows.net/outport');
  });

  it('defaults the container to "outport" and sends the custom endpoint only with storageCloud custom', () => {
    expect(toDestinationInput({ ...base, container: '' }).container).toBe('outport');
    expect(toDestinationInput({ ...base, blobEndpoint: 'http://x' })).not.toHaveProperty('blobEndpoint');
    expect(toDestinationInput({ ...base, storageCloud: 'custom', blobEndpoint: 'http://127.0.0.1:10000/contosoexports' })).toMatchObject({ storageCloud: 'custom', blobEndpoint: 'http://127.0.0.1:10000/contosoexports' });
  });

  it('a capital letter in the account name gives the API\'s message on destination.accountName', () => {
    const problems = validateDestination({ ...base, accountName: 'ContosoExports' });
    expect(problems).toHaveLength(1);
    expect(problems[0].field).toBe('destination.accountName');
    expect(problems[0].message).toMatch(/^Capital letters are not allowed in a storage account name: use "contosoexports"/);
  });

  it.each([
    ['short account', { accountName: 'ab' }, 'destination.accountName'],
    ['account with a hyphen', { accountName: 'contoso-x' }, 'destination.accountName'],
    ['container with double hyphen', { container: 'pst--out' }, 'destination.container'],
    ['container with capitals', { container: 'Outport' }, 'destination.container'],
    ['key not base64', { accountKey: 'not a key!' }, 'destination.accountKey'],
    ['custom cloud without endpoint', { storageCloud: 'custom' as const }, 'destination.blobEndpoint'],
    ['SAS URL without signature', { credential: 'sasUrl' as const, sasUrl: 'https://acct.blob.core.windows.net/outport?sv=2024-01-01' }, 'destination.sasUrl'],
    ['SAS URL of a blob', { credential: 'sasUrl' as const, sasUrl: 'https://acct.blob.core.windows.net/outport/a.pst?sv=1&sig=x' }, 'destination.sasUrl'],
  ])('%s → a problem on %s, the same as the API gives', (_name, change, field) => {
    const draft = { ...base, ...change };
    const mine = validateDestination(draft);
    expect(mine.map((p) => p.field)).toContain(field);
    const api = apiValidate(toDestinationInput(draft));
    expect(api.ok).toBe(false);
    if (!api.ok) expect(mine.map((p) => [p.field, p.message.toLowerCase()])).toEqual(api.errors.map((e) => [e.field, e.message.toLowerCase()]));
  });

  it('a SAS URL destination sends no cloud (its host decides) and the container only when typed', () => {
    const sas = { ...base, credential: 'sasUrl' as const, sasUrl: 'https://acct.blob.core.windows.net/outport?sv=2024-01-01&sp=rcwdl&sig=abc', container: '' };
    expect(toDestinationInput(sas)).toEqual({ sasUrl: sas.sasUrl });
    expect(validateDestination(sas)).toEqual([]);
    expect(blobServiceUrl(sas)).toBe('https://acct.blob.core.windows.net/outport');
    expect(validateDestination({ ...sas, container: 'other' }).map((p) => p.field)).toEqual(['destination.container']);
  });
});
