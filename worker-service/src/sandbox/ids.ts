/**
 * Deterministic identifiers for the sandbox tenant: every id is a hash of a seed string, so the same
 * options give the same tenant on every start (tests can keep ids; deltaLinks survive a restart).
 * Shapes follow what Graph shows: object ids are GUIDs, mailbox ids `MBX:<guid>@<tenantId>`, folder
 * and item ids URL-safe base64 with `=` padding (`AAMkAG…AAA=`), changeKeys standard base64
 * (`CQAAABYAAAA…`, as in the mailboxItem examples).
 */
import { createHash } from 'node:crypto';

/** SHA-256 of `parts` joined by NUL. */
export function digest(...parts: readonly (string | number)[]): Buffer {
  return createHash('sha256').update(parts.join('\u0000')).digest();
}

/** A GUID (lower case, canonical form) derived from `parts`; version nibble 4, RFC 4122 variant. */
export function stableGuid(...parts: readonly (string | number)[]): string {
  const b = digest('guid', ...parts).subarray(0, 16);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** An Exchange-style entity id: `AAMkAG` + URL-safe base64 of 33 hash bytes + `AAA=`. Path-safe. */
export function stableEntityId(...parts: readonly (string | number)[]): string {
  return 'AAMkAG' + digest('entity', ...parts).subarray(0, 33).toString('base64url') + 'AAA=';
}

/** A changeKey (standard base64 of 24 bytes, starting `CQAAABYAAAA` like Exchange's). */
export function stableChangeKey(...parts: readonly (string | number)[]): string {
  const b = Buffer.concat([Buffer.from([0x09, 0, 0, 0, 0x16, 0, 0, 0]), digest('changeKey', ...parts).subarray(0, 16)]);
  return b.toString('base64');
}

/** A mailbox id as Graph writes it: `MBX:<guid>@<tenantId>`. */
export function mailboxId(guid: string, tenantId: string): string {
  return `MBX:${guid}@${tenantId}`;
}

/** A small deterministic PRNG (mulberry32) for fault injection and seeding choices. Returns [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
