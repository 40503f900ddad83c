/**
 * The sandbox tenant (ARCHITECTURE.md "The sandbox tenant"; docs/sandbox.md): a Graph-compatible
 * local server with a token issuer, seeded deterministically from the SpamAssassin corpus.
 */
export { startSandbox, type SandboxHandle, type SandboxOptions, type SandboxStats } from './server';
export { writeTenantConfig, sandboxTenantConfig, type SandboxSignInConfig, type TenantConfig, type TenantConfigUser } from './config';
export { runSandboxCommand, parseSandboxArgs, SANDBOX_USAGE, DEFAULT_CLI_MESSAGES, type SandboxCommandArgs, type SandboxCommandIo } from './command';
export { buildTenant, EXCHANGE_ADMINISTRATOR_ROLE, EXPORT_ENCODE_OPTIONS, SEED_EPOCH, type SeedOptions } from './seed';
export { SandboxTenant, mailboxFolders, mailboxItems, walkTree, type SandboxFolder, type SandboxItem, type SandboxDirectoryRole, type SandboxMailbox, type SandboxUser } from './tenant';
export { TokenIssuer, DEFAULT_APP_ROLES, DEFAULT_DELEGATED_SCOPES, GRAPH_APP_ID, type Principal } from './tokens';
export { MailboxThrottle, type MailboxStats, type ThrottleOptions } from './throttle';
export type { FaultOptions } from './faults';
export type { SandboxApp } from './context';
export { corpusMessages, CorpusMissingError, type CorpusMessage } from './corpus';
