/**
 * Certificate credentials of the sandbox's token service: an app registered with a certificate
 * proves itself with a signed JWT (`client_assertion`, `client_assertion_type =
 * urn:ietf:params:oauth:client-assertion-type:jwt-bearer`) instead of a secret, as Microsoft Entra
 * accepts ("Microsoft identity platform application authentication certificate credentials":
 * learn.microsoft.com/entra/identity-platform/certificate-credentials). Checked like Entra does:
 * header `x5t#S256` (or SHA-1 `x5t`) names a registered certificate, RS256/PS256 signature with its
 * key, `aud` = the token endpoint, `iss` = `sub` = the client id, `exp`/`nbf` (60 s skew).
 */
import { X509Certificate, createHash } from 'node:crypto';
import { decodeProtectedHeader, errors as joseErrors, jwtVerify } from 'jose';

/** The `client_assertion_type` of a JWT client assertion (RFC 7523 section 2.2). */
export const CLIENT_ASSERTION_TYPE_JWT = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Why an assertion was refused: Entra's AADSTS number and description. */
export interface ClientAssertionRefusal { aadsts: number; description: string }

/** base64url SHA-256 and SHA-1 thumbprints of a PEM certificate (what `x5t#S256` / `x5t` carry). */
export function certificateThumbprints(certificatePem: string): { x5tS256: string; x5t: string; sha256Hex: string } {
  const der = new X509Certificate(certificatePem).raw;
  const sha256 = createHash('sha256').update(der).digest();
  return { x5tS256: sha256.toString('base64url'), x5t: createHash('sha1').update(der).digest('base64url'), sha256Hex: sha256.toString('hex') };
}

/**
 * Verifies a client assertion against an app's registered certificates.
 * @param certificates PEM certificates registered on the app
 * @param tokenEndpoints the URLs accepted as `aud`
 * @returns undefined when valid, otherwise the refusal (AADSTS700027 signature/certificate,
 *          700024 time range, 700023 audience, 700021/700022 wrong type or issuer)
 */
export async function verifyClientAssertion(assertion: string, assertionType: string | undefined, clientId: string, certificates: readonly string[], tokenEndpoints: readonly string[]): Promise<ClientAssertionRefusal | undefined> {
  if (assertionType !== CLIENT_ASSERTION_TYPE_JWT) return { aadsts: 700021, description: `Client assertion type must be ${CLIENT_ASSERTION_TYPE_JWT}.` };
  let header: ReturnType<typeof decodeProtectedHeader>;
  try { header = decodeProtectedHeader(assertion); } catch { return { aadsts: 700027, description: 'Client assertion is not a well formed JWT.' }; }
  const wanted = header['x5t#S256'] ?? header.x5t;
  const cert = certificates.find((pem) => {
    const t = certificateThumbprints(pem);
    return header['x5t#S256'] !== undefined ? t.x5tS256 === wanted : t.x5t === wanted;
  });
  if (!cert) return { aadsts: 700027, description: `Client assertion contains an invalid signature. [Reason - The key was not found., Thumbprint of key used by client: '${String(wanted)}']` };
  try {
    await jwtVerify(assertion, new X509Certificate(cert).publicKey, {
      algorithms: ['RS256', 'PS256'], audience: [...tokenEndpoints], issuer: clientId, subject: clientId, clockTolerance: 60, requiredClaims: ['exp', 'jti'],
    });
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) return { aadsts: 700024, description: 'Client assertion is not within its valid time range.' };
    if (err instanceof joseErrors.JWTClaimValidationFailed) {
      if (err.claim === 'aud') return { aadsts: 700023, description: 'Client assertion audience claim does not match Realm issuer.' };
      if (err.claim === 'nbf') return { aadsts: 700024, description: 'Client assertion is not within its valid time range.' };
      return { aadsts: 700022, description: `Client assertion claim '${err.claim}' is invalid.` };
    }
    return { aadsts: 700027, description: 'Client assertion failed signature validation.' };
  }
  return undefined;
}
