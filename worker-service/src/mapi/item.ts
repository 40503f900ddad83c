/**
 * The item model every Outport layer exchanges: a MAPI message as properties, a recipient table,
 * attachments (by value, embedded message, OLE/reference kept as properties) and the FAI flag
 * (MS-OXCMSG 2.2.1 message object, 2.2.2 attachment object; MS-PST 2.4.5 messages).
 */
import { namedKeyString, type NamedPropertyKey } from './named';
import { propTag, type PropType, type PropValue } from './types';

/** One property value with its type. */
export interface TypedValue {
  readonly type: PropType;
  readonly value: PropValue;
}

/** A tagged property (id < 0x8000) or a named property (identified by set GUID + LID/name). */
export type PropertyEntry =
  | { readonly kind: 'tagged'; readonly id: number; readonly type: PropType; readonly value: PropValue }
  | { readonly kind: 'named'; readonly key: NamedPropertyKey; readonly type: PropType; readonly value: PropValue };

/**
 * An ordered set of properties. Tagged properties are keyed by id (one type per id: setting an id
 * again replaces the value and type); named properties by set GUID + LID or name.
 */
export class PropertyBag {
  private readonly tagged = new Map<number, TypedValue>();
  private readonly named = new Map<string, { key: NamedPropertyKey; tv: TypedValue }>();

  /**
   * A new bag with the same properties in the same order. Values are shared, not copied (a
   * Uint8Array or array value is the same object in both bags); setting or deleting a property in
   * one bag does not change the other.
   */
  clone(): PropertyBag {
    const copy = new PropertyBag();
    for (const [id, tv] of this.tagged) copy.tagged.set(id, tv);
    for (const [k, e] of this.named) copy.named.set(k, e);
    return copy;
  }
  /** Sets a tagged property. `id` must be < 0x8000 (named properties use {@link setNamed}). */
  set(id: number, type: PropType, value: PropValue): this {
    if (id >= 0x8000 || id < 0) throw new RangeError(`property id 0x${id.toString(16)} is not a tagged id (0x0001-0x7FFF); use setNamed for named properties`);
    this.tagged.set(id, { type, value });
    return this;
  }
  /** Sets a property from a `{ id, type }` definition such as `TAG.PidTagSubject`. */
  setTag(def: { id: number; type: PropType }, value: PropValue): this {
    return this.set(def.id, def.type, value);
  }
  /** The value of a tagged property, or undefined. */
  get(id: number): PropValue | undefined {
    return this.tagged.get(id)?.value;
  }
  /** The typed value of a tagged property, or undefined. */
  getTyped(id: number): TypedValue | undefined {
    return this.tagged.get(id);
  }
  /** True when the tagged id is present. */
  has(id: number): boolean {
    return this.tagged.has(id);
  }
  /** Removes a tagged property. */
  delete(id: number): boolean {
    return this.tagged.delete(id);
  }
  /** Sets a named property. */
  setNamed(key: NamedPropertyKey, type: PropType, value: PropValue): this {
    this.named.set(namedKeyString(key), { key, tv: { type, value } });
    return this;
  }
  /** Sets a named property from a `NAMED.PidLid…` definition. */
  setNamedDef(def: { key: NamedPropertyKey; type: PropType }, value: PropValue): this {
    return this.setNamed(def.key, def.type, value);
  }
  /** The typed value of a named property, or undefined. */
  getNamed(key: NamedPropertyKey): TypedValue | undefined {
    return this.named.get(namedKeyString(key))?.tv;
  }
  /** Removes a named property. */
  deleteNamed(key: NamedPropertyKey): boolean {
    return this.named.delete(namedKeyString(key));
  }
  /** Number of properties, tagged and named. */
  get size(): number {
    return this.tagged.size + this.named.size;
  }
  /** All properties: tagged ones sorted by id, then named ones in insertion order. */
  *entries(): IterableIterator<PropertyEntry> {
    for (const id of [...this.tagged.keys()].sort((a, b) => a - b)) {
      const tv = this.tagged.get(id)!;
      yield { kind: 'tagged', id, type: tv.type, value: tv.value };
    }
    for (const { key, tv } of this.named.values()) yield { kind: 'named', key, type: tv.type, value: tv.value };
  }
  /** The named properties' keys, in insertion order (the order {@link entries} gives them). */
  *namedKeys(): IterableIterator<NamedPropertyKey> {
    for (const { key } of this.named.values()) yield key;
  }
  /**
   * Calls `fn` for every property's type and value, tagged then named, in no particular order and
   * without the per-entry objects and the sort of {@link entries}: for sums over a bag (sizes).
   */
  forEachValue(fn: (type: PropType, value: PropValue) => void): void {
    for (const tv of this.tagged.values()) fn(tv.type, tv.value);
    for (const { tv } of this.named.values()) fn(tv.type, tv.value);
  }
  /**
   * Calls `tagged` for every tagged property in insertion order (not sorted), then `named` for
   * every named one in insertion order: {@link entries} without its sort and per-entry objects.
   */
  forEachProperty(tagged: (id: number, type: PropType, value: PropValue) => void, named: (key: NamedPropertyKey, type: PropType, value: PropValue) => void): void {
    for (const [id, tv] of this.tagged) tagged(id, tv.type, tv.value);
    for (const { key, tv } of this.named.values()) named(key, tv.type, tv.value);
  }
  /** The 32-bit tags of the tagged properties, sorted. */
  taggedTags(): number[] {
    return [...this.tagged.entries()].sort((a, b) => a[0] - b[0]).map(([id, tv]) => propTag(id, tv.type));
  }
}

/** Attachment methods (PidTagAttachMethod, MS-OXCMSG 2.2.2.9). */
export enum AttachMethod {
  None = 0,
  ByValue = 1,
  ByReference = 2,
  ByReferenceOnly = 4,
  EmbeddedMessage = 5,
  Ole = 6,
}

/**
 * An attachment. By value: the bytes are `PidTagAttachDataBinary` in `properties`. Embedded message
 * (AttachMethod 5): `embedded` holds the message and `properties` the attachment's own properties.
 * OLE and reference attachments keep everything as properties.
 */
export interface MapiAttachment {
  readonly properties: PropertyBag;
  /** Present when PidTagAttachMethod = 5 (afEmbeddedMessage). */
  embedded?: MapiItem;
}

/** A message (or a message-like item: contact, appointment, task, note, journal entry). */
export interface MapiItem {
  readonly properties: PropertyBag;
  /** Recipient rows (MS-OXCMSG 2.2.1.x / MS-PST 2.4.5.2), each a property bag. */
  readonly recipients: PropertyBag[];
  readonly attachments: MapiAttachment[];
  /** True for a folder-associated information (FAI) item: views, rules, forms (MS-PST 2.4.4.5). */
  associated: boolean;
}

/** Creates an empty MapiItem. */
export function newMapiItem(associated = false): MapiItem {
  return { properties: new PropertyBag(), recipients: [], attachments: [], associated };
}

/** Folder container classes (PidTagContainerClass, MS-OXOSFLD 2.2.x). Custom strings are allowed too. */
export const ContainerClass = {
  Note: 'IPF.Note',
  Contact: 'IPF.Contact',
  Appointment: 'IPF.Appointment',
  Task: 'IPF.Task',
  StickyNote: 'IPF.StickyNote',
  Journal: 'IPF.Journal',
} as const;

/** A folder as sources describe it: display name, container class and the path from the store's top. */
export interface MapiFolder {
  readonly displayName: string;
  /** PidTagContainerClass; undefined leaves it unset (Outlook then treats it as a mail folder). */
  readonly containerClass?: string;
  /** Extra folder properties to keep (e.g. from a PST being rewritten). */
  readonly properties?: PropertyBag;
}
