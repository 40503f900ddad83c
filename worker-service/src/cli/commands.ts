/**
 * The `outport` commands that live in their own modules (cli/<name>.ts), loaded on use so that
 * `outport check` does not load fastify, SQLite or the Azure SDK. Each module exports a runner
 * `(argv without the command name) => exit code`: 0 success, 1 items failed or findings, 2 bad usage.
 */

/** One command: its usage line (shown by `outport help`) and a lazy loader of its runner. */
export interface CommandEntry {
  usage: string;
  load: () => Promise<(argv: string[]) => Promise<number>>;
}

/** Commands by name. Add one line per command module. */
export const EXTRA_COMMANDS: Record<string, CommandEntry> = {
  export: { usage: 'outport export --tenant-config FILE --mailbox SMTP [--archive] (--to DIR|SAS_URL | --connection-string CS | --storage-account A --storage-key K [--endpoint-suffix S | --blob-endpoint URL]) [--container NAME] [--name user1.pst] [--split-size 10GB] [--older-than DAYS] [--types mail,…] [--incremental] [--retry-errors]', load: async () => (require('./export') as typeof import('./export')).run },
  inventory: { usage: 'outport inventory --tenant-config FILE --mailbox SMTP [--archive] [--items]', load: async () => (require('./inventory') as typeof import('./inventory')).run },
  jobs: { usage: 'outport jobs [--data-dir DIR] [--project ID] [--json]', load: async () => (require('./jobs') as typeof import('./jobs')).run },
  serve: { usage: 'outport serve --tenant-config FILE [--port 7071] [--host 127.0.0.1] [--data-dir .outport] [--addin-dir addin/dist] [--concurrency 4] [--allow-origin https://host]', load: async () => (require('./serve') as typeof import('./serve')).run },
  start: { usage: 'outport start [--once] [--port 7071] [--data-dir .outport/start] [--mail-limit 1000] [--user adele] [--split-size 10GB]   (npm start: sandbox + Azurite + worker + a demo export)', load: async () => (require('./start') as typeof import('./start')).run },
  stats: { usage: 'outport stats --project ID [--csv] [--data-dir DIR]', load: async () => (require('./stats') as typeof import('./stats')).run },
  worker: { usage: 'outport worker --queue redis://HOST:PORT --tenant-config FILE [--concurrency 4] [--lease-seconds 60]', load: async () => (require('./worker') as typeof import('./worker')).run },
};
