/**
 * The sandbox token service over HTTPS. MSAL refuses `http:` authorities (msal-common `UrlString`,
 * ClientConfigurationError `authority_uri_insecure`) and checks that the OpenID metadata's `issuer`
 * has the authority's scheme, host and port (msal-common `Authority.validateIssuer`, rule 1), so a
 * sandbox that MSAL can use needs an `https:` authority: a second listener, on its own port, with a
 * self-signed certificate made at start (the `selfsigned` package, an EC P-256 key, SAN = the host).
 * Clients trust that certificate explicitly (`caCertificate` of the tenant config; MSAL through a
 * network client with `ca`); nothing disables TLS verification.
 *
 * Only the token service is served here (`registerAuthRoutes`: OpenID metadata, JWKS, token
 * endpoint); Graph stays on the plain-HTTP listener.
 */
import { isIP } from 'node:net';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { generate } from 'selfsigned';
import { registerAuthRoutes } from './auth-routes';
import type { SandboxContext } from './context';

/** A PEM certificate and its private key. */
export interface SandboxCertificate {
  /** PEM `CERTIFICATE`: give it to clients as their trusted CA (it is self-signed). */
  certPem: string;
  /** PEM private key. A secret of the running sandbox only. */
  keyPem: string;
}

/** Validity of the generated certificate: the sandbox is a short-lived process. */
const CERTIFICATE_LIFETIME_DAYS = 30;

/**
 * A self-signed server certificate for `host` (an IP address or a DNS name), valid from a minute
 * ago for {@link CERTIFICATE_LIFETIME_DAYS} days; SAN holds `host`, and `localhost`/127.0.0.1.
 */
export async function generateSandboxCertificate(host: string): Promise<SandboxCertificate> {
  const altNames: { type: 2 | 7; value?: string; ip?: string }[] = [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }];
  if (isIP(host)) { if (host !== '127.0.0.1') altNames.push({ type: 7, ip: host }); } else if (host !== 'localhost') altNames.push({ type: 2, value: host });
  const notBeforeDate = new Date(Date.now() - 60_000);
  const notAfterDate = new Date(notBeforeDate.getTime() + CERTIFICATE_LIFETIME_DAYS * 86_400_000);
  const pems = await generate([{ name: 'commonName', value: host }, { name: 'organizationName', value: 'Outport sandbox' }], {
    keyType: 'ec', curve: 'P-256', algorithm: 'sha256', notBeforeDate, notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames },
    ],
  });
  return { certPem: pems.cert, keyPem: pems.private };
}

/** A running HTTPS token service. */
export interface SandboxTlsListener {
  /** `https://<host>:<port>`: the authority root (authority = `<url>/<tenantId>`). */
  readonly url: string;
  readonly certificate: SandboxCertificate;
  close(): Promise<void>;
}

/**
 * Starts the HTTPS token service on `host:port` (0 = any free port) with the routes of
 * `registerAuthRoutes` over the same context as the plain-HTTP server: same tenant, apps and issuer.
 * @throws listen errors (EADDRINUSE)
 */
export async function startTokenServiceTls(ctx: SandboxContext, options: { host: string; port?: number; certificate?: SandboxCertificate }): Promise<SandboxTlsListener> {
  const certificate = options.certificate ?? (await generateSandboxCertificate(options.host));
  const app = Fastify({ https: { key: certificate.keyPem, cert: certificate.certPem }, routerOptions: { caseSensitive: false, maxParamLength: 500 } });
  try {
    // registerAuthRoutes only adds routes and a body parser: the server type does not matter to it.
    registerAuthRoutes(app as unknown as FastifyInstance, ctx);
    await app.listen({ port: options.port ?? 0, host: options.host });
  } catch (err) {
    await app.close();
    throw err;
  }
  const { port } = app.server.address() as AddressInfo;
  const hostPart = isIP(options.host) === 6 ? `[${options.host}]` : options.host;
  return { url: `https://${hostPart}:${port}`, certificate, close: () => app.close() };
}
