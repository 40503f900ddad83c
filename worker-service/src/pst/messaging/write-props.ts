/**
 * Maps a MapiItem's property bag to the store-local properties a PC or TC row holds: tagged
 * properties as they are, named properties through the store's name-to-id map (MS-PST 2.4.7).
 */
import type { PropertyBag } from '../../mapi/item';
import { propTag, type PropType, type PropValue } from '../../mapi/types';
import type { PcProperty } from '../ltp/write-pc';
import type { NamedPropertyKey } from '../../mapi/named';

/** Maps a named property to its store-local id (0x8000+, MS-PST 2.4.7); NameToIdMapBuilder is one. */
export interface NameResolver {
  idFor(key: NamedPropertyKey): number;
}

/** Properties by store-local id. */
export type LocalProps = Map<number, PcProperty>;

/** The store-local properties of a bag; `skip` lists tagged ids the writer computes itself. */
export function localProperties(bag: PropertyBag, names: NameResolver, skip: ReadonlySet<number> = new Set()): LocalProps {
  const out: LocalProps = new Map();
  // tagged ones in the bag's insertion order: every consumer orders by id itself (the PC's BTH,
  // table layouts); named ones in insertion order, the order their ids were assigned in
  bag.forEachProperty(
    (id, type, value) => {
      if (!skip.has(id)) out.set(id, { id, type, value });
    },
    (key, type, value) => {
      const id = names.idFor(key);
      out.set(id, { id, type, value });
    },
  );
  return out;
}

/** Sets a property on a LocalProps map. */
export function setLocal(props: LocalProps, id: number, type: PropType, value: PropValue): void {
  props.set(id, { id, type, value });
}

/**
 * The cells of a table row for `columns` (32-bit tags) taken from an object's own properties: a
 * cell is present exactly when the object has that property with that type, so rows always agree
 * with the objects they describe (ScanPST's contents-table check).
 */
export function rowCells(columns: readonly number[], props: LocalProps): Map<number, PropValue> {
  const cells = new Map<number, PropValue>();
  for (const tag of columns) {
    const p = props.get(tag >>> 16);
    if (p && propTag(p.id, p.type) === tag) cells.set(tag, p.value);
  }
  return cells;
}
