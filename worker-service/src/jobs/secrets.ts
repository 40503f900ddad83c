/**
 * Encryption at rest of destination secrets (account key, SAS URL, connection string) and stored
 * user assertions: AES-256-GCM (NIST SP 800-38D) with a 96-bit random IV per seal and the record's
 * id as additional authenticated data, so a sealed value copied onto another project's row does not
 * open. Key: env `OUTPORT_SECRET_KEY`, base64 of 32 bytes (`openssl rand -base64 32`). Without it,
 * outside production, a key is generated once into `<data dir>/secret.key` (mode 0600) and the
 * caller is told so. docs/jobs.md "Secrets".
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { JobsError } from './contract';

/** AES-256: 32-byte key. */
export const SECRET_KEY_BYTES = 32;
/** GCM's recommended IV length (SP 800-38D 8.2): 12 bytes. */
const IV_BYTES = 12;
/** Full 128-bit tag. */
const TAG_BYTES = 16;
/** Prefix of a sealed value: format version 1 = base64(iv ‖ tag ‖ ciphertext). */
const SEALED_PREFIX = 'og1:';
/** The file a generated key is kept in, inside the data directory. */
export const SECRET_KEY_FILE = 'secret.key';
/** The environment variable holding the key. */
export const SECRET_KEY_ENV = 'OUTPORT_SECRET_KEY';

/** Seals and opens small secrets with one AES-256-GCM key. The key is kept in a private field (never printed). */
export class SecretBox {
  readonly #key: Buffer;

  /** @throws JobsError SecretKey when `key` is not 32 bytes */
  constructor(key: Uint8Array) {
    if (key.length !== SECRET_KEY_BYTES) {
      throw new JobsError('SecretKey', `the secret key must be ${SECRET_KEY_BYTES} bytes (got ${key.length}): set ${SECRET_KEY_ENV} to the output of "openssl rand -base64 32"`);
    }
    this.#key = Buffer.from(key);
  }

  /**
   * Encrypts `plaintext` (UTF-8) bound to `context` (e.g. "project:<id>:destination").
   * @returns "og1:" + base64(iv ‖ tag ‖ ciphertext)
   */
  seal(plaintext: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return SEALED_PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
  }

  /**
   * Decrypts a value sealed with the same key and `context`.
   * @throws JobsError SecretKey when the value is malformed, was sealed with another key or for another context
   */
  open(sealed: string, context: string): string {
    if (!sealed.startsWith(SEALED_PREFIX)) throw new JobsError('SecretKey', 'a stored secret is not in the og1 format (data directory damaged?)');
    const raw = Buffer.from(sealed.slice(SEALED_PREFIX.length), 'base64');
    if (raw.length < IV_BYTES + TAG_BYTES) throw new JobsError('SecretKey', 'a stored secret is truncated');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, raw.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new JobsError('SecretKey', `a stored secret does not open with this key: ${SECRET_KEY_ENV} differs from the key the secrets were stored with`);
    }
  }

  toJSON(): Record<string, unknown> { return { kind: 'SecretBox' }; }
}

/** Options of {@link loadSecretKey}. */
export interface SecretKeyOptions {
  /** Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Where to keep a generated key when the environment has none (the embedded default). */
  dataDir?: string;
  /** Refuse to generate a key (production). Default: env.NODE_ENV === "production". */
  production?: boolean;
  /** Told once when a key was generated or read from the data directory (path, never the key). */
  onNotice?: (message: string) => void;
}

/**
 * The secret key: from `OUTPORT_SECRET_KEY` (base64 of 32 bytes), else — outside production, with a
 * data directory — from `<dataDir>/secret.key`, generated (mode 0600) when absent.
 * @throws JobsError SecretKey when the variable is malformed or short, or missing in production
 */
export function loadSecretKey(options: SecretKeyOptions = {}): Buffer {
  const env = options.env ?? process.env;
  const production = options.production ?? env.NODE_ENV === 'production';
  const text = env[SECRET_KEY_ENV];
  if (text !== undefined && text.trim() !== '') return decodeKey(text, SECRET_KEY_ENV);
  if (production || !options.dataDir) {
    throw new JobsError('SecretKey', `${SECRET_KEY_ENV} is not set: set it to 32 random bytes in base64 ("openssl rand -base64 32") so destination secrets can be encrypted at rest`);
  }
  const file = path.join(options.dataDir, SECRET_KEY_FILE);
  if (existsSync(file)) {
    const key = decodeKey(readFileSync(file, 'utf8'), file);
    if (process.platform !== 'win32' && (statSync(file).mode & 0o077) !== 0) {
      options.onNotice?.(`${file} is readable by other users: chmod 600 it`);
    }
    return key;
  }
  mkdirSync(options.dataDir, { recursive: true });
  const key = randomBytes(SECRET_KEY_BYTES);
  writeFileSync(file, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  options.onNotice?.(`${SECRET_KEY_ENV} is not set: generated a secret key into ${file} (mode 0600). Keep it with the data directory; set ${SECRET_KEY_ENV} in production.`);
  return key;
}

function decodeKey(text: string, where: string): Buffer {
  const t = text.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(t)) {
    throw new JobsError('SecretKey', `${where} is not base64: set it to the output of "openssl rand -base64 32"`);
  }
  const key = Buffer.from(t, 'base64');
  if (key.length !== SECRET_KEY_BYTES) {
    throw new JobsError('SecretKey', `${where} decodes to ${key.length} bytes; AES-256 needs ${SECRET_KEY_BYTES}: use "openssl rand -base64 32"`);
  }
  return key;
}
