/**
 * Block sealing (ndb/seal-blocks.ts, ndb/sealer.ts): the sealing thread gives the same bytes as
 * sealing on the writer's thread, for every bCryptMethod; a bad seal list is refused with an error;
 * a process whose writer used the thread exits as soon as its work is done.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkPstSource } from '../../worker-service/src/pst/check';
import { CryptMethod } from '../../worker-service/src/pst/ndb/crypt';
import { SEAL_ENTRY, SEAL_PERMUTE, sealBlocks } from '../../worker-service/src/pst/ndb/seal-blocks';
import { BlockSealer, SealError } from '../../worker-service/src/pst/ndb/sealer';
import { NdbWriter } from '../../worker-service/src/pst/ndb/write-ndb';
import { NidType, makeNid } from '../../worker-service/src/pst/ndb/nid';
import { MemoryPstSink } from '../../worker-service/src/pst/sink';
import { PstReader } from '../../worker-service/src/pst/reader';
import { newMapiItem, PropertyBag } from '../../worker-service/src/mapi/item';
import { TAG } from '../../worker-service/src/mapi/tags';
import { PstWriter } from '../../worker-service/src/pst/writer';

/** NDB bytes of ~3 MB of data blocks (12 intervals: past the point where the thread is used). */
async function ndbBytes(cryptMethod: CryptMethod, seal: 'thread' | 'inline'): Promise<Buffer> {
  const sink = new MemoryPstSink();
  const ndb = new NdbWriter(sink, { cryptMethod, seal });
  for (let i = 0; i < 400; i++) {
    const data = Buffer.alloc(7000 + (i % 50), `block ${i} `);
    const bid = await ndb.writeDataTree([data]);
    ndb.addNode(makeNid(NidType.LTP, 0x100 + i), bid, 0, 0);
  }
  await ndb.close({ rgnid: new Uint32Array(32).fill(0x400) });
  return sink.bytes();
}

describe('sealing blocks in the sealing thread', () => {
  it.each([
    ['permute', CryptMethod.Permute],
    ['none', CryptMethod.None],
    ['cyclic', CryptMethod.Cyclic],
  ])('gives the same bytes as sealing inline (%s)', async (_name, crypt) => {
    const inline = await ndbBytes(crypt, 'inline');
    const before = BlockSealer.stats().intervalsSealed;
    const thread = await ndbBytes(crypt, 'thread');
    // cyclic blocks are sealed on the writer's thread; the others' intervals went through the thread
    if (crypt !== CryptMethod.Cyclic) expect(BlockSealer.stats().intervalsSealed - before).toBeGreaterThan(5);
    expect(thread.length).toBe(inline.length);
    expect(thread.equals(inline)).toBe(true);
    // and they are a valid NDB with valid block CRCs
    const report = await checkPstSource(inline);
    expect(report.findings.filter((f) => /Crc|Signature|Block/i.test(f.code))).toEqual([]);
  });

  it('writes PSTs that read back (messages across many intervals)', async () => {
    const sink = new MemoryPstSink();
    const w = PstWriter.open({ partName: 'sealed.pst', openSink: async () => sink });
    for (let n = 0; n < 60; n++) {
      const it = newMapiItem();
      it.properties.setTag(TAG.PidTagMessageClass, 'IPM.Note').setTag(TAG.PidTagSubject, `s${n}`).setTag(TAG.PidTagBody, `body ${n} `.repeat(900));
      it.attachments.push({ properties: new PropertyBag().setTag(TAG.PidTagAttachMethod, 1).setTag(TAG.PidTagAttachDataBinary, Buffer.alloc(60_000, n)) });
      await w.addItem([{ displayName: 'Inbox' }], it);
    }
    await w.close();
    expect((await checkPstSource(sink.bytes())).findings).toEqual([]);
    const r = await PstReader.openBytes(sink.bytes());
    let count = 0;
    for await (const f of r.folders()) for await (const it of r.items(f)) {
      const n = Number(String(it.properties.get(TAG.PidTagSubject.id)).slice(1));
      expect(it.properties.get(TAG.PidTagBody.id)).toBe(`body ${n} `.repeat(900));
      expect(Buffer.from(it.attachments[0].properties.get(TAG.PidTagAttachDataBinary.id) as Uint8Array).equals(Buffer.alloc(60_000, n))).toBe(true);
      count++;
    }
    await r.close();
    expect(count).toBe(60);
  });

  it('refuses a seal list that passes the interval, with an error', async () => {
    const sealer = BlockSealer.shared();
    expect(sealer).toBeDefined();
    const list = new Int32Array(SEAL_ENTRY).fill(0);
    list[0] = 1000;
    list[1] = 8176;
    expect(() => sealBlocks(new Uint8Array(4096), list, 1)).toThrow(/passes the interval/);
    // (seal transfers the list: it is unusable here afterwards)
    const refused = sealer!.seal(new Uint8Array(4096), list, 1);
    await expect(refused).rejects.toThrow(SealError);
    await expect(refused).rejects.toThrow(/sealing an interval failed: seal list entry 0 .* passes the interval/);
    // views of part of a buffer cannot be transferred
    await expect(sealer!.seal(new Uint8Array(8192).subarray(64), new Int32Array(3), 0)).rejects.toThrow(/whole ArrayBuffers/);
    // the thread still works after a refusal
    const buf = new Uint8Array(4096).fill(7);
    const ok = new Int32Array([0, 100, SEAL_PERMUTE]);
    const want = Uint8Array.from(buf);
    sealBlocks(want, Int32Array.from(ok), 1);
    const got = await sealer!.seal(buf, ok, 1);
    expect(Buffer.from(got.buf).equals(Buffer.from(want))).toBe(true);
  });

  it('does not keep a process alive once its PST is written', () => {
    const dir = mkdtempSync(join(tmpdir(), 'outport-sealer-'));
    try {
      const script = join(dir, 'write.ts');
      writeFileSync(script, `
        import { NdbWriter } from ${JSON.stringify(join(__dirname, '../../worker-service/src/pst/ndb/write-ndb'))};
        import { MemoryPstSink } from ${JSON.stringify(join(__dirname, '../../worker-service/src/pst/sink'))};
        (async () => {
          const ndb = new NdbWriter(new MemoryPstSink(), { cryptMethod: 1 });
          for (let i = 0; i < 300; i++) ndb.addNode(0x100 + i * 32 + 4, await ndb.writeDataTree([Buffer.alloc(8000, i)]), 0, 0);
          await ndb.close({ rgnid: new Uint32Array(32).fill(0x400) });
          const { BlockSealer } = require(${JSON.stringify(join(__dirname, '../../worker-service/src/pst/ndb/sealer'))});
          process.stdout.write(BlockSealer.stats().intervalsSealed > 0 ? 'written' : 'not sealed in the thread');
        })();
      `);
      const t0 = Date.now();
      const r = spawnSync(process.execPath, [join(__dirname, '../../bin/run-ts.js'), script], { encoding: 'utf8', timeout: 60_000 });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('written');
      expect(r.status).toBe(0);
      // the idle thread ends after 10 s; the process must not wait for that
      expect(Date.now() - t0).toBeLessThan(8000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
