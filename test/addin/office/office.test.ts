/**
 * The Office adapter over office-addin-mock's Office object: requirement sets, the theme from
 * Office.context.officeTheme, and displayDialogAsync turned into a promise with typed errors
 * (the dialog's message, the user closing it: 12006, a blocked popup: 12011).
 */
import { OfficeMockObject } from 'office-addin-mock';
import { OfficeError, createOfficeHost, luminance, officeErrorFrom, themeFromOffice, type OfficeNamespace } from '../../../addin/src/office/office';

type Handler = (arg: unknown) => void;

function mockOffice(opts: { theme?: Record<string, unknown>; sets?: Record<string, string>; dialog?: 'ok' | number }) {
  const handlers: Record<string, Handler> = {};
  let closed = 0;
  const data = {
    AsyncResultStatus: { Succeeded: 'succeeded', Failed: 'failed' },
    EventType: { DialogMessageReceived: 'dialogMessageReceived', DialogEventReceived: 'dialogEventReceived' },
    context: {
      officeTheme: opts.theme ?? {},
      requirements: { isSetSupported: (name: string, v: string) => !!opts.sets && name in opts.sets && Number(opts.sets[name]) >= Number(v) },
      ui: {
        displayDialogAsync: (url: string, _o: unknown, cb: (r: unknown) => void) => {
          if (opts.dialog !== 'ok') { cb({ status: 'failed', error: { code: opts.dialog, message: 'failed' } }); return; }
          cb({ status: 'succeeded', value: { addEventHandler: (type: string, h: Handler) => { handlers[type] = h; }, close: () => { closed += 1; } } });
          void url;
        },
      },
    },
  };
  // Outlook mode: properties read directly, no load()/sync() (office-addin-mock README).
  const office = new OfficeMockObject(data, 'outlook' as never) as unknown as OfficeNamespace;
  return { office, handlers, closed: () => closed };
}

describe('office adapter', () => {
  it('reports requirement sets through Office.context.requirements', () => {
    const { office } = mockOffice({ sets: { NestedAppAuth: '1.1', Mailbox: '1.13' } });
    const host = createOfficeHost(office, 'Outlook');
    expect(host.host).toBe('Outlook');
    expect(host.isSetSupported('NestedAppAuth', '1.1')).toBe(true);
    expect(host.isSetSupported('Mailbox', '1.14')).toBe(false);
  });

  it('outside Office: no host, no requirement sets, dialogs refused with NotInOffice', async () => {
    const host = createOfficeHost(undefined, null);
    expect(host.host).toBeNull();
    expect(host.isSetSupported('NestedAppAuth', '1.1')).toBe(false);
    await expect(host.openDialog('https://a/s.html')).rejects.toMatchObject({ name: 'OfficeError', code: 'NotInOffice' });
  });

  it('takes the theme from officeTheme: dark body → dark, light body → light, isDarkTheme wins', () => {
    expect(createOfficeHost(mockOffice({ theme: { bodyBackgroundColor: '#1f1f1f' } }).office, 'Outlook').theme()).toBe('dark');
    expect(createOfficeHost(mockOffice({ theme: { bodyBackgroundColor: '#FFFFFF' } }).office, 'Outlook').theme()).toBe('light');
    expect(themeFromOffice({ bodyBackgroundColor: '#ffffff', isDarkTheme: true })).toBe('dark');
    expect(themeFromOffice({ bodyBackgroundColor: 'not a colour' })).toBeUndefined();
    expect(luminance('#000000')).toBe(0);
    expect(luminance('#ffffff')).toBeCloseTo(1);
  });

  it('openDialog resolves with a handle whose message is the first messageParent string', async () => {
    const m = mockOffice({ dialog: 'ok' });
    const handle = await createOfficeHost(m.office, 'Outlook').openDialog('https://a/s.html');
    m.handlers.dialogMessageReceived({ message: '{"ok":true}' });
    await expect(handle.message).resolves.toBe('{"ok":true}');
    handle.close();
    expect(m.closed()).toBe(1);
  });

  it('the user closing the dialog rejects its message with DialogClosed (12006)', async () => {
    const m = mockOffice({ dialog: 'ok' });
    const handle = await createOfficeHost(m.office, 'Outlook').openDialog('https://a/s.html');
    m.handlers.dialogEventReceived({ error: 12006 });
    await expect(handle.message).rejects.toMatchObject({ code: 'DialogClosed', officeCode: 12006 });
  });

  it.each([[12011, 'DialogBlocked'], [12007, 'DialogAlreadyOpen'], [12004, 'DialogUntrusted'], [5001, 'OfficeFailed']])('displayDialogAsync failing with %i → OfficeError %s', async (code, expected) => {
    const e = await createOfficeHost(mockOffice({ dialog: code }).office, 'Outlook').openDialog('https://a/s.html').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OfficeError);
    expect(e).toMatchObject({ code: expected, officeCode: code });
    expect(officeErrorFrom(code, 'x').code).toBe(expected);
  });
});
