/**
 * Properties every Graph item kind shares: body, categories, importance, sensitivity, times, and
 * SMTP recipients (MS-OXCMSG 2.2.1, MS-OXOMSG 2.2.3, MS-OXCMAIL 2.2.3.2.2 for the address forms).
 */
import { NAMED, PropertyBag, PropType, TAG } from '../../mapi';
import { addressSearchKey, htmlToPlainText, NativeBody, oneOffEntryId, DT_MAILUSER, MAPI_MAILUSER, RECIP_SENDABLE } from '../mime';
import type { JsonReader } from './json';

/** PidTagImportance for Graph's importance (MS-OXCMSG 2.2.1.11). */
export const IMPORTANCE: Readonly<Record<string, number>> = { low: 0, normal: 1, high: 2 };
/** PidTagSensitivity for Graph's sensitivity (MS-OXCMSG 2.2.1.13). */
export const SENSITIVITY: Readonly<Record<string, number>> = { normal: 0, personal: 1, private: 2, confidential: 3 };

const utf8 = new TextEncoder();

/** Sets a string property when the value is present. */
export function setStr(p: PropertyBag, def: { id: number; type: PropType }, value: string | undefined): void {
  if (value !== undefined) p.setTag(def, value);
}

/** Sets a named string property when the value is present. */
export function setNamedStr(p: PropertyBag, def: (typeof NAMED)[keyof typeof NAMED], value: string | undefined): void {
  if (value !== undefined) p.setNamedDef(def, value);
}

/**
 * Graph itemBody `{ contentType: "text" | "html", content }` → PidTagBody, or PidTagHtml (UTF-8,
 * PidTagInternetCodepage 65001) plus a plain PidTagBody rendered from it; PidTagNativeBody says which.
 * Absent or empty content sets nothing.
 */
export function setBody(p: PropertyBag, r: JsonReader, key = 'body'): void {
  const b = r.obj_(key);
  if (!b) return;
  const content = b.str('content');
  if (content === undefined || content === '') return;
  const kind = b.enumOf('contentType', { text: 'text', html: 'html' }) ?? 'text';
  if (kind === 'html') {
    p.setTag(TAG.PidTagHtml, utf8.encode(content));
    p.setTag(TAG.PidTagBody, htmlToPlainText(content));
    p.setTag(TAG.PidTagInternetCodepage, 65001);
    p.setTag(TAG.PidTagNativeBody, NativeBody.Html);
  } else {
    p.setTag(TAG.PidTagBody, content);
    p.setTag(TAG.PidTagNativeBody, NativeBody.PlainText);
  }
}

/** categories[] → PidNameKeywords (MS-OXCMSG 2.2.1.17); empty lists set nothing. */
export function setCategories(p: PropertyBag, r: JsonReader): void {
  const cats = r.strings('categories');
  if (cats.length > 0) p.setNamedDef(NAMED.PidNameKeywords, cats);
}

/** createdDateTime / lastModifiedDateTime → PidTagCreationTime / PidTagLastModificationTime. */
export function setTimes(p: PropertyBag, r: JsonReader): void {
  const c = r.instant('createdDateTime');
  if (c) p.setTag(TAG.PidTagCreationTime, c.filetime);
  const m = r.instant('lastModifiedDateTime');
  if (m) p.setTag(TAG.PidTagLastModificationTime, m.filetime);
}

/** Subject → PidTagSubject, PidTagNormalizedSubject and PidTagConversationTopic. */
export function setSubject(p: PropertyBag, subject: string | undefined): void {
  if (subject === undefined) return;
  p.setTag(TAG.PidTagSubject, subject);
  p.setTag(TAG.PidTagNormalizedSubject, subject);
  p.setTag(TAG.PidTagConversationTopic, subject);
}

/** A Graph emailAddress `{ name, address }`, either part possibly missing. */
export interface SmtpAddress {
  name?: string;
  address?: string;
}

/** Reads `key.emailAddress` (recipient) or `key` itself when it holds name/address. */
export function readAddress(r: JsonReader | undefined): SmtpAddress | undefined {
  if (!r) return undefined;
  const inner = r.obj_('emailAddress') ?? r;
  const a: SmtpAddress = { name: inner.text('name'), address: inner.text('address') };
  return a.name === undefined && a.address === undefined ? undefined : a;
}

/**
 * A recipient row for an SMTP address (MS-OXCMSG 2.2.1.x recipient properties; MS-OXCMAIL 2.2.3.2.2):
 * display name, address type SMTP, e-mail address, One-Off EntryID and search key.
 * @param recipientType  PidTagRecipientType (1 To, 2 Cc, 3 Bcc)
 */
export function smtpRecipient(a: SmtpAddress, recipientType: number): PropertyBag {
  const r = new PropertyBag();
  const name = a.name ?? a.address ?? '';
  const addr = a.address ?? '';
  r.setTag(TAG.PidTagRecipientType, recipientType);
  r.setTag(TAG.PidTagDisplayName, name);
  r.setTag(TAG.PidTagRecipientDisplayName, name);
  r.setTag(TAG.PidTagObjectType, MAPI_MAILUSER);
  r.setTag(TAG.PidTagDisplayType, DT_MAILUSER);
  r.setTag(TAG.PidTagRecipientFlags, RECIP_SENDABLE);
  if (addr) {
    r.setTag(TAG.PidTagAddressType, 'SMTP');
    r.setTag(TAG.PidTagEmailAddress, addr);
    r.setTag(TAG.PidTagSmtpAddress, addr);
    r.setTag(TAG.PidTagEntryId, oneOffEntryId(name, 'SMTP', addr));
    r.setTag(TAG.PidTagRecipientEntryId, oneOffEntryId(name, 'SMTP', addr));
    r.setTag(TAG.PidTagSearchKey, addressSearchKey('SMTP', addr));
  }
  return r;
}

/** Sets the sender and sent-representing properties from an address (MS-OXOMSG 2.2.1.x). */
export function setSender(p: PropertyBag, a: SmtpAddress): void {
  const name = a.name ?? a.address ?? '';
  p.setTag(TAG.PidTagSenderName, name);
  p.setTag(TAG.PidTagSentRepresentingName, name);
  if (a.address) {
    for (const [type, addr, smtp, entry, key] of [
      [TAG.PidTagSenderAddressType, TAG.PidTagSenderEmailAddress, TAG.PidTagSenderSmtpAddress, TAG.PidTagSenderEntryId, TAG.PidTagSenderSearchKey],
      [TAG.PidTagSentRepresentingAddressType, TAG.PidTagSentRepresentingEmailAddress, TAG.PidTagSentRepresentingSmtpAddress, TAG.PidTagSentRepresentingEntryId, TAG.PidTagSentRepresentingSearchKey],
    ] as const) {
      p.setTag(type, 'SMTP');
      p.setTag(addr, a.address);
      p.setTag(smtp, a.address);
      p.setTag(entry, oneOffEntryId(name, 'SMTP', a.address));
      p.setTag(key, addressSearchKey('SMTP', a.address));
    }
  }
}
