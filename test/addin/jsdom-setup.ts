/**
 * What jsdom lacks for Fluent UI (FACTS.md "Office add-in conventions"): ResizeObserver (MessageBar,
 * DataGrid), matchMedia (the pane's system theme), and TextEncoder/TextDecoder on older jsdom.
 * Imported first by every jsdom test of the add-in.
 */
import { TextDecoder, TextEncoder } from 'node:util';

const g = globalThis as Record<string, unknown>;
if (!g.ResizeObserver) {
  g.ResizeObserver = class {
    observe(): void { /* nothing resizes in jsdom */ }
    unobserve(): void { /* idem */ }
    disconnect(): void { /* idem */ }
  };
}
if (typeof window !== 'undefined' && !window.matchMedia) {
  Object.defineProperty(window, 'matchMedia', {
    value: (query: string) => ({ matches: false, media: query, onchange: null, addListener() {}, removeListener() {}, addEventListener() {}, removeEventListener() {}, dispatchEvent: () => false }),
  });
}
if (!g.TextEncoder) g.TextEncoder = TextEncoder;
if (!g.TextDecoder) g.TextDecoder = TextDecoder;

// The machine running the suite may be busy: give findBy*/waitFor more than the default 1 s.
// eslint-disable-next-line @typescript-eslint/no-var-requires
(require('@testing-library/react') as typeof import('@testing-library/react')).configure({ asyncUtilTimeout: 10_000 });
