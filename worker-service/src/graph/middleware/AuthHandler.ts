/**
 * Puts `Authorization: Bearer <token>` on each HTTP attempt addressed to the cloud's Graph host,
 * and removes it from any other host (a redirect elsewhere must not carry our token). Asked per
 * attempt so that a retry after a long Retry-After gets a fresh token from the TokenSource.
 * Counterpart of the SDK's AuthenticationHandler, with Outport's TokenSource and host check.
 * A token source failure becomes a TokenAcquisitionError (not retried unless the service was unreachable).
 */
import type { Context } from '@microsoft/microsoft-graph-client';
import { TokenAcquisitionError } from '../errors';
import type { TokenSource } from '../token-source';
import { ChainedMiddleware, headersOf, signalOf, urlOf } from './context';

/** AuthHandler settings. */
export interface AuthHandlerOptions {
  tokenSource: TokenSource;
  /** Scopes to ask for: the cloud's `graphScope`. */
  scopes: readonly string[];
  /** Hosts (`host[:port]`, lower case) that receive the token: the cloud's Graph host. */
  tokenHosts: ReadonlySet<string>;
}

export class AuthHandler extends ChainedMiddleware {
  constructor(private readonly options: AuthHandlerOptions) { super(); }

  async execute(context: Context): Promise<void> {
    const headers = headersOf(context);
    let host = '';
    try { host = new URL(urlOf(context)).host.toLowerCase(); } catch { /* relative: no host, no token */ }
    if (this.options.tokenHosts.has(host)) {
      let token: string;
      try {
        token = (await this.options.tokenSource.getToken(this.options.scopes, signalOf(context))).token;
      } catch (err) {
        if (signalOf(context)?.aborted) throw err;
        throw new TokenAcquisitionError(err);
      }
      headers.set('Authorization', `Bearer ${token}`);
    } else {
      headers.delete('Authorization');
    }
    await this.runNext(context);
  }
}
