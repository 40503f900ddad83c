import { partIndexOf } from '../../worker-service/src/export/stale-parts';

describe('partIndexOf', () => {
  it.each([
    ['user1.pst', 'user1.pst', 1],
    ['user1.pst', 'USER1.PST', 1],
    ['user1.pst', 'user1-2.pst', 2],
    ['user1.pst', 'user1-12.pst', 12],
    ['user1.pst', 'user1-1.pst', undefined],
    ['user1.pst', 'user1-02.pst', undefined],
    ['user1.pst', 'user1-archive.pst', undefined],
    ['user1.pst', 'user1-2.pst.manifest.json', undefined],
    ['user1.pst', 'user10.pst', undefined],
    ['user1-archive.pst', 'user1-archive-3.pst', 3],
  ])('%s / %s → %s', (first, name, index) => {
    expect(partIndexOf(first, name)).toBe(index);
  });
});
