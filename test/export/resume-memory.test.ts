/**
 * A resume's memory (docs/export.md "Memory"): the ids of the finished parts are kept for the run
 * as IdHashSet hashes (outside the JS heap), not as the strings the checkpoint read them as — a
 * resume of a part of a million items would otherwise hold ~100 MB of id strings under the
 * worker's 128 MiB heap cap for the whole run. The source still skips every finished id, and an id
 * it yields anyway is not written twice. A checkpoint that keeps no ids (the jobs backends) has
 * them read from the manifests in the destination.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { SourceEvent, SourceMailbox, SourceOptions } from '../../worker-service/src/graph/source-types';
import { MemoryCheckpoint } from '../../worker-service/src/export/checkpoint-memory';
import { runExport, type ExportSource } from '../../worker-service/src/export/run';
import type { FinishedPart } from '../../worker-service/src/export/types';
import { newMapiItem, type MapiItem } from '../../worker-service/src/mapi/item';
import { TAG } from '../../worker-service/src/mapi/tags';
import { MemoryDestination } from './memory-destination';
import { manifestIds } from './helpers';

const FINISHED = 200_000;
const path = [{ displayName: 'Inbox', containerClass: 'IPF.Note' }];

/** A Graph-like id of 150 one-byte characters, built afresh on every call (as a parsed manifest gives it). */
const graphId = (i: number): string => `AAMkAGI2TG93AAA=${String(i).padStart(8, '0')}`.padEnd(150, 'x');

/** A checkpoint whose one finished part of FINISHED items is read anew on each call, like DestinationCheckpoint's manifests. */
class ResumedCheckpoint extends MemoryCheckpoint {
  override async finishedParts(): Promise<FinishedPart[]> {
    return [{ name: 'big.pst', index: 1, sizeBytes: 1, sha256: '00'.repeat(32), pass: 'full', sourceIds: Array.from({ length: FINISHED }, (_, i) => graphId(i)) }];
  }
}

function mail(id: string): MapiItem {
  const it = newMapiItem();
  it.properties.setTag(TAG.PidTagMessageClass, 'IPM.Note').setTag(TAG.PidTagSubject, id.slice(0, 30));
  return it;
}

test('a resume keeps the finished parts\' ids as hashes: no id strings on the heap during the run, every finished id skipped, none written twice', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const heap = () => { gc(); return process.memoryUsage().heapUsed; };
  const fresh = ['new-1', 'new-2', 'new-3'];
  let skippedBySource = 0;
  let heapDuringRun = 0;
  const source: ExportSource = {
    async *items(_mb: SourceMailbox, options: SourceOptions = {}): AsyncGenerator<SourceEvent> {
      yield { kind: 'folder', path, folder: { id: 'f1', displayName: 'Inbox', wellKnownName: 'inbox', type: 'IPF.Note', totalItemCount: FINISHED + fresh.length } };
      for (let i = 0; i < FINISHED; i++) if (options.skipItemIds?.has(graphId(i))) skippedBySource++;
      heapDuringRun = heap();
      for (const id of fresh) yield { kind: 'item', path, item: mail(id), fidelity: 'full', sourceId: id, sizeBytes: 100 } as SourceEvent;
      // a source that ignores skipItemIds for one id: the run must not write it again
      yield { kind: 'item', path, item: mail(graphId(7)), fidelity: 'full', sourceId: graphId(7), sizeBytes: 100 } as SourceEvent;
      yield { kind: 'folderEnd', path, folderId: 'f1', removedIds: [], listed: FINISHED + fresh.length };
    },
  };
  const dest = new MemoryDestination();
  const before = heap();
  const result = await runExport({ mailbox: { user: 'lynne@example.com' }, pstName: 'big.pst', pass: 'full' }, { source, destination: dest, checkpoint: new ResumedCheckpoint() });

  expect(skippedBySource).toBe(FINISHED);
  expect(result).toMatchObject({ outcome: 'Completed', itemsExported: fresh.length, itemsSkipped: 1 });
  expect(result.parts.map((p) => p.index)).toEqual([2]);
  expect(await manifestIds(dest, result.parts.map((p) => p.name))).toEqual(fresh);
  const perId = (heapDuringRun - before) / FINISHED;
  // eslint-disable-next-line no-console
  console.log(`resume: ${perId.toFixed(1)} bytes of JS heap a finished id during the run (${FINISHED} ids; the strings alone are ~170)`);
  expect(perId).toBeLessThan(20);
});

/** A checkpoint that, like the jobs backends, keeps no ids: the manifests in the destination are their record. */
class ManifestRecordCheckpoint extends MemoryCheckpoint {
  readonly sourceIdsInManifests = true;
  readonly recorded: FinishedPart[] = [];
  override async partFinished(part: FinishedPart): Promise<void> {
    this.recorded.push(part);
    await super.partFinished(part);
  }
}

/** 60 items of ~40 KB (several parts at a 1 MiB split), honouring skipItemIds; counts what it skipped. */
function bodySource(ids: readonly string[], seen: { skipped: number }): ExportSource {
  return {
    async *items(_mb: SourceMailbox, options: SourceOptions = {}): AsyncGenerator<SourceEvent> {
      yield { kind: 'folder', path, folder: { id: 'f1', displayName: 'Inbox', wellKnownName: 'inbox', type: 'IPF.Note', totalItemCount: ids.length } };
      for (const id of ids) {
        if (options.skipItemIds?.has(id)) { seen.skipped++; continue; }
        const item = mail(id);
        item.properties.setTag(TAG.PidTagBody, `${id} `.repeat(8000));
        yield { kind: 'item', path, item, fidelity: 'full', sourceId: id, sizeBytes: 40_000 } as SourceEvent;
      }
      yield { kind: 'folderEnd', path, folderId: 'f1', removedIds: [], listed: ids.length };
    },
  };
}

describe('a checkpoint whose record is the manifest (sourceIdsInManifests, as the jobs backends)', () => {
  const ids = Array.from({ length: 60 }, (_, i) => `mid-${String(i).padStart(3, '0')}`);
  const request = { mailbox: { user: 'lynne@example.com' }, pstName: 'lynne.pst', pass: 'full' as const, splitSizeBytes: 1024 * 1024 };

  async function firstRun(): Promise<{ dest: MemoryDestination; checkpoint: ManifestRecordCheckpoint; partNames: string[] }> {
    const dest = new MemoryDestination();
    const checkpoint = new ManifestRecordCheckpoint();
    const first = await runExport(request, { source: bodySource(ids, { skipped: 0 }), destination: dest, checkpoint });
    expect(first).toMatchObject({ outcome: 'Completed', itemsExported: ids.length });
    expect(first.parts.length).toBeGreaterThanOrEqual(2);
    // the checkpoint got no ids, only the count
    expect(checkpoint.recorded.map((p) => [p.sourceIds.length, p.itemCount])).toEqual(first.parts.map((p) => [0, p.itemCount]));
    return { dest, checkpoint, partNames: first.parts.map((p) => p.name) };
  }

  test('a resume reads the finished parts\' ids from their manifests: every one skipped, nothing written again', async () => {
    const { dest, checkpoint, partNames } = await firstRun();
    dest.streamChunkBytes = 7; // the manifests arrive 7 bytes at a time: lines cut everywhere
    const seen = { skipped: 0 };
    const again = await runExport(request, { source: bodySource(ids, seen), destination: dest, checkpoint });
    expect(seen.skipped).toBe(ids.length);
    expect(again).toMatchObject({ outcome: 'Completed', itemsExported: 0, parts: [] });
    expect(await manifestIds(dest, partNames)).toEqual(ids);
  });

  test('a finished part whose manifest is missing or is another part\'s: FinishedPartUnreadable, naming the manifest and what to do, and nothing written', async () => {
    const { dest, checkpoint, partNames } = await firstRun();
    const second = `${partNames[1]}.manifest.json`;
    const kept = dest.objects.get(second)!;
    const before = dest.names().sort();
    await dest.delete(second);
    await expect(runExport(request, { source: bodySource(ids, { skipped: 0 }), destination: dest, checkpoint }))
      .rejects.toMatchObject({ code: 'FinishedPartUnreadable', message: expect.stringMatching(new RegExp(`part ${partNames[1]} is recorded as finished but its manifest ${second} is missing.*restore ${second}`)) });
    // another part's manifest in its place
    dest.objects.set(second, dest.objects.get(`${partNames[0]}.manifest.json`)!);
    await expect(runExport(request, { source: bodySource(ids, { skipped: 0 }), destination: dest, checkpoint }))
      .rejects.toMatchObject({ code: 'FinishedPartUnreadable', message: expect.stringContaining('describes another part') });
    dest.objects.set(second, kept);
    expect(dest.names().sort()).toEqual(before);
  });
});
