/**
 * The only module that touches Office.js (STYLE.md "The add-in"). It turns the `*Async` callback
 * APIs into promises that reject with {@link OfficeError} (never a string thrown inside a
 * callback), and exposes what the pane needs: the host, requirement sets, the theme and dialogs.
 * Office.js itself comes from the CDN `<script>` in taskpane.html
 * (https://appsforoffice.microsoft.com/lib/1/hosted/office.js); outside Office, `Office.onReady`
 * resolves with host null and this adapter reports no host, no requirement sets and the system theme.
 */

/** Stable codes of {@link OfficeError}. */
export type OfficeErrorCode =
  | 'NotInOffice'        // the API needs a host and the pane runs in a plain browser
  | 'DialogBlocked'      // 12009 the user ignored the prompt / 12011 the browser blocked the popup
  | 'DialogAlreadyOpen'  // 12007
  | 'DialogUntrusted'    // 12004 the URL's domain is not in AppDomains / 12005 not https
  | 'DialogClosed'       // 12006 the user closed the dialog
  | 'OfficeFailed';      // any other Office error; `officeCode` keeps its number

/** An Office.js failure with a stable code and the Office error number when there was one. */
export class OfficeError extends Error {
  constructor(readonly code: OfficeErrorCode, message: string, readonly officeCode?: number) {
    super(message);
    this.name = 'OfficeError';
  }
}

/** Light or dark, as the pane should draw itself. */
export type ThemeKind = 'light' | 'dark';

/** An open Office dialog: the first message it sends to the parent, and close. */
export interface DialogHandle {
  /** Resolves with the first `messageParent` string; rejects OfficeError "DialogClosed" when the user closes it. */
  readonly message: Promise<string>;
  close(): void;
}

/** What the pane uses of Office; components receive it through context (tests pass a fake). */
export interface OfficeHost {
  /** "Outlook" inside Outlook; null in a plain browser. */
  readonly host: string | null;
  /** `Office.context.requirements.isSetSupported(name, version)`; false outside Office. */
  isSetSupported(name: string, version: string): boolean;
  /** Office's theme (`Office.context.officeTheme`), or the system's colour scheme outside Office. */
  theme(): ThemeKind;
  /** Opens `url` (same domain as the pane, https) in an Office dialog; sizes in percent of the screen. */
  openDialog(url: string, size?: { heightPercent?: number; widthPercent?: number }): Promise<DialogHandle>;
}

/** The parts of the Office namespace this adapter reads (typed from @types/office-js). */
export type OfficeNamespace = Pick<typeof Office, 'context' | 'EventType' | 'AsyncResultStatus'>;

const DIALOG_CODES: Record<number, [OfficeErrorCode, string]> = {
  12004: ['DialogUntrusted', 'The sign-in page is not on a domain the add-in trusts (AppDomains in manifest.xml).'],
  12005: ['DialogUntrusted', 'The sign-in page must be served over https.'],
  12006: ['DialogClosed', 'The sign-in window was closed before sign-in finished.'],
  12007: ['DialogAlreadyOpen', 'A sign-in window is already open: finish or close it first.'],
  12009: ['DialogBlocked', 'The sign-in window was not allowed to open. Allow it and try again.'],
  12011: ['DialogBlocked', 'The browser blocked the sign-in window. Allow pop-ups for Outlook and try again.'],
};

/** Maps an Office error number to an OfficeError. */
export function officeErrorFrom(code: number, fallbackMessage: string): OfficeError {
  const known = DIALOG_CODES[code];
  return known ? new OfficeError(known[0], known[1], code) : new OfficeError('OfficeFailed', `${fallbackMessage} (Office error ${code})`, code);
}

/** Relative luminance of a "#rrggbb" colour, 0 (black) .. 1 (white) (WCAG 2 definition). */
export function luminance(hex: string): number | undefined {
  const m = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex.trim());
  if (!m) return undefined;
  const lin = (c: number): number => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(parseInt(m[1], 16)) + 0.7152 * lin(parseInt(m[2], 16)) + 0.0722 * lin(parseInt(m[3], 16));
}

/** Dark when Office says so (`isDarkTheme`) or its body background is dark. */
export function themeFromOffice(theme: { bodyBackgroundColor?: string; isDarkTheme?: boolean } | undefined): ThemeKind | undefined {
  if (!theme) return undefined;
  if (typeof theme.isDarkTheme === 'boolean') return theme.isDarkTheme ? 'dark' : 'light';
  const l = theme.bodyBackgroundColor ? luminance(theme.bodyBackgroundColor) : undefined;
  return l === undefined ? undefined : l < 0.4 ? 'dark' : 'light';
}

function systemTheme(): ThemeKind {
  return typeof window !== 'undefined' && window.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

/**
 * The adapter over an Office namespace (the real one after `Office.onReady`, or office-addin-mock's).
 * @param office  the Office namespace; undefined outside Office
 * @param host    `info.host` from Office.onReady (null outside Office)
 */
export function createOfficeHost(office: OfficeNamespace | undefined, host: string | null): OfficeHost {
  const inOffice = !!office && host !== null;
  return {
    host: inOffice ? host : null,
    isSetSupported(name, version) {
      if (!inOffice) return false;
      try {
        return office!.context.requirements.isSetSupported(name, version);
      } catch {
        return false;
      }
    },
    theme() {
      if (inOffice) {
        const t = themeFromOffice(office!.context.officeTheme as { bodyBackgroundColor?: string; isDarkTheme?: boolean } | undefined);
        if (t) return t;
      }
      return systemTheme();
    },
    openDialog(url, size = {}) {
      if (!inOffice) return Promise.reject(new OfficeError('NotInOffice', 'Office dialogs are only available inside Outlook.'));
      return new Promise<DialogHandle>((resolve, reject) => {
        office!.context.ui.displayDialogAsync(url, { height: size.heightPercent ?? 60, width: size.widthPercent ?? 30, promptBeforeOpen: false }, (result) => {
          if (result.status !== office!.AsyncResultStatus.Succeeded) {
            reject(officeErrorFrom(result.error?.code ?? -1, result.error?.message ?? 'The dialog could not be opened'));
            return;
          }
          const dialog = result.value;
          let settle: { resolve: (m: string) => void; reject: (e: Error) => void } | undefined;
          const message = new Promise<string>((res, rej) => { settle = { resolve: res, reject: rej }; });
          message.catch(() => undefined); // a rejection nobody awaited must not be unhandled
          dialog.addEventHandler(office!.EventType.DialogMessageReceived, (arg) => {
            const a = arg as { message?: string };
            settle?.resolve(String(a.message ?? ''));
          });
          dialog.addEventHandler(office!.EventType.DialogEventReceived, (arg) => {
            const a = arg as { error?: number };
            settle?.reject(officeErrorFrom(a.error ?? 12006, 'The dialog reported an error'));
          });
          resolve({ message, close: () => dialog.close() });
        });
      });
    },
  };
}

/**
 * Waits for Office.js (`Office.onReady`) and returns the adapter. Without the CDN script (a plain
 * page, a test) it resolves with a host-less adapter instead of hanging.
 */
export async function startOffice(): Promise<OfficeHost> {
  const office = (globalThis as { Office?: typeof Office }).Office;
  if (!office?.onReady) return createOfficeHost(undefined, null);
  const info = await office.onReady();
  return createOfficeHost(office, info?.host ? String(info.host) : null);
}

/** Inside the sign-in dialog: sends one string to the task pane (`Office.context.ui.messageParent`). */
export async function messageParent(message: string): Promise<void> {
  const office = (globalThis as { Office?: typeof Office }).Office;
  if (!office?.onReady) throw new OfficeError('NotInOffice', 'This page must be opened by the Outport add-in.');
  await office.onReady();
  office.context.ui.messageParent(message);
}
