/**
 * The Graph source's client layer: clouds, tokens, the per-mailbox gate, the middleware chain and
 * typed errors. Knows nothing of PST or MAPI (ARCHITECTURE.md, "imports point downward").
 */
export * from './clouds';
export * from './errors';
export * from './token-source';
export * from './retry-after';
export * from './mailbox-key';
export * from './mailbox-gate';
export * from './client';
export { AuthHandler, type AuthHandlerOptions } from './middleware/AuthHandler';
export { ErrorHandler } from './middleware/ErrorHandler';
export { MailboxGateHandler, type MailboxGateHandlerOptions } from './middleware/MailboxGateHandler';
export { RedirectHandler, type RedirectHandlerOptions, REDIRECT_STATUSES, DEFAULT_MAX_REDIRECT_HOPS } from './middleware/RedirectHandler';
export { RetryHandler, type RetryHandlerOptions, type RetryInfo, DEFAULT_RETRY_STATUSES } from './middleware/RetryHandler';
export * from './discovery';
