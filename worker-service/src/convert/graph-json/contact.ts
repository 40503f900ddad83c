/**
 * Graph contact (v1.0 and beta shapes) → IPM.Contact MapiItem (MS-OXOCNTC 2.2.1). The field → property
 * table is docs/graph-json-mapping.md.
 */
import { NAMED, newMapiItem, PropertyBag, TAG } from '../../mapi';
import { oneOffEntryId } from '../mime';
import { setBody, setCategories, setNamedStr, setStr, setSubject, setTimes } from './common';
import { filetimeFromMs, type GraphJsonConversion, type GraphJsonOptions, JsonReader, rootReader, Warnings, zoneOrUtc } from './json';
import { wallToUtcMs } from './timezone';

/** At most three e-mail addresses fit a contact (Email1-3, MS-OXOCNTC 2.2.1.2). */
export const MAX_CONTACT_EMAILS = 3;

/** PidLidPostalAddressId values (MS-OXOCNTC 2.2.1.3.9). */
export const PostalAddressId = { None: 0, Home: 1, Work: 2, Other: 3 } as const;

const EMAIL_SLOTS = [
  [NAMED.PidLidEmail1DisplayName, NAMED.PidLidEmail1AddressType, NAMED.PidLidEmail1EmailAddress, NAMED.PidLidEmail1OriginalDisplayName, NAMED.PidLidEmail1OriginalEntryId],
  [NAMED.PidLidEmail2DisplayName, NAMED.PidLidEmail2AddressType, NAMED.PidLidEmail2EmailAddress, NAMED.PidLidEmail2OriginalDisplayName, NAMED.PidLidEmail2OriginalEntryId],
  [NAMED.PidLidEmail3DisplayName, NAMED.PidLidEmail3AddressType, NAMED.PidLidEmail3EmailAddress, NAMED.PidLidEmail3OriginalDisplayName, NAMED.PidLidEmail3OriginalEntryId],
] as const;

type Def = { id: number; type: number };
const ADDRESS_TAGS: Record<'home' | 'business' | 'other' | 'mailing', { street: Def; city: Def; state: Def; postalCode: Def; country: Def; pobox: Def }> = {
  home: { street: TAG.PidTagHomeAddressStreet, city: TAG.PidTagHomeAddressCity, state: TAG.PidTagHomeAddressStateOrProvince, postalCode: TAG.PidTagHomeAddressPostalCode, country: TAG.PidTagHomeAddressCountry, pobox: TAG.PidTagHomeAddressPostOfficeBox },
  other: { street: TAG.PidTagOtherAddressStreet, city: TAG.PidTagOtherAddressCity, state: TAG.PidTagOtherAddressStateOrProvince, postalCode: TAG.PidTagOtherAddressPostalCode, country: TAG.PidTagOtherAddressCountry, pobox: TAG.PidTagOtherAddressPostOfficeBox },
  mailing: { street: TAG.PidTagStreetAddress, city: TAG.PidTagLocality, state: TAG.PidTagStateOrProvince, postalCode: TAG.PidTagPostalCode, country: TAG.PidTagCountry, pobox: TAG.PidTagPostOfficeBox },
  business: { street: TAG.PidTagStreetAddress, city: TAG.PidTagLocality, state: TAG.PidTagStateOrProvince, postalCode: TAG.PidTagPostalCode, country: TAG.PidTagCountry, pobox: TAG.PidTagPostOfficeBox },
};

interface PostalAddress { street?: string; city?: string; state?: string; postalCode?: string; country?: string; pobox?: string }

function readPostal(r: JsonReader): PostalAddress | undefined {
  const a: PostalAddress = {
    street: r.text('street'), city: r.text('city'), state: r.text('state'), postalCode: r.text('postalCode'),
    country: r.text('countryOrRegion'), pobox: r.text('postOfficeBox'),
  };
  return Object.values(a).some((v) => v !== undefined) ? a : undefined;
}

/** Outlook's multi-line form: street, "city state postal", country, CRLF-separated. */
function formatPostal(a: PostalAddress): string {
  const line2 = [a.city, [a.state, a.postalCode].filter(Boolean).join('  ')].filter(Boolean).join(', ');
  return [a.pobox, a.street, line2, a.country].filter((s) => s !== undefined && s !== '').join('\r\n');
}

function setPostal(p: PropertyBag, kind: 'home' | 'other' | 'mailing', a: PostalAddress): void {
  const t = ADDRESS_TAGS[kind];
  setStr(p, t.street, a.street); setStr(p, t.city, a.city); setStr(p, t.state, a.state);
  setStr(p, t.postalCode, a.postalCode); setStr(p, t.country, a.country); setStr(p, t.pobox, a.pobox);
}

function setWorkPostal(p: PropertyBag, a: PostalAddress): void {
  setNamedStr(p, NAMED.PidLidWorkAddressStreet, a.street); setNamedStr(p, NAMED.PidLidWorkAddressCity, a.city);
  setNamedStr(p, NAMED.PidLidWorkAddressState, a.state); setNamedStr(p, NAMED.PidLidWorkAddressPostalCode, a.postalCode);
  setNamedStr(p, NAMED.PidLidWorkAddressCountry, a.country); setNamedStr(p, NAMED.PidLidWorkAddressPostOfficeBox, a.pobox);
  p.setNamedDef(NAMED.PidLidWorkAddress, formatPostal(a));
}

/** A date-only or instant field as [PidTag… (UTC instant), PidLid…Local (midnight "as if UTC")]. */
function anniversary(r: JsonReader, key: string, zoneName: string, w: Warnings): [bigint, bigint] | undefined {
  const s = r.str(key);
  if (s === undefined) return undefined;
  if (/^\d{4}-\d{2}-\d{2}$/.test(s.trim())) {
    const dayMs = r.date(key);
    if (dayMs === undefined) return undefined;
    const zone = zoneOrUtc(zoneName, w, 'options.timeZone');
    return [filetimeFromMs(wallToUtcMs(zone.iana, dayMs)), filetimeFromMs(dayMs)];
  }
  const t = r.instant(key);
  if (!t) return undefined;
  const d = new Date(t.ms);
  return [t.filetime, filetimeFromMs(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()))];
}

/**
 * Converts a Graph contact to an IPM.Contact item (MS-OXOCNTC). Accepts the v1.0 shape (homePhones,
 * businessPhones, homeAddress…) and the beta one (phones[], postalAddresses[], websites[]).
 * Never throws on content: odd fields are warnings.
 * @param json  a parsed contact resource
 * @throws TypeError when `json` is not an object
 */
export function convertContact(json: unknown, options: GraphJsonOptions = {}): GraphJsonConversion {
  const w = new Warnings();
  const r = rootReader(json, 'convertContact', w);
  const item = newMapiItem();
  const p = item.properties;
  const zone = options.timeZone ?? 'UTC';
  p.setTag(TAG.PidTagMessageClass, 'IPM.Contact');

  const given = r.text('givenName');
  const surname = r.text('surname');
  const displayName = r.text('displayName') ?? ([given, r.text('middleName'), surname].filter(Boolean).join(' ') || undefined);
  setStr(p, TAG.PidTagDisplayName, displayName);
  setSubject(p, displayName);
  setStr(p, TAG.PidTagGivenName, given);
  setStr(p, TAG.PidTagMiddleName, r.text('middleName'));
  setStr(p, TAG.PidTagSurname, surname);
  setStr(p, TAG.PidTagNickname, r.text('nickName'));
  setStr(p, TAG.PidTagInitials, r.text('initials'));
  setStr(p, TAG.PidTagDisplayNamePrefix, r.text('title'));
  setStr(p, TAG.PidTagGeneration, r.text('generation'));
  setStr(p, TAG.PidTagTitle, r.text('jobTitle'));
  setStr(p, TAG.PidTagCompanyName, r.text('companyName'));
  setStr(p, TAG.PidTagDepartmentName, r.text('department'));
  setStr(p, TAG.PidTagOfficeLocation, r.text('officeLocation'));
  setStr(p, TAG.PidTagProfession, r.text('profession'));
  setStr(p, TAG.PidTagAssistant, r.text('assistantName'));
  setStr(p, TAG.PidTagManagerName, r.text('manager'));
  setStr(p, TAG.PidTagSpouseName, r.text('spouseName'));
  const children = r.strings('children');
  if (children.length) p.setTag(TAG.PidTagChildrensNames, children);
  setNamedStr(p, NAMED.PidLidYomiFirstName, r.text('yomiGivenName'));
  setNamedStr(p, NAMED.PidLidYomiLastName, r.text('yomiSurname'));
  setNamedStr(p, NAMED.PidLidYomiCompanyName, r.text('yomiCompanyName'));
  const fileAs = r.text('fileAs') ?? (surname && given ? `${surname}, ${given}` : displayName);
  setNamedStr(p, NAMED.PidLidFileUnder, fileAs);

  const gender = r.enumOf('gender', { unspecified: 0, female: 1, male: 2 });
  if (gender !== undefined) p.setTag(TAG.PidTagGender, gender);
  const bday = anniversary(r, 'birthday', zone, w);
  if (bday) { p.setTag(TAG.PidTagBirthday, bday[0]); p.setNamedDef(NAMED.PidLidBirthdayLocal, bday[1]); }
  const wed = anniversary(r, 'weddingAnniversary', zone, w);
  if (wed) { p.setTag(TAG.PidTagWeddingAnniversary, wed[0]); p.setNamedDef(NAMED.PidLidWeddingAnniversaryLocal, wed[1]); }

  // Personal notes are the contact's body (MS-OXOCNTC 2.2.1.10: PidTagBody).
  const notes = r.text('personalNotes');
  if (notes !== undefined) { p.setTag(TAG.PidTagBody, notes); p.setTag(TAG.PidTagNativeBody, 1); }
  else setBody(p, r);

  // E-mail addresses → Email1..3 (MS-OXOCNTC 2.2.1.2).
  const emails = r.objects('emailAddresses').map((e) => ({ name: e.text('name'), address: e.text('address') })).filter((e) => e.address !== undefined);
  if (emails.length > MAX_CONTACT_EMAILS) w.add('Truncated', 'emailAddresses', `${emails.length} addresses; a contact holds ${MAX_CONTACT_EMAILS}, the rest were dropped`);
  const slots: number[] = [];
  emails.slice(0, MAX_CONTACT_EMAILS).forEach((e, i) => {
    const [dn, at, ea, odn, oeid] = EMAIL_SLOTS[i];
    const address = e.address!;
    const name = e.name ?? address;
    p.setNamedDef(dn, name !== address ? `${name} (${address})` : address);
    p.setNamedDef(at, 'SMTP');
    p.setNamedDef(ea, address);
    p.setNamedDef(odn, address);
    p.setNamedDef(oeid, oneOffEntryId(name, 'SMTP', address));
    slots.push(i);
  });
  if (slots.length) {
    p.setNamedDef(NAMED.PidLidAddressBookProviderEmailList, slots);
    p.setNamedDef(NAMED.PidLidAddressBookProviderArrayType, slots.reduce((m, i) => m | (1 << i), 0));
  }

  // Instant messaging: one property (MS-OXOCNTC 2.2.1.2.x PidLidInstantMessagingAddress).
  const ims = r.strings('imAddresses');
  if (ims.length) p.setNamedDef(NAMED.PidLidInstantMessagingAddress, ims[0]);
  if (ims.length > 1) w.add('Truncated', 'imAddresses', `${ims.length} IM addresses; MAPI holds one, the rest were dropped`);

  setPhones(p, r, w);
  setAddresses(p, r);

  // Web pages: v1.0 businessHomePage; beta websites[].
  setStr(p, TAG.PidTagBusinessHomePage, r.text('businessHomePage'));
  for (const site of r.objects('websites')) {
    const kind = site.str('type');
    const url = site.text('address');
    if (!url) continue;
    if (kind === 'work') p.setTag(TAG.PidTagBusinessHomePage, url);
    else if (kind === 'home' || kind === 'personal') p.setTag(TAG.PidTagPersonalHomePage, url);
    else w.add('Unmapped', site.path, `website of type "${kind}" has no MAPI property`);
  }

  setCategories(p, r);
  setTimes(p, r);
  return { item, fidelity: 'rest', warnings: w.list };
}

const PHONE_TAGS: Record<string, Def[]> = {
  business: [TAG.PidTagBusinessTelephoneNumber, TAG.PidTagBusiness2TelephoneNumber],
  home: [TAG.PidTagHomeTelephoneNumber, TAG.PidTagHome2TelephoneNumber],
  mobile: [TAG.PidTagMobileTelephoneNumber],
  other: [TAG.PidTagOtherTelephoneNumber],
  assistant: [TAG.PidTagAssistantTelephoneNumber],
  homeFax: [TAG.PidTagHomeFaxNumber],
  businessFax: [TAG.PidTagBusinessFaxNumber],
  otherFax: [TAG.PidTagPrimaryFaxNumber],
  pager: [TAG.PidTagPagerTelephoneNumber],
  radio: [TAG.PidTagRadioTelephoneNumber],
};

function setPhones(p: PropertyBag, r: JsonReader, w: Warnings): void {
  const byKind = new Map<string, string[]>();
  const add = (kind: string, n: string | undefined) => { if (n) byKind.set(kind, [...(byKind.get(kind) ?? []), n]); };
  for (const n of r.strings('businessPhones')) add('business', n);
  for (const n of r.strings('homePhones')) add('home', n);
  add('mobile', r.text('mobilePhone'));
  for (const ph of r.objects('phones')) {
    const kind = ph.str('type') ?? 'other';
    if (!PHONE_TAGS[kind]) { w.add('UnknownEnum', `${ph.path}.type`, `phone type "${kind}" is unknown; stored as other`); add('other', ph.text('number')); }
    else add(kind, ph.text('number'));
  }
  for (const [kind, numbers] of byKind) {
    const tags = PHONE_TAGS[kind];
    numbers.slice(0, tags.length).forEach((n, i) => p.setTag(tags[i], n));
    if (numbers.length > tags.length) w.add('Truncated', kind, `${numbers.length} ${kind} phone numbers; MAPI holds ${tags.length}`);
  }
}

function setAddresses(p: PropertyBag, r: JsonReader): void {
  const found: Partial<Record<'home' | 'business' | 'other', PostalAddress>> = {};
  for (const kind of ['home', 'business', 'other'] as const) {
    const o = r.obj_(`${kind}Address`);
    const a = o && readPostal(o);
    if (a) found[kind] = a;
  }
  for (const pa of r.objects('postalAddresses')) {
    const kind = pa.enumOf('type', { home: 'home', business: 'business', other: 'other' } as const) ?? 'other';
    const a = readPostal(pa);
    if (a) found[kind] = a;
  }
  if (found.home) { setPostal(p, 'home', found.home); p.setNamedDef(NAMED.PidLidHomeAddress, formatPostal(found.home)); }
  if (found.other) { setPostal(p, 'other', found.other); p.setNamedDef(NAMED.PidLidOtherAddress, formatPostal(found.other)); }
  if (found.business) setWorkPostal(p, found.business);
  // The mailing address (PidTagStreetAddress…, PidTagPostalAddress) mirrors the one PidLidPostalAddressId selects.
  const mailing = found.business ? (['business', PostalAddressId.Work] as const) : found.home ? (['home', PostalAddressId.Home] as const) : found.other ? (['other', PostalAddressId.Other] as const) : undefined;
  if (mailing) {
    const a = found[mailing[0]]!;
    setPostal(p, 'mailing', a);
    p.setTag(TAG.PidTagPostalAddress, formatPostal(a));
    p.setNamedDef(NAMED.PidLidPostalAddressId, mailing[1]);
  }
}
