/**
 * An {@link ExportCheckpoint} kept in the destination itself, beside the parts (what `outport
 * export` uses, so that running the same command again resumes; docs/export.md "Resume"):
 *
 * - finished parts = the `<part>.manifest.json` objects of this PST name whose part object exists
 *   with the size the manifest records (a manifest is stored only after its part was committed, so
 *   a part without one — or one whose object is gone or has another size — counts as unfinished);
 * - errors of the current and of the last completed pass and the saved deltaLinks = one small
 *   state object `<pstName>.state.json`.
 *
 * Errors are buffered and written with the next finished part or the pass's end: a crash loses
 * only errors of the unfinished pass, whose items are read again by the next run anyway.
 */
import type { SourceMailbox } from '../graph/source-types';
import type { Destination } from '../storage/destination';
import { ExportError } from './errors';
import { MANIFEST_SUFFIX, finishedPartOf, manifestMailbox, parseManifestIds } from './manifest';
import type { ExportCheckpoint, ExportItemError, ExportPass, FinishedPart, PartManifest } from './types';

/** Suffix of the state object's name: "user1.pst" → "user1.pst.state.json". */
export const STATE_SUFFIX = '.state.json';

/** Buffered errors written at once when this many are waiting (bounds memory and loss). */
const ERROR_FLUSH_COUNT = 1000;

/** The state object (version 1). */
export interface CheckpointState {
  version: 1;
  mailbox: PartManifest['mailbox'];
  /** The pass begun and not completed, if any. */
  currentPass?: ExportPass;
  currentErrors: ExportItemError[];
  lastPass?: ExportPass;
  lastErrors: ExportItemError[];
  /** deltaLinks by folder id of the last completed full or incremental pass. */
  deltaLinks: Record<string, string>;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const sameMailbox = (a: PartManifest['mailbox'], b: PartManifest['mailbox']) =>
  a.archive === b.archive && (a.source.toLowerCase() === b.source.toLowerCase() || (!!a.mailboxId && a.mailboxId === b.mailboxId));
const describe = (m: PartManifest['mailbox']) => `${m.source}${m.archive ? ' (archive)' : ''}`;

/** Options of {@link DestinationCheckpoint.open}. */
export interface DestinationCheckpointOptions {
  destination: Destination;
  /** The first part's name ("user1.pst"): parts and state of this name are this export's. */
  pstName: string;
  mailbox: SourceMailbox;
  signal?: AbortSignal;
}

/** The checkpoint of one export (one mailbox into one PST name) kept in its destination. */
export class DestinationCheckpoint implements ExportCheckpoint {
  /** The manifest beside each part is the record: the run hands partFinished no ids. */
  readonly sourceIdsInManifests = true;
  private dirty = false;
  private buffered = 0;
  private readonly partPattern: RegExp;

  private constructor(private readonly options: DestinationCheckpointOptions, private readonly state: CheckpointState) {
    const { pstName } = options;
    this.partPattern = new RegExp(`^${escapeRegExp(pstName.slice(0, -4))}(?:-(\\d+))?${escapeRegExp(pstName.slice(-4))}${escapeRegExp(MANIFEST_SUFFIX)}$`);
  }

  /** The state object's name for a PST name. */
  static stateName(pstName: string): string {
    return pstName + STATE_SUFFIX;
  }

  /**
   * Loads the state (a fresh one when absent).
   * @throws ExportError "DestinationMismatch" when the state names another mailbox; StorageError
   */
  static async open(options: DestinationCheckpointOptions): Promise<DestinationCheckpoint> {
    const mailbox = manifestMailbox(options.mailbox);
    const bytes = await options.destination.getSmall(DestinationCheckpoint.stateName(options.pstName), options.signal);
    let state: CheckpointState = { version: 1, mailbox, currentErrors: [], lastErrors: [], deltaLinks: {} };
    if (bytes) {
      let parsed: CheckpointState | undefined;
      try {
        parsed = JSON.parse(Buffer.from(bytes).toString('utf8')) as CheckpointState;
      } catch { /* unreadable: start afresh, the manifests still tell the finished parts */ }
      if (parsed && parsed.version === 1 && parsed.mailbox) {
        if (!sameMailbox(parsed.mailbox, mailbox)) {
          throw new ExportError('DestinationMismatch', `${options.destination.location} holds an export named "${options.pstName}" of ${describe(parsed.mailbox)}, not of ${describe(mailbox)}: choose another --name or destination`);
        }
        state = { ...state, ...parsed, currentErrors: parsed.currentErrors ?? [], lastErrors: parsed.lastErrors ?? [], deltaLinks: parsed.deltaLinks ?? {} };
      }
    }
    return new DestinationCheckpoint(options, state);
  }

  private async save(): Promise<void> {
    const { destination, pstName, signal } = this.options;
    await destination.putSmall(DestinationCheckpoint.stateName(pstName), Buffer.from(JSON.stringify(this.state)), 'application/json', signal);
    this.dirty = false;
    this.buffered = 0;
  }

  /** The state as stored (a copy). */
  snapshot(): CheckpointState {
    return structuredClone(this.state);
  }

  async beginPass(pass: ExportPass): Promise<void> {
    this.state.currentPass = pass;
    this.state.currentErrors = [];
    await this.save();
  }

  async completePass(pass: ExportPass): Promise<void> {
    this.state.lastPass = pass;
    this.state.lastErrors = this.state.currentErrors;
    this.state.currentErrors = [];
    delete this.state.currentPass;
    await this.save();
  }

  /** @throws ExportError "DestinationMismatch" when a manifest of this name belongs to another mailbox */
  async finishedParts(): Promise<FinishedPart[]> {
    const { destination, pstName, signal } = this.options;
    const objects = await destination.list(pstName.slice(0, -4), signal);
    const sizes = new Map(objects.map((o) => [o.name, o.sizeBytes]));
    const parts: FinishedPart[] = [];
    for (const o of objects) {
      const m = this.partPattern.exec(o.name);
      if (!m) continue;
      const index = m[1] ? Number(m[1]) : 1;
      const bytes = await destination.getSmall(o.name, signal);
      const parsed = bytes && await parseManifestIds(bytes);
      if (!parsed) continue;
      const manifest = parsed.head;
      if (manifest.part.index !== index || `${manifest.part.name}${MANIFEST_SUFFIX}` !== o.name) continue;
      if (!sameMailbox(manifest.mailbox, this.state.mailbox)) {
        throw new ExportError('DestinationMismatch', `${destination.location} holds "${manifest.part.name}" of ${describe(manifest.mailbox)}, not of ${describe(this.state.mailbox)}: choose another --name or destination`);
      }
      if (sizes.get(manifest.part.name) !== manifest.part.sizeBytes) continue; // part gone or replaced: redo it
      parts.push(finishedPartOf(manifest, parsed.sourceIds));
    }
    return parts.sort((a, b) => a.index - b.index);
  }

  /** The manifest beside the part is the record; buffered errors are written now. */
  async partFinished(_part: FinishedPart): Promise<void> {
    if (this.dirty) await this.save();
  }

  async itemError(error: ExportItemError): Promise<void> {
    this.state.currentErrors.push(error);
    this.dirty = true;
    if (++this.buffered >= ERROR_FLUSH_COUNT) await this.save();
  }

  async lastPassErrors(): Promise<ExportItemError[]> {
    return [...this.state.lastErrors];
  }

  async deltaLinks(): Promise<Record<string, string>> {
    return { ...this.state.deltaLinks };
  }

  async saveDeltaLinks(links: Record<string, string>): Promise<void> {
    this.state.deltaLinks = { ...links };
    await this.save();
  }
}
