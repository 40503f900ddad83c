/** @jest-environment jsdom */
/**
 * Destination form: messages appear under the field once it was left (or after a submit attempt),
 * worded as the API words them; the API's own `field` errors show under the same field; the SAS
 * choice swaps the fields; keyboard order follows the form.
 */
import '../jsdom-setup';
import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useState } from 'react';
import { DestinationForm, EMPTY_DESTINATION } from '../../../addin/src/components/DestinationForm';
import type { DestinationDraft } from '../../../addin/src/validate/destination';
import { renderFluent } from '../render';

function Harness({ showAll, serverErrors, onValue }: { showAll?: boolean; serverErrors?: Record<string, string>; onValue?: (d: DestinationDraft) => void }): JSX.Element {
  const [v, setV] = useState(EMPTY_DESTINATION);
  return <DestinationForm value={v} onChange={(d) => { setV(d); onValue?.(d); }} showAll={showAll} serverErrors={serverErrors} />;
}

describe('DestinationForm', () => {
  it('shows nothing before a field is left, then the API\'s message for capitals', async () => {
    const user = userEvent.setup();
    renderFluent(<Harness />);
    const name = screen.getByRole('textbox', { name: /Storage account name/ });
    await user.type(name, 'ContosoPST');
    expect(screen.queryByText(/Capital letters/)).toBeNull();
    await user.tab();
    expect(screen.getByText(/Capital letters are not allowed in a storage account name: use "contosopst"/)).toBeTruthy();
    expect(name.getAttribute('aria-invalid')).toBe('true');
    await user.clear(name);
    await user.type(name, 'contosopst');
    expect(screen.queryByText(/Capital letters/)).toBeNull();
  });

  it('after a submit attempt problems show without leaving fields, in the API\'s order (account first, then key)', async () => {
    const user = userEvent.setup();
    renderFluent(<Harness showAll />);
    expect(screen.getByText(/must be 3-24 characters long \(got 0\)/i)).toBeTruthy();
    // The API checks the key once the account name is valid; the pane shows what the API would say.
    expect(screen.queryByText(/is not a base64 account key/i)).toBeNull();
    await user.type(screen.getByRole('textbox', { name: /Storage account name/ }), 'contosopst');
    expect(screen.getByText(/is not a base64 account key/i)).toBeTruthy();
  });

  it('a 400 from the API with field destination.container shows under Container', () => {
    renderFluent(<Harness serverErrors={{ 'destination.container': 'The container exists and was not created by Outport.' }} />);
    const container = screen.getByRole('textbox', { name: /^Container/ });
    expect(container.getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByText('The container exists and was not created by Outport.')).toBeTruthy();
  });

  it('SAS URL replaces name, key and cloud; a URL without sig is refused inline', async () => {
    const user = userEvent.setup();
    renderFluent(<Harness />);
    await user.click(screen.getByRole('radio', { name: 'SAS URL' }));
    expect(screen.queryByRole('textbox', { name: /Storage account name/ })).toBeNull();
    expect(screen.queryByRole('combobox', { name: /Storage cloud/ })).toBeNull();
    const sas = screen.getByLabelText(/Container SAS URL/);
    await user.type(sas, 'https://acct.blob.core.windows.net/outport?sv=2024-01-01');
    await user.tab();
    expect(screen.getByText(/has no signature/i)).toBeTruthy();
  });

  it('the custom cloud asks for the blob endpoint; keyboard order is name, key, container, cloud', async () => {
    const user = userEvent.setup();
    const seen: DestinationDraft[] = [];
    renderFluent(<Harness onValue={(d) => seen.push(d)} />);
    await user.click(screen.getByRole('textbox', { name: /Storage account name/ }));
    await user.tab();
    expect(document.activeElement).toBe(screen.getByLabelText(/^Account key/));
    await user.tab();
    expect(document.activeElement).toBe(screen.getByRole('textbox', { name: /^Container/ }));
    await user.tab();
    expect(document.activeElement).toBe(screen.getByRole('combobox', { name: /Storage cloud/ }));
    await user.selectOptions(screen.getByRole('combobox', { name: /Storage cloud/ }), 'custom');
    expect(screen.getByRole('textbox', { name: /Blob endpoint/ })).toBeTruthy();
    expect(seen.at(-1)?.storageCloud).toBe('custom');
  });
});
