/**
 * A minimal OpenID provider for token-validation tests whose keys the test holds: metadata and JWKS
 * over loopback HTTP, keys replaceable (rotation), JWKS downloads counted, and `sign` to forge any
 * token with them (wrong issuer with a valid signature, rotated keys).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type JWK, type JWTPayload, type KeyLike } from 'jose';

/** One signing key. */
export interface FakeKey { kid: string; privateKey: KeyLike; jwk: JWK }

/** A running fake provider. */
export interface FakeOidc {
  readonly authorityUrl: string;
  readonly tenantId: string;
  readonly issuer: string;
  /** Keys published in the JWKS (replace to rotate). */
  published: FakeKey[];
  /** JWKS downloads so far. */
  readonly jwksFetches: number;
  newKey(): Promise<FakeKey>;
  sign(claims: JWTPayload, key: FakeKey, options?: { issuer?: string; lifetimeSec?: number }): Promise<string>;
  stop(): Promise<void>;
}

/** Starts a fake provider for `tenantId` on 127.0.0.1 (free port). */
export async function startFakeOidc(tenantId: string): Promise<FakeOidc> {
  let jwksFetches = 0;
  const newKey = async (): Promise<FakeKey> => {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const kid = randomUUID();
    return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
  };
  const state = { published: [await newKey()] };
  let base = '';
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    res.setHeader('content-type', 'application/json');
    if (path === `/${tenantId}/v2.0/.well-known/openid-configuration`) {
      res.end(JSON.stringify({ issuer: `${base}/${tenantId}/v2.0`, jwks_uri: `${base}/${tenantId}/discovery/v2.0/keys`, token_endpoint: `${base}/${tenantId}/oauth2/v2.0/token` }));
    } else if (path === `/${tenantId}/discovery/v2.0/keys`) {
      jwksFetches++;
      res.end(JSON.stringify({ keys: state.published.map((k) => k.jwk) }));
    } else {
      res.statusCode = 404;
      res.end('{}');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer = `${base}/${tenantId}/v2.0`;
  return {
    authorityUrl: base, tenantId, issuer,
    get published() { return state.published; },
    set published(keys: FakeKey[]) { state.published = keys; },
    get jwksFetches() { return jwksFetches; },
    newKey,
    sign: (claims, key, options = {}) => {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ ver: '2.0', tid: tenantId, ...claims })
        .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: key.kid })
        .setIssuer(options.issuer ?? issuer).setIssuedAt(now).setNotBefore(now - 5).setExpirationTime(now + (options.lifetimeSec ?? 3600))
        .sign(key.privateKey);
    },
    stop: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
