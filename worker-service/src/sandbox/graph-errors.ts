/**
 * Graph's error responses as the sandbox sends them: `{ error: { code, message, innerError: { date,
 * request-id, client-request-id } } }` (the shape of concepts/throttling.429 and the $batch example),
 * with the `request-id` / `client-request-id` response headers Graph sets.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** A Graph error to answer with: HTTP status, Graph's code and message, optional headers. */
export class SandboxGraphError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'SandboxGraphError';
  }
}

/** The JSON body of a Graph error. */
export function graphErrorBody(code: string, message: string, requestId: string, clientRequestId?: string): unknown {
  const innerError: Record<string, string> = { date: new Date().toISOString().slice(0, 19), 'request-id': requestId };
  if (clientRequestId) innerError['client-request-id'] = clientRequestId;
  return { error: { code, message, innerError } };
}

/** The request id of a request (one UUID per request, also sent as the `request-id` header). */
export function requestIdOf(req: FastifyRequest): string {
  const r = req as FastifyRequest & { sandboxRequestId?: string };
  r.sandboxRequestId ??= randomUUID();
  return r.sandboxRequestId;
}

/** Sends a Graph error. */
export function sendGraphError(req: FastifyRequest, reply: FastifyReply, err: SandboxGraphError): FastifyReply {
  const rid = requestIdOf(req);
  const crid = req.headers['client-request-id'];
  for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
  return reply
    .code(err.statusCode)
    .header('request-id', rid)
    .header('content-type', 'application/json')
    .send(graphErrorBody(err.code, err.message, rid, typeof crid === 'string' ? crid : undefined));
}

/** Common errors. */
export const GraphErrors = {
  notFound: (what: string) => new SandboxGraphError(404, 'ErrorItemNotFound', `The specified object was not found in the store. (${what})`),
  userNotFound: (id: string) => new SandboxGraphError(404, 'Request_ResourceNotFound', `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`),
  mailboxNotEnabled: () => new SandboxGraphError(404, 'MailboxNotEnabledForRESTAPI', 'The mailbox is either inactive, soft-deleted, or is hosted on-premise.'),
  badRequest: (message: string, code = 'BadRequest') => new SandboxGraphError(400, code, message),
  accessDenied: () => new SandboxGraphError(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.'),
  insufficientPrivileges: () => new SandboxGraphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.'),
  invalidToken: (message: string) => new SandboxGraphError(401, 'InvalidAuthenticationToken', message, { 'WWW-Authenticate': 'Bearer realm="", error="invalid_token"' }),
};
