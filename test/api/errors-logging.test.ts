/**
 * The pure parts of the API: JSON-schema failures → `{error: {code: "InvalidRequest", field}}` with
 * the docs/api.md field paths, the other layers' errors → their statuses and codes, and the log
 * scrubber's secret shapes (each masked, the text around kept).
 */
import { AuthError } from '../../worker-service/src/api/auth';
import { ApiError, jsonPathOf, schemaErrorToApi, toApiError } from '../../worker-service/src/api/errors';
import { REDACTED, scrubSecrets } from '../../worker-service/src/api/logging';
import { JobsError } from '../../worker-service/src/jobs/contract';
import { StorageError } from '../../worker-service/src/storage/destination';

test('jsonPathOf: JSON pointers become dotted paths with [index]', () => {
  expect(jsonPathOf('')).toBe('');
  expect(jsonPathOf('/destination/accountName')).toBe('destination.accountName');
  expect(jsonPathOf('/items/3/pstName')).toBe('items[3].pstName');
  expect(jsonPathOf('/options/dateRange/before')).toBe('options.dateRange.before');
  expect(jsonPathOf('/a~1b/c~0d')).toBe('a/b.c~d');
});

test.each([
  [{ keyword: 'required', instancePath: '', params: { missingProperty: 'name' } }, 'name', /name is required/],
  [{ keyword: 'required', instancePath: '/items/2', params: { missingProperty: 'source' } }, 'items[2].source', /is required/],
  [{ keyword: 'additionalProperties', instancePath: '/destination', params: { additionalProperty: 'acountKey' } }, 'destination.acountKey', /not a known field/],
  [{ keyword: 'type', instancePath: '/options/splitSizeBytes', params: { type: 'integer' } }, 'options.splitSizeBytes', /must be integer/],
  [{ keyword: 'enum', instancePath: '/authMode', params: { allowedValues: ['delegated', 'application'] } }, 'authMode', /"delegated", "application"/],
  [{ keyword: 'minimum', instancePath: '/options/maxConcurrentExports', params: { comparison: '>=', limit: 1 } }, 'options.maxConcurrentExports', />= 1/],
  [{ keyword: 'minLength', instancePath: '/name', params: { limit: 1 } }, 'name', /must not be empty/],
  [{ keyword: 'type', instancePath: '', params: { type: 'object' } }, 'body', /body must be object/],
])('schema issue %j → field %s', (issue, field, message) => {
  const e = schemaErrorToApi([issue], 'body');
  expect(e.toBody().error).toEqual({ code: 'InvalidRequest', field, message: expect.stringMatching(message) });
  expect(e.status).toBe(400);
});

test('query and params failures name their own part when the path is empty', () => {
  expect(schemaErrorToApi([{ keyword: 'pattern', instancePath: '/top', params: {}, message: 'must match pattern' }], 'querystring').details.field).toBe('top');
  expect(schemaErrorToApi([], 'params').details.field).toBe('params');
});

test('other layers\' errors map to the docs/api.md statuses and codes', () => {
  const cases: [unknown, number, string][] = [
    [new JobsError('InvalidInput', 'bad', { field: 'options.splitSizeBytes' }), 400, 'InvalidRequest'],
    [new JobsError('NotFound', 'no such project'), 404, 'NotFound'],
    [new JobsError('Conflict', 'running'), 409, 'Conflict'],
    [new JobsError('RetryNotAllowed', 'no errors'), 409, 'RetryNotAllowed'],
    [new JobsError('BackendFailed', 'disk'), 500, 'JobsBackendFailed'],
    [new StorageError('ContainerNotOurs', 'not ours'), 409, 'ContainerNotOurs'],
    [new StorageError('ContainerNotFound', 'gone'), 404, 'NotFound'],
    [new StorageError('AuthenticationFailed', 'key refused'), 502, 'StorageAuthenticationFailed'],
    [new AuthError('TokenExpired', 'expired'), 401, 'InvalidToken'],
    [new AuthError('NotYourMailbox', 'not yours'), 403, 'NotYourMailbox'],
    [new AuthError('AuthMetadataUnavailable', 'down'), 503, 'AuthUnavailable'],
    [Object.assign(new Error('x'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 }), 413, 'PayloadTooLarge'],
    [Object.assign(new Error('x'), { code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', statusCode: 415 }), 415, 'UnsupportedMediaType'],
    [new Error('something with AccountKey=abc in it'), 500, 'InternalError'],
  ];
  for (const [err, status, code] of cases) {
    const e = toApiError(err);
    expect([status, code]).toEqual([e.status, e.code]);
  }
  // Unknown errors never echo their message (it may hold anything).
  expect(toApiError(new Error('AccountKey=abc')).message).not.toContain('abc');
  expect(toApiError(new JobsError('InvalidInput', 'bad', { field: 'f', rows: [{ row: 2, field: 'source', message: 'm' }] })).toBody().error).toEqual({ code: 'InvalidRequest', message: 'bad', field: 'f', rows: [{ row: 2, field: 'source', message: 'm' }] });
  const auth = toApiError(new AuthError('InvalidAudience', 'wrong aud'));
  expect(auth.details.headers?.['www-authenticate']).toMatch(/^Bearer error="invalid_token"/);
  expect(auth.toBody().error.reason).toBe('InvalidAudience');
  expect(new ApiError(400, 'InvalidRequest', 'x').toBody()).toEqual({ error: { code: 'InvalidRequest', message: 'x' } });
});

test('scrubSecrets masks SAS signatures, connection-string keys, bearer tokens, JWTs and secret JSON fields', () => {
  const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZGVsZSJ9.c2lnbmF0dXJlLXBhcnQ';
  const lines: [string, string[], string[]][] = [
    ['GET https://acct.blob.core.windows.net/c/x.pst?sv=2023-11-03&sp=r&sig=AbC%2Bdef%3D&se=2030', ['AbC%2Bdef%3D'], ['sv=2023-11-03', 'sp=r', 'se=2030']],
    ['DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=c2VjcmV0a2V5;EndpointSuffix=core.windows.net', ['c2VjcmV0a2V5'], ['AccountName=acct', 'EndpointSuffix']],
    ['BlobEndpoint=https://a.blob.core.windows.net/;SharedAccessSignature=sv=2023&sig=zzz', ['sv=2023&sig=zzz', 'zzz'], ['BlobEndpoint=']],
    [`Authorization: Bearer ${jwt}`, [jwt, 'c2lnbmF0dXJlLXBhcnQ'], ['Authorization: Bearer']],
    [`{"msg":"token ${jwt} refused"}`, [jwt], ['refused']],
    ['{"destination":{"accountKey":"a2V5a2V5","accountName":"acct"}}', ['a2V5a2V5'], ['"accountName":"acct"']],
    ['{"msg":"{\\"clientSecret\\":\\"sbx~123\\"}"}', ['sbx~123'], ['clientSecret']],
    ['client_id=abc&client_secret=s3cr3t&assertion=xyz&scope=x', ['s3cr3t', 'xyz'], ['client_id=abc', 'scope=x']],
  ];
  for (const [line, gone, kept] of lines) {
    const out = scrubSecrets(line);
    for (const g of gone) expect(out).not.toContain(g);
    for (const k of kept) expect(out).toContain(k);
    expect(out).toContain(REDACTED);
  }
  expect(scrubSecrets('nothing secret here: user1.pst 123 bytes')).toBe('nothing secret here: user1.pst 123 bytes');
});
