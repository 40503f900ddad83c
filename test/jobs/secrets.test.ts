/** jobs/secrets.ts: AES-256-GCM sealing bound to a context; key loading rules. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadSecretKey, SecretBox } from '../../worker-service/src/jobs/secrets';

describe('SecretBox', () => {
  const box = new SecretBox(randomBytes(32));
  test('round trip; a new IV each time; bound to its context; another key refused', () => {
    const a = box.seal('DefaultEndpointsProtocol=https;AccountKey=abc', 'project:1:destination');
    const b = box.seal('DefaultEndpointsProtocol=https;AccountKey=abc', 'project:1:destination');
    expect(a).not.toBe(b);
    expect(a).not.toContain('AccountKey');
    expect(box.open(a, 'project:1:destination')).toBe('DefaultEndpointsProtocol=https;AccountKey=abc');
    expect(() => box.open(a, 'project:2:destination')).toThrow(expect.objectContaining({ code: 'SecretKey' }));
    expect(() => new SecretBox(randomBytes(32)).open(a, 'project:1:destination')).toThrow(/does not open with this key/);
    const tampered = a.slice(0, -4) + (a.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    expect(() => box.open(tampered, 'project:1:destination')).toThrow(expect.objectContaining({ code: 'SecretKey' }));
    expect(JSON.stringify(box)).toBe('{"kind":"SecretBox"}');
  });
  test('key length checked', () => {
    expect(() => new SecretBox(randomBytes(16))).toThrow(/32 bytes/);
  });
});

describe('loadSecretKey', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(path.join(os.tmpdir(), 'outport-key-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('from OUTPORT_SECRET_KEY (base64 of 32 bytes)', () => {
    const key = randomBytes(32);
    expect(loadSecretKey({ env: { OUTPORT_SECRET_KEY: key.toString('base64') } }).equals(key)).toBe(true);
  });
  test('short or not base64 → a clear error, also outside production', () => {
    expect(() => loadSecretKey({ env: { OUTPORT_SECRET_KEY: randomBytes(16).toString('base64') }, dataDir: dir })).toThrow(/16 bytes; AES-256 needs 32.*openssl rand -base64 32/);
    expect(() => loadSecretKey({ env: { OUTPORT_SECRET_KEY: 'not base64!' }, dataDir: dir })).toThrow(/not base64/);
  });
  test('missing in production → a clear error; never generated', () => {
    expect(() => loadSecretKey({ env: { NODE_ENV: 'production' }, dataDir: dir })).toThrow(/OUTPORT_SECRET_KEY is not set.*openssl rand -base64 32/);
  });
  test('missing outside production → generated once into the data directory, then reused', () => {
    const notices: string[] = [];
    const k1 = loadSecretKey({ env: {}, dataDir: dir, onNotice: (m) => notices.push(m) });
    const k2 = loadSecretKey({ env: {}, dataDir: dir, onNotice: (m) => notices.push(m) });
    expect(k1.equals(k2)).toBe(true);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toContain(path.join(dir, 'secret.key'));
    expect(notices[0]).not.toContain(k1.toString('base64'));
  });
});
