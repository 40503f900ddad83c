/**
 * manifest.xml, offline (office-addin-manifest validate needs Microsoft's online service):
 * well-formed (xmllint --noout), elements in the order Microsoft documents ("How to find the proper
 * order of manifest elements"; MS-OWEMXML VersionOverridesV1_0/V1_1 and WebApplicationInfo
 * sequences), every resid defined, string limits, the least permission, and every URL pointing at a
 * file the webpack build writes (HtmlWebpackPlugin pages and addin/assets icons).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { JSDOM } from 'jsdom';
import { describeWhenAvailable } from '../pst/shared-samples';

const ROOT = path.resolve(__dirname, '..', '..');
const MANIFEST = path.join(ROOT, 'manifest.xml');
const ORIGIN = 'https://localhost:3000';
const xml = readFileSync(MANIFEST, 'utf8');
const doc = new JSDOM(xml, { contentType: 'application/xml' }).window.document;

const children = (el: Element): Element[] => Array.from(el.children);
const names = (el: Element): string[] => children(el).map((c) => c.tagName);
const one = (el: Element, tag: string): Element => {
  const found = children(el).filter((c) => c.tagName === tag);
  if (found.length !== 1) throw new Error(`<${el.tagName}> has ${found.length} <${tag}>`);
  return found[0];
};

/** True when `actual` lists only names of `documented`, in its order (optional ones may be missing). */
function inDocumentedOrder(actual: string[], documented: string[]): boolean {
  let k = 0;
  for (const n of actual) {
    while (k < documented.length && documented[k] !== n) k++;
    if (k === documented.length) return false;
  }
  return true;
}

const ORDER = {
  OfficeApp: ['Id', 'AlternateId', 'Version', 'ProviderName', 'DefaultLocale', 'DisplayName', 'Description', 'IconUrl', 'HighResolutionIconUrl',
    'SupportUrl', 'AppDomains', 'Hosts', 'Requirements', 'FormSettings', 'Permissions', 'Rule', 'DisableEntityHighlighting', 'VersionOverrides'],
  VersionOverridesV1_0: ['Description', 'Requirements', 'Hosts', 'Resources', 'VersionOverrides'],
  VersionOverridesV1_1: ['Description', 'Requirements', 'Hosts', 'Resources', 'EquivalentAddins', 'WebApplicationInfo', 'ExtendedPermissions'],
  DesktopFormFactor: ['SupportsSharedFolders', 'FunctionFile', 'ExtensionPoint'],
  Button: ['Label', 'Supertip', 'Icon', 'Action'],
  MobileButton: ['Label', 'Icon', 'Action'],
  Resources: ['bt:Images', 'bt:Urls', 'bt:ShortStrings', 'bt:LongStrings'],
  WebApplicationInfo: ['Id', 'Resource', 'Scopes'],
  ShowTaskpane: ['SourceLocation', 'SupportsPinning'],
};

const root = doc.documentElement;
const v10 = one(root, 'VersionOverrides');
const v11 = one(v10, 'VersionOverrides');

describeWhenAvailable('manifest.xml is well-formed (xmllint)', spawnSync('xmllint', ['--version']).status === 0 ? [] : ['xmllint (Debian libxml2-utils)'], () => {
  it('xmllint --noout accepts it', () => {
    const r = spawnSync('xmllint', ['--noout', MANIFEST], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('manifest.xml', () => {
  it('is a MailApp whose top-level elements follow the documented order', () => {
    expect(root.tagName).toBe('OfficeApp');
    expect(root.getAttribute('xsi:type')).toBe('MailApp');
    expect(names(root)).toEqual(ORDER.OfficeApp.filter((n) => names(root).includes(n)));
    expect(inDocumentedOrder(names(root), ORDER.OfficeApp)).toBe(true);
    expect(inDocumentedOrder(['Version', 'Id'], ORDER.OfficeApp)).toBe(false); // the check can fail
    for (const required of ['Id', 'Version', 'ProviderName', 'DefaultLocale', 'DisplayName', 'Description', 'IconUrl', 'SupportUrl', 'Hosts', 'Requirements', 'FormSettings', 'Permissions', 'Rule']) {
      expect(names(root)).toContain(required);
    }
  });

  it('asks for the least permission (Restricted: the pane reads no item) and Mailbox 1.1 at base', () => {
    expect(one(root, 'Permissions').textContent).toBe('Restricted');
    const set = one(one(one(root, 'Requirements'), 'Sets'), 'Set');
    expect([set.getAttribute('Name'), set.getAttribute('MinVersion')]).toEqual(['Mailbox', '1.1']);
  });

  it('VersionOverrides 1.0 holds a 1.1 (Mailbox 1.3 and 1.5), each in documented order', () => {
    expect(v10.getAttribute('xsi:type')).toBe('VersionOverridesV1_0');
    expect(v10.getAttribute('xmlns')).toBe('http://schemas.microsoft.com/office/mailappversionoverrides');
    expect(v11.getAttribute('xsi:type')).toBe('VersionOverridesV1_1');
    expect(v11.getAttribute('xmlns')).toBe('http://schemas.microsoft.com/office/mailappversionoverrides/1.1');
    expect(inDocumentedOrder(names(v10), ORDER.VersionOverridesV1_0)).toBe(true);
    expect(inDocumentedOrder(names(v11), ORDER.VersionOverridesV1_1)).toBe(true);
    const min = (vo: Element) => one(one(vo, 'Requirements'), 'bt:Sets').getAttribute('DefaultMinVersion');
    expect([min(v10), min(v11)]).toEqual(['1.3', '1.5']);
    for (const vo of [v10, v11]) {
      expect(inDocumentedOrder(names(one(vo, 'Resources')), ORDER.Resources)).toBe(true);
      for (const el of Array.from(vo.getElementsByTagName('DesktopFormFactor'))) expect(inDocumentedOrder(names(el), ORDER.DesktopFormFactor)).toBe(true);
      for (const el of Array.from(vo.getElementsByTagName('Control'))) {
        expect(inDocumentedOrder(names(el), ORDER[el.getAttribute('xsi:type') as 'Button' | 'MobileButton'])).toBe(true);
      }
      for (const el of Array.from(vo.getElementsByTagName('Action'))) expect(inDocumentedOrder(names(el), ORDER.ShowTaskpane)).toBe(true);
    }
  });

  it('has an "Export to PST" button on MessageReadCommandSurface that opens the task pane (desktop and mobile)', () => {
    for (const vo of [v10, v11]) {
      const points = Array.from(vo.getElementsByTagName('ExtensionPoint')).filter((e) => e.closest('VersionOverrides') === vo && e.getAttribute('xsi:type') === 'MessageReadCommandSurface');
      expect(points).toHaveLength(1);
      expect(one(points[0].parentElement!, 'FunctionFile').getAttribute('resid')).toBe('Commands.Url');
      const button = points[0].getElementsByTagName('Control')[0];
      const label = one(button, 'Label').getAttribute('resid')!;
      const strings = Array.from(one(vo, 'Resources').getElementsByTagName('bt:String'));
      expect(strings.find((s) => s.getAttribute('id') === label)?.getAttribute('DefaultValue')).toBe('Export to PST');
      expect(one(button, 'Action').getAttribute('xsi:type')).toBe('ShowTaskpane');
    }
    const mobile = Array.from(v11.getElementsByTagName('ExtensionPoint')).filter((e) => e.getAttribute('xsi:type') === 'MobileMessageReadCommandSurface');
    expect(mobile).toHaveLength(1);
    const sizes = Array.from(mobile[0].getElementsByTagName('bt:Image')).map((i) => `${i.getAttribute('size')}@${i.getAttribute('scale')}`);
    expect(sizes).toEqual(['25@1', '25@2', '25@3', '32@1', '32@2', '32@3', '48@1', '48@2', '48@3']);
  });

  it('every resid names a resource of its VersionOverrides; short strings ≤ 125, long ≤ 250 characters', () => {
    for (const vo of [v10, v11]) {
      const res = one(vo, 'Resources');
      const ids = new Set(Array.from(res.querySelectorAll('*')).map((e) => e.getAttribute('id')).filter(Boolean));
      const own = Array.from(vo.querySelectorAll('[resid]')).filter((e) => e.closest('VersionOverrides') === vo || vo === v11);
      expect(own.length).toBeGreaterThan(5);
      for (const e of own) expect(ids.has(e.getAttribute('resid'))).toBe(true);
      for (const s of Array.from(one(res, 'bt:ShortStrings').children)) expect(s.getAttribute('DefaultValue')!.length).toBeLessThanOrEqual(125);
      for (const s of Array.from(one(res, 'bt:LongStrings').children)) expect(s.getAttribute('DefaultValue')!.length).toBeLessThanOrEqual(250);
    }
  });

  it('WebApplicationInfo names the worker API app and its access_as_user scope', () => {
    const info = one(v11, 'WebApplicationInfo');
    expect(names(info)).toEqual(ORDER.WebApplicationInfo);
    const id = one(info, 'Id').textContent!;
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(one(info, 'Resource').textContent).toBe(`api://${id}`);
    expect(Array.from(one(info, 'Scopes').children).map((s) => s.textContent)).toEqual([`api://${id}/access_as_user`]);
  });

  it('every URL is on the add-in origin and names a file the webpack build writes', () => {
    const config = (require(path.join(ROOT, 'webpack.config.js')) as (e: unknown, a: unknown) => { plugins: { constructor: { name: string }; userOptions?: { filename?: string } }[] })({}, { mode: 'production' });
    const pages = config.plugins.filter((p) => p.constructor.name === 'HtmlWebpackPlugin').map((p) => p.userOptions!.filename!);
    const built = new Set([...pages, ...readdirSync(path.join(ROOT, 'addin', 'assets')).map((f) => `assets/${f}`)]);
    const urls = [...xml.matchAll(/(?:DefaultValue="|>)\s*(https?:\/\/[^"<\s]+)/g)].map((m) => m[1]).filter((u) => !u.startsWith('https://login.microsoftonline.com'));
    expect(urls.length).toBeGreaterThan(20);
    for (const u of urls) {
      expect(u.startsWith(`${ORIGIN}/`)).toBe(true);
      expect(built.has(u.slice(ORIGIN.length + 1))).toBe(true);
    }
    for (const page of ['taskpane.html', 'commands.html', 'signin.html', 'support.html']) expect(pages).toContain(page);
    // Icons are real PNGs of the size their name says.
    for (const f of readdirSync(path.join(ROOT, 'addin', 'assets'))) {
      const png = readFileSync(path.join(ROOT, 'addin', 'assets', f));
      expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
      const size = Number(/icon-(\d+)\.png/.exec(f)![1]);
      expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([size, size]);
    }
    expect(existsSync(path.join(ROOT, 'addin', 'src', 'taskpane', 'taskpane.html'))).toBe(true);
  });

  it('task pane pages load Office.js from the CDN, and nothing bundles it', () => {
    for (const page of ['taskpane/taskpane.html', 'commands/commands.html', 'auth/signin.html']) {
      expect(readFileSync(path.join(ROOT, 'addin', 'src', page), 'utf8')).toContain('<script type="text/javascript" src="https://appsforoffice.microsoft.com/lib/1/hosted/office.js"></script>');
    }
  });
});
