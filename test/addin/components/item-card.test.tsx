/** @jest-environment jsdom */
/** Progress card: state, progress bar value, items, bytes, rate, ETA; parts as download links. */
import '../jsdom-setup';
import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { ItemCard } from '../../../addin/src/components/ItemCard';
import type { Item, ItemProgress } from '../../../addin/src/api/types';
import { renderFluent } from '../render';

const item: Item = { id: 'i1', projectId: 'p1', source: 'adele@contoso.com', mailbox: 'archive', pstName: 'adele-archive.pst', state: 'Running' };
const progress: ItemProgress = { itemId: 'i1', state: 'Running', folder: 'Inbox/Projects', itemsDone: 1234, itemsTotal: 5000, bytesDone: 256 * 1024 ** 2, bytesTotal: 1024 ** 3,
  itemsPerSecond: 40, bytesPerSecond: 12.5 * 1024 ** 2, etaSeconds: 3725, partsDone: 0, updatedAt: '2026-01-01T00:00:00Z' };
const api = { itemErrors: jest.fn(), parts: jest.fn() };

describe('ItemCard', () => {
  it('renders a running item: state, bar at 25 %, counts, rate, ETA, folder', () => {
    renderFluent(<ItemCard item={item} progress={progress} api={api} />);
    expect(screen.getByLabelText('State: Running')).toBeTruthy();
    const bar = screen.getByRole('progressbar');
    expect(bar.getAttribute('aria-valuenow')).toBe('0.25');
    expect(bar.getAttribute('aria-valuetext')).toBe('25%');
    expect(screen.getByText('1,234 of 5,000 items')).toBeTruthy();
    expect(screen.getByText('256 MB of 1 GB')).toBeTruthy();
    expect(screen.getByText('12.5 MB/s · 40 items/s')).toBeTruthy();
    expect(screen.getByText('ETA 1 h 02 min')).toBeTruthy();
    expect(screen.getByText('Inbox/Projects')).toBeTruthy();
    expect(screen.getByText('Archive → adele-archive.pst')).toBeTruthy();
  });

  it('a completed item lists its PST parts as links when the API gives urls, and its errors on demand', async () => {
    const user = userEvent.setup();
    api.parts.mockResolvedValue([{ name: 'adele-archive.pst', sizeBytes: 2 * 1024 ** 3, sha256: 'x', items: 5000, url: 'https://acct.blob.core.windows.net/outport/adele-archive.pst?sig=s' },
      { name: 'adele-archive-2.pst', sizeBytes: 1024, sha256: 'y', items: 3 }]);
    api.itemErrors.mockResolvedValue([{ code: 'ItemTooLarge', sourceId: 'm1', folderPath: 'Inbox', message: 'larger than 150 MB', at: '2026-01-01T00:00:00Z' }]);
    const done: Item = { ...item, state: 'CompletedWithErrors', statistics: { itemId: 'i1', source: item.source, mailbox: 'archive', state: 'CompletedWithErrors', itemsExported: 4999, bytesExported: 1, errors: 1, parts: 2, passes: 1, fidelity: { full: 4999, rest: 0 } } };
    renderFluent(<ItemCard item={done} progress={{ ...progress, state: 'CompletedWithErrors', itemsDone: 5000 }} api={api} />);
    expect(screen.getByLabelText('State: Completed with errors')).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'PST files' }));
    const link = await screen.findByRole('link', { name: 'adele-archive.pst' });
    expect(link.getAttribute('href')).toContain('sig=s');
    expect(screen.queryByRole('link', { name: 'adele-archive-2.pst' })).toBeNull();
    expect(screen.getByText('adele-archive-2.pst', { exact: false })).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'Errors (1)' }));
    expect((await screen.findByRole('list', { name: /Errors of/ })).textContent).toContain('ItemTooLarge in Inbox: larger than 150 MB');
  });
});
