/**
 * Task pane entry: Office.onReady first (office/office.ts), then render inside FluentProvider
 * (App). The worker's origin is fixed at build time (`OUTPORT_API_BASE`, default: the pane's own
 * origin), never taken from the page URL, so a crafted link cannot send tokens elsewhere.
 */
import { createRoot } from 'react-dom/client';
import { App } from '../App';
import { startOffice } from '../office/office';

declare const OUTPORT_API_BASE: string;

async function main(): Promise<void> {
  const office = await startOffice();
  const container = document.getElementById('container');
  if (!container) throw new Error('taskpane.html has no #container');
  const signInPageUrl = new URL('signin.html', location.href).toString();
  createRoot(container).render(<App office={office} apiBase={OUTPORT_API_BASE} signInPageUrl={signInPageUrl} />);
}

void main();
