/** @jest-environment jsdom */
/**
 * Admin user search: type-ahead after the debounce, results in a DataGrid with check boxes, a
 * selection that survives a new search, keyboard selection (Space on a focused check box), and
 * removal from the chosen list.
 */
import '../jsdom-setup';
import { act, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useState } from 'react';
import { SEARCH_DEBOUNCE_MS, UserPicker } from '../../../addin/src/components/UserPicker';
import type { User } from '../../../addin/src/api/types';
import { renderFluent } from '../render';

const USERS: User[] = [
  { id: 'u1', displayName: 'Adele Vance', mail: 'adele@contoso.com', userPrincipalName: 'adele@contoso.com' },
  { id: 'u2', displayName: 'Alex Wilber', mail: 'alex@contoso.com', userPrincipalName: 'alex@contoso.com' },
  { id: 'u3', displayName: 'Allan Deyoung', mail: null, userPrincipalName: 'allan@contoso.com' },
  { id: 'u4', displayName: 'Megan Bowen', mail: 'megan@contoso.com', userPrincipalName: 'megan@contoso.com' },
];

function setup() {
  const searches: string[] = [];
  const api = { searchUsers: jest.fn(async (q: string) => { searches.push(q); return USERS.filter((u) => u.displayName.toLowerCase().includes(q.toLowerCase())); }) };
  let latest: User[] = [];
  function Harness(): JSX.Element {
    const [sel, setSel] = useState<User[]>([]);
    latest = sel;
    return <UserPicker api={api} selected={sel} onChange={setSel} />;
  }
  renderFluent(<Harness />);
  return { searches, selected: () => latest };
}

async function search(user: ReturnType<typeof userEvent.setup>, text: string): Promise<void> {
  const box = screen.getByRole('searchbox');
  await user.clear(box);
  await user.type(box, text);
  await act(async () => { jest.advanceTimersByTime(SEARCH_DEBOUNCE_MS + 10); });
}

describe('UserPicker', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('searches once after typing stops, and multi-selects in the grid', async () => {
    const user = userEvent.setup({ advanceTimers: jest.advanceTimersByTime });
    const { searches, selected } = setup();
    await search(user, 'al');
    expect(searches).toEqual(['al']);
    const grid = await screen.findByRole('grid', { name: 'Search results' });
    expect(within(grid).getByText('Allan Deyoung')).toBeTruthy();
    expect(within(grid).getByText('allan@contoso.com')).toBeTruthy(); // UPN when mail is null
    await user.click(within(grid).getByRole('checkbox', { name: 'Select Alex Wilber' }));
    await user.click(within(grid).getByRole('checkbox', { name: 'Select Allan Deyoung' }));
    expect(selected().map((u) => u.id)).toEqual(['u2', 'u3']);
    expect(screen.getByText('2 selected')).toBeTruthy();
    expect(within(grid).getAllByRole('row').filter((r) => r.getAttribute('aria-selected') === 'true')).toHaveLength(2);
  });

  it('keeps the selection across searches; the keyboard selects with Space; chosen users can be removed', async () => {
    const user = userEvent.setup({ advanceTimers: jest.advanceTimersByTime });
    const { selected } = setup();
    await search(user, 'al');
    await user.click(within(await screen.findByRole('grid')).getByRole('checkbox', { name: 'Select Alex Wilber' }));
    await search(user, 'megan');
    const grid = await screen.findByRole('grid');
    await within(grid).findByText('Megan Bowen');
    const box = within(grid).getByRole('checkbox', { name: 'Select Megan Bowen' });
    box.focus();
    await user.keyboard(' ');
    expect(selected().map((u) => u.id).sort()).toEqual(['u2', 'u4']);
    await user.click(within(screen.getByRole('toolbar', { name: 'Selected users' })).getByRole('button', { name: /Alex Wilber/ }));
    expect(selected().map((u) => u.id)).toEqual(['u4']);
  });

  it('one letter does not search; no match says so', async () => {
    const user = userEvent.setup({ advanceTimers: jest.advanceTimersByTime });
    const { searches } = setup();
    await search(user, 'a');
    expect(searches).toEqual([]);
    await search(user, 'zz');
    expect(await screen.findByText('No users match "zz".')).toBeTruthy();
  });
});
