/**
 * National clouds, table-driven (issue 3, "Must show e"): Graph host, login host, scope, and
 * whether exportItems exists. Hosts from learn.microsoft.com/graph/deployments.
 */
import { CLOUDS, customCloud, GraphClient, graphApiRoot, resolveCloud, StaticTokenSource, tokenEndpoint } from '../../worker-service/src/graph';
import { FakeGraph, json } from './fake-graph';

const TABLE: [name: string, graph: string, login: string, exportItems: boolean][] = [
  ['global', 'https://graph.microsoft.com', 'https://login.microsoftonline.com', true],
  ['usgov', 'https://graph.microsoft.us', 'https://login.microsoftonline.us', false],
  ['dod', 'https://dod-graph.microsoft.us', 'https://login.microsoftonline.us', false],
  ['china', 'https://microsoftgraph.chinacloudapi.cn', 'https://login.chinacloudapi.cn', false],
];

describe.each(TABLE)('cloud %s', (name, graph, login, exportItems) => {
  const cloud = resolveCloud(name);

  it('has its Graph host, login host, scope and exportItems availability', () => {
    expect(cloud).toEqual({ name, graphBaseUrl: graph, loginBaseUrl: login, graphScope: `${graph}/.default`, exportItemsAvailable: exportItems });
    expect(resolveCloud(name.toUpperCase())).toBe(cloud);
    expect(graphApiRoot(cloud)).toBe(`${graph}/v1.0`);
    expect(graphApiRoot(cloud, 'beta')).toBe(`${graph}/beta`);
    expect(tokenEndpoint(cloud, 'contoso.onmicrosoft.com')).toBe(`${login}/contoso.onmicrosoft.com/oauth2/v2.0/token`);
  });

  it('sends requests to its host, with a token asked for its own scope', async () => {
    const fake = new FakeGraph(() => json(200, {}));
    const scopes: string[][] = [];
    const tokens = { getToken: async (s: readonly string[]) => { scopes.push([...s]); return { token: 'tok', expiresOnMs: Date.now() + 3600_000 }; } };
    const client = new GraphClient({ cloud, tokenSource: tokens, finalHandler: fake });
    await client.get('/users/u/settings/exchange');
    expect(fake.seen[0].url).toBe(`${graph}/v1.0/users/u/settings/exchange`);
    expect(fake.seen[0].headers.get('authorization')).toBe('Bearer tok');
    expect(scopes).toEqual([[`${graph}/.default`]]);
  });
});

describe('custom cloud', () => {
  it.each([
    ['http://127.0.0.1:4010', 'http://127.0.0.1:4010', 'http://127.0.0.1:4010'],
    ['http://localhost:4010/graph/', 'http://localhost:4010/graph', 'http://localhost:4010/graph'],
  ])('%s', (input, graph, login) => {
    const c = customCloud({ graphBaseUrl: input });
    expect(c).toEqual({ name: 'custom', graphBaseUrl: graph, loginBaseUrl: login, graphScope: `${graph}/.default`, exportItemsAvailable: true });
  });

  it('takes a login URL and the exportItems flag', () => {
    const c = resolveCloud({ graphBaseUrl: 'https://sandbox.example/g', loginBaseUrl: 'https://sandbox.example/login', exportItemsAvailable: false });
    expect(c).toMatchObject({ name: 'custom', loginBaseUrl: 'https://sandbox.example/login', exportItemsAvailable: false });
  });

  it.each(['not a url', 'ftp://x.example', 'https://x.example/?q=1', 'https://user:pw@x.example'])('refuses %s', (bad) => {
    expect(() => customCloud({ graphBaseUrl: bad })).toThrow(TypeError);
  });

  it('refuses unknown names and a bare "custom"', () => {
    expect(() => resolveCloud('germany')).toThrow(/unknown cloud/);
    expect(() => resolveCloud('custom')).toThrow(/graphBaseUrl/);
  });

  it('the named clouds are frozen', () => {
    expect(Object.isFrozen(CLOUDS.global)).toBe(true);
    expect(Object.keys(CLOUDS).sort()).toEqual(['china', 'dod', 'global', 'usgov']);
  });
});
