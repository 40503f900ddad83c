/**
 * An {@link ExportCheckpoint} kept in memory: for tests and for one-process runs that need no
 * crash safety. The pass bookkeeping follows the contract in export/types.ts: errors of the
 * current pass are forgotten when a pass begins again and become `lastPassErrors` when it completes.
 */
import type { ExportCheckpoint, ExportItemError, ExportPass, FinishedPart } from './types';

/** In-memory checkpoint; `snapshot()` exposes its state to tests. */
export class MemoryCheckpoint implements ExportCheckpoint {
  private parts: FinishedPart[] = [];
  private currentErrors: ExportItemError[] = [];
  private lastErrors: ExportItemError[] = [];
  private links: Record<string, string> = {};
  private currentPass?: ExportPass;
  /** Passes completed, in order. */
  readonly completedPasses: ExportPass[] = [];

  async beginPass(pass: ExportPass): Promise<void> {
    this.currentPass = pass;
    this.currentErrors = [];
  }
  async completePass(pass: ExportPass): Promise<void> {
    this.lastErrors = this.currentErrors;
    this.currentErrors = [];
    this.currentPass = undefined;
    this.completedPasses.push(pass);
  }
  async finishedParts(): Promise<FinishedPart[]> {
    return [...this.parts].sort((a, b) => a.index - b.index);
  }
  async partFinished(part: FinishedPart): Promise<void> {
    this.parts = this.parts.filter((p) => p.index !== part.index);
    this.parts.push({ ...part, sourceIds: [...part.sourceIds] });
  }
  async itemError(error: ExportItemError): Promise<void> {
    this.currentErrors.push({ ...error });
  }
  async lastPassErrors(): Promise<ExportItemError[]> {
    return [...this.lastErrors];
  }
  async deltaLinks(): Promise<Record<string, string>> {
    return { ...this.links };
  }
  async saveDeltaLinks(links: Record<string, string>): Promise<void> {
    this.links = { ...links };
  }
  /** The state, for assertions. */
  snapshot(): { parts: FinishedPart[]; currentPass?: ExportPass; currentErrors: ExportItemError[]; lastErrors: ExportItemError[]; deltaLinks: Record<string, string> } {
    return { parts: [...this.parts], currentPass: this.currentPass, currentErrors: [...this.currentErrors], lastErrors: [...this.lastErrors], deltaLinks: { ...this.links } };
  }
}
