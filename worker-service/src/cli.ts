/**
 * The `outport` command.
 *
 *   outport convert <input…> --out FILE.pst [--split-size 10GB] [--encoding permute|none] [--name NAME]
 *       inputs: .eml files (into the folder "Inbox"), directories of .eml (each directory a folder,
 *       recursively), mbox files (a folder named after the file), .pst files (folders and items
 *       rewritten: to split or re-encode a PST)
 *   outport check FILE.pst      exit 0 when clean, 1 with the findings listed
 *   outport dump FILE.pst       the project's JSON view (folders, items, every property)
 *   outport inspect-fts FILE    one exportItems item (raw, base64 or Graph JSON) decoded as JSON;
 *                               exit 0 only for a complete item
 *   outport sandbox [--port N] [--write-config FILE] [--latency-ms N] [--fault-…]
 *                               the local Graph-compatible sandbox tenant (see docs/sandbox.md)
 *   outport demo [--out DIR]    converts the embedded SpamAssassin corpus and checks the result
 *
 * Exit codes: 0 success, 1 findings (check) or items that failed, 2 bad usage or a fatal error.
 */
import { stat } from 'node:fs/promises';
import { basename, dirname, extname, resolve, join } from 'node:path';
import { mkdir, readFile } from 'node:fs/promises';
import { convertMime, readMbox, walkEmlTree } from './convert/mime';
import { PropertyBag, type MapiFolder, type MapiItem } from './mapi/item';
import { TAG } from './mapi/tags';
import { inspectFts } from './convert/fts/inspect';
import { checkPst, formatFindings } from './pst/check';
import { dumpPstFolders } from './pst/dump';
import { PstReader, type PstFolder } from './pst/reader';
import { CryptMethod, FilePstSink, PstWriter, DEFAULT_SPLIT_SIZE_BYTES, isPartFailure, type PstPartInfo } from './pst/writer';
import { corpusMessages } from './sandbox/corpus';
import { runSandboxCommand } from './sandbox/command';
import { UsageError, parseArgs as parseArgsWith, parseSize } from './cli/args';
import { EXTRA_COMMANDS } from './cli/commands';

export { UsageError, parseSize };

function parseArgs(argv: string[], known: string[]) {
  return parseArgsWith(argv, known, USAGE);
}

const USAGE = `usage:
  outport convert <input…> --out FILE.pst [--split-size 10GB] [--encoding permute|none] [--name NAME]
  outport check FILE.pst
  outport dump FILE.pst
  outport inspect-fts FILE
  outport sandbox [--port N] [--write-config FILE] [--latency-ms N] [--fault-… RATE]
  outport demo [--out DIR]
${Object.values(EXTRA_COMMANDS).map((c) => '  ' + c.usage).join('\n')}`;

/** Progress on a TTY: items and bytes, at most every 200 ms. */
class Progress {
  private last = 0;
  private items = 0;
  private readonly start = Date.now();
  constructor(private readonly enabled: boolean) {}
  tick(what: string): void {
    this.items++;
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.last < 200) return;
    this.last = now;
    const rate = this.items / Math.max(0.001, (now - this.start) / 1000);
    process.stderr.write(`\r${this.items} items (${rate.toFixed(0)}/s) ${what.slice(0, 50).padEnd(50)}`);
  }
  done(): void {
    if (this.enabled) process.stderr.write('\n');
  }
}

const FOLDER_COMPUTED = new Set<number>([
  TAG.PidTagDisplayName.id,
  TAG.PidTagContentCount.id,
  TAG.PidTagContentUnreadCount.id,
  TAG.PidTagSubfolders.id,
  TAG.PidTagContainerClass.id,
]);

/** A PST folder as a MapiFolder for rewriting: its own properties minus those the writer recomputes. */
function folderDef(f: PstFolder): MapiFolder {
  const properties = new PropertyBag();
  for (const e of f.properties.entries()) {
    if (e.kind === 'tagged') {
      if (!FOLDER_COMPUTED.has(e.id)) properties.set(e.id, e.type, e.value);
    } else properties.setNamed(e.key, e.type, e.value);
  }
  return { displayName: f.displayName, containerClass: f.containerClass, properties };
}

interface ConvertStats {
  items: number;
  failed: number;
  warnings: number;
}

async function convertInputs(inputs: string[], writer: PstWriter, progress: Progress): Promise<ConvertStats> {
  const stats: ConvertStats = { items: 0, failed: 0, warnings: 0 };
  const fail = (where: string, err: unknown) => {
    // the output broke (disk full, …): every later item would fail the same way; stop here
    if (isPartFailure(err)) throw err;
    stats.failed++;
    const e = err as { code?: string; message?: string };
    process.stderr.write(`\nfailed: ${where}: ${e.code ? e.code + ': ' : ''}${e.message ?? String(err)}\n`);
  };
  const addMime = async (path: string[], raw: Uint8Array, where: string) => {
    const { item, warnings } = await convertMime(raw);
    stats.warnings += warnings.length;
    await writer.addItem(path.map((displayName) => ({ displayName, containerClass: 'IPF.Note' })), item);
    stats.items++;
    progress.tick(where);
  };
  for (const input of inputs) {
    const st = await stat(input).catch(() => undefined);
    if (!st) throw new UsageError(`input "${input}" does not exist`);
    if (st.isDirectory()) {
      const top = basename(resolve(input));
      for await (const f of walkEmlTree(input)) {
        try {
          await addMime([top, ...f.relativeFolderPath], await readFile(f.path), f.path);
        } catch (err) {
          fail(f.path, err);
        }
      }
    } else if (/\.eml$/i.test(input)) {
      try {
        await addMime(['Inbox'], await readFile(input), input);
      } catch (err) {
        fail(input, err);
      }
    } else if (/\.pst$/i.test(input)) {
      await rewritePst(input, writer, progress, stats, fail);
    } else if (/\.(mbox|mbx)$/i.test(input) || extname(input) === '') {
      const name = basename(input, extname(input)) || 'mbox';
      for await (const m of readMbox(input)) {
        try {
          await addMime([name], m.raw, `${input} #${m.index}`);
        } catch (err) {
          fail(`${input} message ${m.index}`, err);
        }
      }
    } else {
      throw new UsageError(`input "${input}": expected .eml, a directory of .eml, an mbox file (.mbox or no extension) or a .pst`);
    }
  }
  return stats;
}

async function rewritePst(input: string, writer: PstWriter, progress: Progress, stats: ConvertStats, fail: (where: string, err: unknown) => void): Promise<void> {
  const reader = await PstReader.open(input);
  try {
    const top = reader.store.ipmSubtreeNid;
    const root = await reader.rootFolder();
    // the folders under the IPM subtree ("Top of …") are the mailbox; the rest is store structure
    const start = root.children.find((c) => c.nid === top) ?? root;
    if (start !== root) writer.setTopFolderProperties(folderDef(start).properties!);
    const walk = async (f: PstFolder, path: MapiFolder[]) => {
      if (f.isSearchFolder) return;
      if (path.length > 0) await writer.ensureFolder(path);
      for await (const nidInfo of await reader.itemNids(f)) {
        try {
          const item: MapiItem = await reader.readItem(nidInfo.nid, nidInfo.associated);
          await writer.addItem(path, item);
          stats.items++;
          progress.tick(path.map((p) => p.displayName).join('/'));
        } catch (err) {
          fail(`${input} folder ${path.map((p) => p.displayName).join('/') || '(top)'} item 0x${nidInfo.nid.toString(16)}`, err);
        }
      }
      for (const c of f.children) await walk(c, [...path, folderDef(c)]);
    };
    await walk(start, []);
  } finally {
    await reader.close();
  }
}

async function cmdConvert(argv: string[]): Promise<number> {
  const { positional, flags } = parseArgs(argv, ['out', 'split-size', 'encoding', 'name']);
  const out = flags.get('out');
  if (!out) throw new UsageError(`convert needs --out FILE.pst\n${USAGE}`);
  if (!/\.pst$/i.test(out)) throw new UsageError(`--out "${out}" must end in .pst`);
  if (positional.length === 0) throw new UsageError(`convert needs at least one input\n${USAGE}`);
  const encoding = flags.get('encoding') ?? 'permute';
  if (encoding !== 'permute' && encoding !== 'none') throw new UsageError(`--encoding must be permute or none, not "${encoding}"`);
  const splitSizeBytes = flags.has('split-size') ? parseSize(flags.get('split-size')!) : DEFAULT_SPLIT_SIZE_BYTES;
  const dir = dirname(resolve(out));
  await mkdir(dir, { recursive: true });
  const writer = PstWriter.open({
    partName: basename(out),
    splitSizeBytes,
    cryptMethod: encoding === 'none' ? CryptMethod.None : CryptMethod.Permute,
    displayName: flags.get('name'),
    openSink: (name) => FilePstSink.create(join(dir, name)),
  });
  const progress = new Progress(process.stderr.isTTY === true);
  let stats: ConvertStats;
  try {
    stats = await convertInputs(positional, writer, progress);
  } catch (err) {
    await writer.abort();
    throw err;
  }
  let parts: PstPartInfo[];
  try {
    parts = await writer.close();
  } catch (err) {
    await writer.abort();
    throw err;
  }
  progress.done();
  for (const p of parts) process.stdout.write(`${join(dir, p.fileName)}: ${p.items} items, ${p.stats.fileSizeBytes} bytes\n`);
  process.stdout.write(`converted ${stats.items} items into ${parts.length} part(s); ${stats.failed} failed; ${stats.warnings} conversion warnings\n`);
  return stats.failed > 0 ? 1 : 0;
}

async function cmdCheck(argv: string[]): Promise<number> {
  const { positional } = parseArgs(argv, []);
  if (positional.length !== 1) throw new UsageError(`check takes one FILE.pst\n${USAGE}`);
  const report = await checkPst(positional[0]);
  if (report.findings.length === 0) {
    process.stdout.write(`${positional[0]}: clean\n`);
    return 0;
  }
  process.stdout.write(formatFindings(report) + '\n');
  return 1;
}

async function cmdDump(argv: string[]): Promise<number> {
  const { positional } = parseArgs(argv, []);
  if (positional.length !== 1) throw new UsageError(`dump takes one FILE.pst\n${USAGE}`);
  const replacer = (_k: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v);
  process.stdout.write(`{"file":${JSON.stringify(positional[0])},"folders":[\n`);
  let first = true;
  for await (const f of dumpPstFolders(positional[0])) {
    process.stdout.write((first ? '' : ',\n') + JSON.stringify(f, replacer));
    first = false;
  }
  process.stdout.write('\n]}\n');
  return 0;
}

async function cmdInspectFts(argv: string[]): Promise<number> {
  const { positional } = parseArgs(argv, []);
  if (positional.length !== 1) throw new UsageError(`inspect-fts takes one FILE (raw bytes, base64 text or a Graph JSON body)\n${USAGE}`);
  const bytes = await readFile(positional[0]).catch(() => {
    throw new UsageError(`input "${positional[0]}" cannot be read`);
  });
  const { json, exitCode } = inspectFts(bytes);
  process.stdout.write(json);
  return exitCode;
}

async function cmdDemo(argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv, ['out']);
  const dir = resolve(flags.get('out') ?? 'outport-demo');
  await mkdir(dir, { recursive: true });
  const writer = PstWriter.open({ partName: 'spamassassin.pst', displayName: 'SpamAssassin corpus', openSink: (name) => FilePstSink.create(join(dir, name)) });
  const progress = new Progress(process.stderr.isTTY === true);
  let n = 0;
  for await (const m of corpusMessages()) {
    const { item } = await convertMime(m.raw);
    await writer.addItem([{ displayName: m.group, containerClass: 'IPF.Note' }], item);
    progress.tick(m.group);
    n++;
  }
  const parts = await writer.close();
  progress.done();
  process.stdout.write(`wrote ${n} messages of the SpamAssassin corpus to ${parts.map((p) => join(dir, p.fileName)).join(', ')}\n`);
  let code = 0;
  for (const p of parts) code = Math.max(code, await cmdCheck([join(dir, p.fileName)]));
  return code;
}

/** Runs the CLI with `argv` (without node and script); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'convert':
        return await cmdConvert(rest);
      case 'check':
        return await cmdCheck(rest);
      case 'dump':
        return await cmdDump(rest);
      case 'inspect-fts':
        return await cmdInspectFts(rest);
      case 'sandbox':
        return await runSandboxCommand(rest);
      case 'demo':
        return await cmdDemo(rest);
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        process.stdout.write(USAGE + '\n');
        return cmd === undefined ? 2 : 0;
      default: {
        const extra = cmd !== undefined && Object.hasOwn(EXTRA_COMMANDS, cmd) ? EXTRA_COMMANDS[cmd] : undefined;
        if (!extra) throw new UsageError(`unknown command "${cmd}"\n${USAGE}`);
        const run = await extra.load();
        return await run(rest);
      }
    }
  } catch (err) {
    const e = err as { code?: string; message?: string };
    process.stderr.write(`outport ${cmd ?? ''}: ${e.code ? e.code + ': ' : ''}${e.message ?? String(err)}\n`);
    return 2;
  }
}
