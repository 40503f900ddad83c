/**
 * The top of the chain: gives each request a `client-request-id` (Graph echoes it; support asks for
 * it), and turns every failure below into a GraphError: a non-2xx final response with Graph's error
 * body (code, message, innerError request-id), a network failure (NetworkError), or the caller's
 * abort (Aborted). Errors carry the method and the pathname only, never headers or query strings.
 */
import { randomUUID } from 'node:crypto';
import type { Context } from '@microsoft/microsoft-graph-client';
import { GraphClientCodes, GraphError, parseGraphErrorBody, safePath, TokenAcquisitionError } from '../errors';
import { parseRetryAfterMs } from '../retry-after';
import { ChainedMiddleware, headersOf, methodOf, responseText, signalOf, stateOf, urlOf } from './context';

export class ErrorHandler extends ChainedMiddleware {
  async execute(context: Context): Promise<void> {
    const state = stateOf(context);
    const headers = headersOf(context);
    if (!headers.has('client-request-id')) headers.set('client-request-id', randomUUID());
    state.clientRequestId = headers.get('client-request-id') ?? undefined;
    const signal = signalOf(context);
    const base = () => ({ method: methodOf(context), path: safePath(urlOf(context)), attempts: Math.max(1, state.attempts), clientRequestId: state.clientRequestId });
    try {
      await this.runNext(context);
    } catch (err) {
      if (err instanceof GraphError) throw err;
      if (signal?.aborted) throw new GraphError({ ...base(), code: GraphClientCodes.Aborted, statusCode: 0, cause: signal.reason ?? err });
      if (err instanceof TokenAcquisitionError) throw new GraphError({ ...base(), code: err.code, statusCode: 0, cause: err.cause, graphMessage: `no access token: ${err.message}` });
      throw new GraphError({ ...base(), code: GraphClientCodes.NetworkError, statusCode: 0, cause: err, graphMessage: err instanceof Error ? err.message : undefined });
    }
    const res = context.response;
    if (!res) throw new GraphError({ ...base(), code: GraphClientCodes.InvalidResponse, statusCode: 0 });
    if (res.status >= 200 && res.status < 300) return;
    let body: unknown;
    try { body = JSON.parse(await responseText(res)); } catch { body = undefined; }
    const said = parseGraphErrorBody(body);
    throw new GraphError({
      ...base(),
      code: said.code ?? GraphClientCodes.HttpError,
      statusCode: res.status,
      graphMessage: said.message,
      innerCode: said.innerCode,
      requestId: res.headers.get('request-id') ?? said.requestId,
      clientRequestId: res.headers.get('client-request-id') ?? said.clientRequestId ?? state.clientRequestId,
      retryAfterMs: parseRetryAfterMs(res.headers.get('retry-after'), Date.now()),
    });
  }
}
