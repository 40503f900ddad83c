/**
 * Mail metadata from Graph's message JSON merged onto a MapiItem made from the message's MIME
 * ($value): read state, follow-up flag (MS-OXOFLAG 2.2.1), categories, importance and delivery time.
 * MIME cannot carry these; Graph's JSON is the mailbox's current state, so it wins.
 */
import { NAMED, TAG, type MapiItem, type PropertyBag } from '../../mapi';
import { MSGFLAG_READ } from '../mime';
import { IMPORTANCE } from './common';
import { filetimeFromMs, type GraphJsonConversion, type GraphJsonOptions, type JsonReader, rootReader, Warnings } from './json';
import { setTaskDates } from './task';

/** PidTagFlagStatus values (MS-OXOFLAG 2.2.1.1): followupComplete 1, followupFlagged 2. */
export const FlagStatus = { Complete: 0x1, Flagged: 0x2 } as const;
/** PidTagFollowupIcon "red flag" (MS-OXOFLAG 2.2.1.2). */
export const FOLLOWUP_ICON_RED = 6;
/** PidTagToDoItemFlags todoTimeFlagged (MS-OXOFLAG 2.2.1.x). */
export const TODO_TIME_FLAGGED = 0x1;
/** PidLidFlagRequest text Outlook writes for a plain follow-up flag. */
export const FLAG_REQUEST_FOLLOW_UP = 'Follow up';

const FLAG_STATUS = { notFlagged: 0, flagged: FlagStatus.Flagged, complete: FlagStatus.Complete } as const;

/**
 * Sets on `item` (in place) what Graph's message JSON knows and MIME does not:
 * - isRead → mfRead in PidTagMessageFlags (set or cleared; other bits kept)
 * - flag { flagStatus, startDateTime, dueDateTime, completedDateTime } → PidTagFlagStatus,
 *   PidTagFollowupIcon, PidTagToDoItemFlags, PidLidFlagRequest, PidLidTaskStatus/Complete/
 *   PercentComplete, PidTagFlagCompleteTime + PidLidTaskDateCompleted, PidLidTaskStartDate/DueDate +
 *   PidLidCommonStart/End (MS-OXOFLAG 2.2.1); "notFlagged" removes all of them
 * - categories → PidNameKeywords (an empty list removes the MIME Keywords)
 * - importance → PidTagImportance; receivedDateTime → PidTagMessageDeliveryTime
 * Fields that are absent leave the item as MIME made it.
 * @param json  a parsed message resource (any $select)
 * @throws TypeError when `json` is not an object
 */
export function mergeMessageMetadata(item: MapiItem, json: unknown, options: GraphJsonOptions = {}): GraphJsonConversion {
  const w = new Warnings();
  const r = rootReader(json, 'mergeMessageMetadata', w);
  const p = item.properties;
  const isRead = r.bool('isRead');
  if (isRead !== undefined) {
    const flags = (p.get(TAG.PidTagMessageFlags.id) as number | undefined) ?? 0;
    p.setTag(TAG.PidTagMessageFlags, isRead ? flags | MSGFLAG_READ : flags & ~MSGFLAG_READ);
  }
  const imp = r.enumOf('importance', IMPORTANCE);
  if (imp !== undefined) p.setTag(TAG.PidTagImportance, imp);
  const received = r.instant('receivedDateTime');
  if (received) p.setTag(TAG.PidTagMessageDeliveryTime, received.filetime);
  if (r.raw('categories') !== undefined) {
    const cats = r.strings('categories');
    if (cats.length) p.setNamedDef(NAMED.PidNameKeywords, cats); else p.deleteNamed(NAMED.PidNameKeywords.key);
  }
  const flag = r.obj_('flag');
  if (flag) mergeFlag(p, flag, options.timeZone ?? 'UTC', w);
  return { item, fidelity: 'rest', warnings: w.list };
}

function clearFlag(p: PropertyBag): void {
  for (const t of [TAG.PidTagFlagStatus, TAG.PidTagFollowupIcon, TAG.PidTagToDoItemFlags, TAG.PidTagFlagCompleteTime]) p.delete(t.id);
  for (const n of [NAMED.PidLidFlagRequest, NAMED.PidLidTaskStatus, NAMED.PidLidTaskComplete, NAMED.PidLidPercentComplete, NAMED.PidLidTaskDateCompleted,
    NAMED.PidLidTaskStartDate, NAMED.PidLidTaskDueDate, NAMED.PidLidCommonStart, NAMED.PidLidCommonEnd]) p.deleteNamed(n.key);
}

function mergeFlag(p: PropertyBag, flag: JsonReader, zone: string, w: Warnings): void {
  const status = flag.enumOf('flagStatus', FLAG_STATUS);
  if (status === undefined) return;
  clearFlag(p);
  if (status === 0) return;
  p.setTag(TAG.PidTagFlagStatus, status);
  p.setTag(TAG.PidTagToDoItemFlags, TODO_TIME_FLAGGED);
  p.setNamedDef(NAMED.PidLidFlagRequest, FLAG_REQUEST_FOLLOW_UP);
  setTaskDates(p, flag, zone, w);
  if (status === FlagStatus.Flagged) {
    p.setTag(TAG.PidTagFollowupIcon, FOLLOWUP_ICON_RED);
    p.setNamedDef(NAMED.PidLidTaskStatus, 0);
    p.setNamedDef(NAMED.PidLidPercentComplete, 0.0);
    p.setNamedDef(NAMED.PidLidTaskComplete, false);
  } else {
    p.setNamedDef(NAMED.PidLidTaskStatus, 2);
    p.setNamedDef(NAMED.PidLidPercentComplete, 1.0);
    p.setNamedDef(NAMED.PidLidTaskComplete, true);
    const done = flag.zoned('completedDateTime', zone);
    if (done) {
      const ft = filetimeFromMs(done.utcMs, done.extraTicks);
      p.setTag(TAG.PidTagFlagCompleteTime, ft);
      p.setNamedDef(NAMED.PidLidTaskDateCompleted, ft);
    } else w.add('BadValue', 'flag.completedDateTime', 'a completed flag without completedDateTime; PidTagFlagCompleteTime left unset');
  }
}
