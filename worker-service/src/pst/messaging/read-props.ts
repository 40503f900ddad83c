/**
 * From PC properties and TC cells to MapiItem property bags (MS-PST 2.4): ids below 0x8000 stay
 * tagged; 0x8000 and up are resolved through the name-to-id map (2.4.7) to set GUID + LID/name.
 */
import { PropertyBag } from '../../mapi/item';
import type { PropType, PropValue } from '../../mapi/types';
import type { NameIdMap } from './read-nameid';

/** Columns every TC has that are table bookkeeping, not item properties (MS-PST 2.3.4.4.1). */
export const LTP_ROW_ID = 0x67f2;
export const LTP_ROW_VER = 0x67f3;

/** Counts of what could not be placed in a bag (named ids missing from the map). */
export interface BagStats {
  unresolvedNamed: number;
}

/**
 * Adds one property to a bag, resolving 0x8000+ ids through the map. An id the map does not
 * know is skipped and counted in `stats` (a PropertyBag cannot hold a named id without its key). */
export function addProperty(bag: PropertyBag, id: number, type: number, value: PropValue, map: NameIdMap, stats?: BagStats): void {
  if (id < 0x8000) {
    bag.set(id, type as PropType, value);
    return;
  }
  const key = map.byId.get(id);
  if (key) bag.setNamed(key, type as PropType, value);
  else if (stats) stats.unresolvedNamed++;
}
