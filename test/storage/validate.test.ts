/**
 * Destination validation (storage/validate.ts): each bad input names its field and the fix, never
 * echoes a secret, and (through openDestination against Azurite) creates nothing in storage.
 */
import { BlobServiceClient } from '@azure/storage-blob';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  accountNameProblem, containerNameProblem, describeDestination, duplicateNameErrors, endpointFromSuffix, openDestination, pstNameProblem,
  validateDestination, type AzureDestinationConfig,
} from '../../worker-service/src/storage';
import { azuriteAvailable, startAzurite, type AzuriteInstance } from '../harness/azurite';
import { describeWhenAvailable } from '../pst/shared-samples';

const KEY = Buffer.alloc(64, 7).toString('base64');
const SIG = 'c2VjcmV0LXNpZ25hdHVyZS1kby1ub3QtZWNobw%3D%3D';
const FUTURE = new Date(Date.now() + 86400_000).toISOString().slice(0, 19) + 'Z';
const sas = (host: string, path: string, extra = '') => `https://${host}${path}?sv=2024-08-04&sp=racwdl&se=${FUTURE}&sr=c${extra}&sig=${SIG}`;

function ok(input: unknown): AzureDestinationConfig {
  const r = validateDestination(input);
  if (!r.ok) throw new Error(`expected valid, got ${JSON.stringify(r.errors)}`);
  if (r.config.kind !== 'azure') throw new Error('expected azure');
  return r.config;
}

describe('valid destinations', () => {
  test('account key, global by default, container defaults to outport', () => {
    const c = ok({ accountName: 'contoso1', accountKey: KEY });
    expect(c).toMatchObject({ serviceUrl: 'https://contoso1.blob.core.windows.net', container: 'outport', storageCloud: 'global', credentialSource: 'accountKey' });
  });
  test.each([
    ['china', 'https://acct.blob.core.chinacloudapi.cn'],
    ['usgov', 'https://acct.blob.core.usgovcloudapi.net'],
    ['germany', 'https://acct.blob.core.cloudapi.de'],
    ['global', 'https://acct.blob.core.windows.net'],
  ])('endpoint suffix of %s', (cloud, url) => {
    expect(ok({ accountName: 'acct', accountKey: KEY, storageCloud: cloud }).serviceUrl).toBe(url);
  });
  test('custom endpoint: Azurite path style gives the account; private endpoint with accountName', () => {
    expect(ok({ accountKey: KEY, storageCloud: 'custom', blobEndpoint: 'http://127.0.0.1:10000/devstoreaccount1/' }))
      .toMatchObject({ accountName: 'devstoreaccount1', serviceUrl: 'http://127.0.0.1:10000/devstoreaccount1', blobEndpoint: 'http://127.0.0.1:10000/devstoreaccount1' });
    expect(ok({ accountName: 'acct', accountKey: KEY, blobEndpoint: 'https://acct.privatelink.blob.core.windows.net' }))
      .toMatchObject({ storageCloud: 'custom', serviceUrl: 'https://acct.privatelink.blob.core.windows.net' });
  });
  test('SAS URL: account and container from the URL, cloud from the host, sig kept only in config.sas', () => {
    const c = ok({ sasUrl: sas('acct.blob.core.usgovcloudapi.net', '/exports') });
    expect(c).toMatchObject({ accountName: 'acct', container: 'exports', storageCloud: 'usgov', serviceUrl: 'https://acct.blob.core.usgovcloudapi.net', credentialSource: 'sasUrl' });
    expect(c.sas).toContain(`sig=${SIG}`);
    const az = ok({ sasUrl: `http://127.0.0.1:10000/devstoreaccount1/c1x?sp=rwl&sig=${SIG}` });
    expect(az).toMatchObject({ accountName: 'devstoreaccount1', container: 'c1x', storageCloud: 'custom', serviceUrl: 'http://127.0.0.1:10000/devstoreaccount1' });
  });
  test('connection strings: key + suffix, BlobEndpoint, SharedAccessSignature, UseDevelopmentStorage', () => {
    expect(ok({ connectionString: `DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=${KEY};EndpointSuffix=core.chinacloudapi.cn` }))
      .toMatchObject({ serviceUrl: 'https://acct.blob.core.chinacloudapi.cn', storageCloud: 'china', sharedKey: KEY, container: 'outport' });
    expect(ok({ connectionString: `AccountName=devstoreaccount1;AccountKey=${KEY};BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;`, container: 'c-1' }))
      .toMatchObject({ serviceUrl: 'http://127.0.0.1:10000/devstoreaccount1', storageCloud: 'custom', container: 'c-1' });
    expect(ok({ connectionString: `BlobEndpoint=https://acct.blob.core.windows.net/;SharedAccessSignature=sv=2024&ss=b&sig=${SIG}` }))
      .toMatchObject({ accountName: 'acct', storageCloud: 'global', sas: `sv=2024&ss=b&sig=${SIG}` });
    expect(ok({ connectionString: 'UseDevelopmentStorage=true' }))
      .toMatchObject({ accountName: 'devstoreaccount1', serviceUrl: 'http://127.0.0.1:10000/devstoreaccount1' });
  });
  test('describeDestination shows no secret', () => {
    const c = ok({ connectionString: `AccountName=acct;AccountKey=${KEY}`, container: 'box' });
    const view = describeDestination(c);
    expect(view).toEqual({ accountName: 'acct', container: 'box', storageCloud: 'global', credential: 'connectionString' });
    const s = ok({ sasUrl: sas('acct.blob.core.windows.net', '/exports') });
    expect(JSON.stringify(describeDestination(s))).not.toContain(SIG);
  });
  test('endpointFromSuffix (CLI --endpoint-suffix)', () => {
    expect(endpointFromSuffix('acct', 'core.usgovcloudapi.net')).toEqual({ storageCloud: 'usgov' });
    expect(endpointFromSuffix('acct', '.core.windows.net')).toEqual({ storageCloud: 'global' });
    const other = endpointFromSuffix('acct', 'blob.example.org');
    expect(other).toEqual({ storageCloud: 'custom', blobEndpoint: 'https://acct.blob.blob.example.org' });
    expect(ok({ accountName: 'acct', accountKey: KEY, ...other }).serviceUrl).toBe('https://acct.blob.blob.example.org');
  });
  test('directory', () => {
    expect(validateDestination({ directory: '/tmp/x' })).toEqual({ ok: true, config: { kind: 'directory', path: '/tmp/x' } });
  });
});

/** [what, input, field, message pattern]. */
const BAD: [string, unknown, string, RegExp][] = [
  ['not an object', 'acct', 'destination', /must be an object/],
  ['no credential', { accountName: 'acct' }, 'destination', /exactly one credential/],
  ['two credentials', { accountName: 'acct', accountKey: KEY, connectionString: `AccountName=a;AccountKey=${KEY}` }, 'destination.connectionString', /exactly one credential/],
  ['capitals in the account name', { accountName: 'Contoso', accountKey: KEY }, 'destination.accountName', /capital letters are not allowed.*"contoso"/],
  ['account name too short', { accountName: 'ab', accountKey: KEY }, 'destination.accountName', /3-24/],
  ['account name too long', { accountName: 'a'.repeat(25), accountKey: KEY }, 'destination.accountName', /3-24/],
  ['account name with a hyphen', { accountName: 'my-acct', accountKey: KEY }, 'destination.accountName', /lowercase letters and digits.*"-"/],
  ['account key missing its name', { accountKey: KEY }, 'destination.accountName', /required with accountKey/],
  ['account key not base64', { accountName: 'acct', accountKey: 'not a key!' }, 'destination.accountKey', /base64/],
  ['number for a string', { accountName: 12345, accountKey: KEY }, 'destination.accountName', /must be a string/],
  ['unknown field', { accountName: 'acct', accountKey: KEY, acountKey: 'x' }, 'destination.acountKey', /unknown field/],
  ['container with capitals', { accountName: 'acct', accountKey: KEY, container: 'Exports' }, 'destination.container', /capital letters.*"exports"/],
  ['container too short', { accountName: 'acct', accountKey: KEY, container: 'ab' }, 'destination.container', /3-63/],
  ['container double hyphen', { accountName: 'acct', accountKey: KEY, container: 'a--b' }, 'destination.container', /consecutive hyphens/],
  ['container ends in a hyphen', { accountName: 'acct', accountKey: KEY, container: 'abc-' }, 'destination.container', /start and end with a letter or digit/],
  ['container with underscore', { accountName: 'acct', accountKey: KEY, container: 'a_b_c' }, 'destination.container', /"_"/],
  ['unknown cloud', { accountName: 'acct', accountKey: KEY, storageCloud: 'mars' }, 'destination.storageCloud', /global.*china.*usgov.*germany.*custom/],
  ['custom without endpoint', { accountName: 'acct', accountKey: KEY, storageCloud: 'custom' }, 'destination.blobEndpoint', /required with storageCloud "custom"/],
  ['endpoint with a non-custom cloud', { accountName: 'acct', accountKey: KEY, storageCloud: 'china', blobEndpoint: 'https://x.example' }, 'destination.blobEndpoint', /only used with storageCloud "custom"/],
  ['endpoint not a URL', { accountName: 'acct', accountKey: KEY, blobEndpoint: 'localhost:10000' }, 'destination.blobEndpoint', /http/],
  ['endpoint with a query', { accountName: 'acct', accountKey: KEY, blobEndpoint: `https://x.example/acct?sig=${SIG}` }, 'destination.blobEndpoint', /query/],
  ['endpoint account differs', { accountName: 'other', accountKey: KEY, blobEndpoint: 'http://127.0.0.1:10000/devstoreaccount1' }, 'destination.accountName', /differs/],
  ['SAS URL without sig', { sasUrl: 'https://acct.blob.core.windows.net/exports?sv=2024-08-04&sp=rwl' }, 'destination.sasUrl', /no signature/],
  ['SAS URL over http', { sasUrl: `http://acct.blob.core.windows.net/exports?sp=rwl&sig=${SIG}` }, 'destination.sasUrl', /https/],
  ['SAS URL of a blob', { sasUrl: sas('acct.blob.core.windows.net', '/exports/user1.pst') }, 'destination.sasUrl', /below a container/],
  ['SAS URL of an account', { sasUrl: sas('acct.blob.core.windows.net', '/') }, 'destination.sasUrl', /names no container/],
  ['SAS URL with capital account (path style)', { sasUrl: `http://127.0.0.1:10000/DevStore1/exports?sp=rwl&sig=${SIG}` }, 'destination.sasUrl', /account "DevStore1" in the URL: capital letters are not allowed/],
  ['SAS URL read-only', { sasUrl: `https://acct.blob.core.windows.net/exports?sp=r&se=${FUTURE}&sig=${SIG}` }, 'destination.sasUrl', /write \(w\)/],
  ['SAS URL expired', { sasUrl: `https://acct.blob.core.windows.net/exports?sp=rwl&se=2020-01-01T00:00:00Z&sig=${SIG}` }, 'destination.sasUrl', /expired at 2020-01-01/],
  ['SAS URL container differs', { sasUrl: sas('acct.blob.core.windows.net', '/exports'), container: 'other' }, 'destination.container', /differs/],
  ['SAS URL not a URL', { sasUrl: 'exports?sig=abc' }, 'destination.sasUrl', /not a URL/],
  ['connection string garbage', { connectionString: 'hello world' }, 'destination.connectionString', /Key=Value/],
  ['connection string without key', { connectionString: 'AccountName=acct;EndpointSuffix=core.windows.net' }, 'destination.connectionString', /neither AccountKey nor SharedAccessSignature/],
  ['connection string capital account', { connectionString: `AccountName=MyAcct;AccountKey=${KEY}` }, 'destination.connectionString', /capital letters are not allowed/],
  ['connection string bad protocol', { connectionString: `DefaultEndpointsProtocol=ftp;AccountName=acct;AccountKey=${KEY}` }, 'destination.connectionString', /https or http/],
  ['connection string cloud disagrees', { connectionString: `AccountName=acct;AccountKey=${KEY}`, storageCloud: 'china' }, 'destination.storageCloud', /agree/],
  ['directory with a key', { directory: '/tmp/x', accountKey: KEY }, 'destination.accountKey', /either a directory or an Azure container/],
  ['empty directory', { directory: ' ' }, 'destination.directory', /must not be empty/],
];

describe('invalid destinations name the field and the fix', () => {
  test.each(BAD)('%s', (_what, input, field, message) => {
    const r = validateDestination(input);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors[0]).toEqual({ field, message: expect.stringMatching(message) });
    const text = JSON.stringify(r.errors);
    expect(text).not.toContain(KEY);
    expect(text).not.toContain(SIG);
    expect(text).not.toMatch(/sig=(?!…)/);
  });
  test('field prefix follows the request path', () => {
    const r = validateDestination({ accountName: 'BAD', accountKey: KEY }, 'project.destination');
    expect(!r.ok && r.errors[0]!.field).toBe('project.destination.accountName');
  });
});

describe('names', () => {
  test.each([
    ['user1.pst', undefined],
    ['Jane Doe (archive).PST', undefined],
    ['user1', /must end in .pst, e.g. "user1.pst"/],
    ['user1.txt', /must end in .pst, e.g. "user1.pst"/],
    ['../x.pst', /without directories|\.\./],
    ['..x.pst', /\.\./],
    ['a/b.pst', /without directories/],
    ['a\\b.pst', /without directories/],
    ['CON.pst', /reserved device name/],
    ['lpt9.pst', /reserved device name/],
    ['nul.backup.pst', /reserved device name/],
    ['com0.pst', undefined],
    ['a|b.pst', /"\|"/],
    ['a?.pst', /"\?"/],
    ['tab\there.pst', /control characters/],
    ['name .pst', /space or a dot/],
    ['name..pst', /\.\./],
    ['.pst', /needs a name before/],
    ['x'.repeat(197) + '.pst', /at most 200/],
    ['x'.repeat(196) + '.pst', undefined],
    ['', /must not be empty/],
  ])('PST name %j', (name, problem) => {
    const p = pstNameProblem(name);
    if (problem === undefined) expect(p).toBeUndefined();
    else expect(p).toMatch(problem);
  });
  test('account and container checkers', () => {
    expect(accountNameProblem('contoso123')).toBeUndefined();
    expect(accountNameProblem('CONTOSO')).toMatch(/capital letters are not allowed/);
    expect(containerNameProblem('outport')).toBeUndefined();
    expect(containerNameProblem('a-b-c')).toBeUndefined();
    expect(containerNameProblem('-abc')).toMatch(/start and end/);
  });
  test('duplicates ignore case and include later part names', () => {
    const errors = duplicateNameErrors([
      { field: 'items[0].pstName', name: 'user1.pst' },
      { field: 'items[1].pstName', name: 'User1.PST' },
      { field: 'items[2].pstName', name: 'user1-2.pst' },
      { field: 'items[3].pstName', name: 'user2.pst' },
      { field: 'items[4].pstName', name: 'user2-1.pst' },
      { field: 'items[5].pstName', name: 'user3-archive.pst' },
    ]);
    expect(errors.map((e) => e.field)).toEqual(['items[1].pstName', 'items[2].pstName']);
    expect(errors[0]!.message).toMatch(/already used by items\[0\]\.pstName/);
    expect(errors[1]!.message).toMatch(/part 2 of "user1.pst"/);
  });
});

describeWhenAvailable('invalid input creates nothing in storage', azuriteAvailable() ? [] : ['node_modules/.bin/azurite-blob'], () => {
  let az: AzuriteInstance;
  let service: BlobServiceClient;
  const containers = async () => { const n: string[] = []; for await (const c of service.listContainers()) n.push(c.name); return n.sort(); };
  beforeAll(async () => {
    az = await startAzurite();
    service = BlobServiceClient.fromConnectionString(az.connectionString);
    await service.getContainerClient('existing').create();
  });
  afterAll(() => az?.stop());

  test('each bad input → errors, container list unchanged; a good one creates the container', async () => {
    const before = await containers();
    const endpoint = { storageCloud: 'custom', blobEndpoint: az.blobEndpoint };
    const bad: unknown[] = [
      { ...endpoint, accountName: 'DevStoreAccount1', accountKey: az.accountKey, container: 'new-one' },
      { ...endpoint, accountKey: az.accountKey, container: 'New-One' },
      { ...endpoint, accountKey: az.accountKey, container: 'a--b' },
      { ...endpoint, accountKey: 'short', container: 'new-one' },
      { ...endpoint, accountKey: az.accountKey, connectionString: az.connectionString, container: 'new-one' },
      { connectionString: az.connectionString.replace('AccountName=devstoreaccount1', 'AccountName=DEVSTORE'), container: 'new-one' },
      { sasUrl: `${az.blobEndpoint}/new-one?sp=rwl`, container: 'new-one' },
    ];
    for (const input of bad) {
      const r = await openDestination(input, { azure: { retry: { maxTries: 1 } } });
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.errors[0]!.field).toMatch(/^destination(\.|$)/);
    }
    expect(await containers()).toEqual(before);
    const good = await openDestination({ ...endpoint, accountKey: az.accountKey, container: 'new-one' });
    expect(good.ok).toBe(true);
    expect(await containers()).toEqual([...before, 'new-one'].sort());
  });

  test('a bad directory destination creates no directory', async () => {
    const root = mkdtempSync(join(tmpdir(), 'outport-validate-'));
    try {
      const r = await openDestination({ directory: join(root, 'sub'), container: 'x' });
      expect(r.ok).toBe(false);
      expect(readdirSync(root)).toEqual([]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
