import { MemoryByteSource } from '../../worker-service/src/pst/ndb/read-source';

describe('MemoryByteSource', () => {
  it('returns copies, also over a Node Buffer, so in-place block decoding never touches the source', async () => {
    const buffer = Buffer.from([1, 2, 3, 4, 5, 6]);
    const source = new MemoryByteSource(buffer);
    const read = await source.read(1, 3);
    read[0] = 99;
    expect([...buffer]).toEqual([1, 2, 3, 4, 5, 6]);
    const again = await source.read(1, 3);
    expect([...again]).toEqual([2, 3, 4]);
  });
});
