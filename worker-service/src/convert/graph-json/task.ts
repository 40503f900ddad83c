/**
 * Graph To Do todoTask → IPM.Task MapiItem (MS-OXOTASK 2.2.2). Field table: docs/graph-json-mapping.md.
 */
import { NAMED, newMapiItem, TAG, type PropertyBag } from '../../mapi';
import { IMPORTANCE, setBody, setCategories, setSubject, setTimes } from './common';
import { filetimeFromMs, type GraphJsonConversion, type GraphJsonOptions, type JsonReader, rootReader, Warnings, zoneOrUtc } from './json';
import { dayFromMs, msFromDay, readRecurrence, recurrencePatternOf, recurrenceType, seriesExtent, describeRecurrence } from './recurrence';
import { encodeRecurrencePattern } from './recurrence-blob';
import { utcToWallMs, wallToUtcMs } from './timezone';

/** PidLidTaskStatus for Graph's taskStatus (MS-OXOTASK 2.2.2.2.2). */
export const TASK_STATUS: Readonly<Record<string, number>> = { notStarted: 0, inProgress: 1, completed: 2, waitingOnOthers: 3, deferred: 4 };
/** PidLidTaskState tdsNOM: a task that was never assigned (MS-OXOTASK 2.2.2.2.x). */
export const TDS_NOM = 1;

/**
 * A task-style date (MS-OXOTASK 2.2.2.2.3/2.2.2.2.5, MS-OXOFLAG 2.2.1.4/5): the local date of a Graph
 * dateTimeTimeZone in the mailbox zone, as `floating` = that date's midnight written as if UTC
 * (PidLidTaskStartDate/DueDate) and `utc` = local midnight converted to UTC (PidLidCommonStart/End).
 * @returns undefined when the field is absent or unusable (a warning says why)
 */
export function taskDate(r: JsonReader, key: string, userZone: string, w: Warnings): { floating: bigint; utc: bigint; day: number } | undefined {
  const z = r.zoned(key, userZone);
  if (!z) return undefined;
  const zone = zoneOrUtc(userZone, w, 'options.timeZone');
  const day = dayFromMs(utcToWallMs(zone.iana, z.utcMs));
  return { floating: filetimeFromMs(msFromDay(day)), utc: filetimeFromMs(wallToUtcMs(zone.iana, msFromDay(day))), day };
}

/** Sets PidLidTaskStartDate/PidLidCommonStart and PidLidTaskDueDate/PidLidCommonEnd from `startDateTime`/`dueDateTime`. */
export function setTaskDates(p: PropertyBag, r: JsonReader, userZone: string, w: Warnings): { startDay?: number; dueDay?: number } {
  const s = taskDate(r, 'startDateTime', userZone, w);
  const d = taskDate(r, 'dueDateTime', userZone, w);
  if (s) { p.setNamedDef(NAMED.PidLidTaskStartDate, s.floating); p.setNamedDef(NAMED.PidLidCommonStart, s.utc); }
  if (d) { p.setNamedDef(NAMED.PidLidTaskDueDate, d.floating); p.setNamedDef(NAMED.PidLidCommonEnd, d.utc); }
  return { startDay: s?.day, dueDay: d?.day };
}

/**
 * Converts a Graph To Do task to an IPM.Task item (MS-OXOTASK): title, body, importance, status and
 * completion, start/due dates, reminder, recurrence (PidLidTaskRecurrence = RecurrencePattern,
 * MS-OXOCAL 2.2.1.44.1), categories, times. checklistItems and linkedResources have no MAPI form.
 * @param json  a parsed todoTask resource
 * @throws TypeError when `json` is not an object
 */
export function convertTodoTask(json: unknown, options: GraphJsonOptions = {}): GraphJsonConversion {
  const w = new Warnings();
  const r = rootReader(json, 'convertTodoTask', w);
  const zone = options.timeZone ?? 'UTC';
  const item = newMapiItem();
  const p = item.properties;
  p.setTag(TAG.PidTagMessageClass, 'IPM.Task');
  setSubject(p, r.str('title'));
  setBody(p, r);
  const imp = r.enumOf('importance', IMPORTANCE);
  if (imp !== undefined) p.setTag(TAG.PidTagImportance, imp);

  const status = r.enumOf('status', TASK_STATUS);
  const complete = status === TASK_STATUS.completed;
  if (status !== undefined) p.setNamedDef(NAMED.PidLidTaskStatus, status);
  p.setNamedDef(NAMED.PidLidPercentComplete, complete ? 1.0 : 0.0);
  p.setNamedDef(NAMED.PidLidTaskComplete, complete);
  const done = taskDate(r, 'completedDateTime', zone, w);
  if (done) p.setNamedDef(NAMED.PidLidTaskDateCompleted, done.floating);
  else if (complete) w.add('BadValue', 'completedDateTime', 'a completed task without completedDateTime; PidLidTaskDateCompleted left unset');
  p.setNamedDef(NAMED.PidLidTaskState, TDS_NOM);
  p.setNamedDef(NAMED.PidLidTaskOwnership, 0);
  p.setNamedDef(NAMED.PidLidTaskAcceptanceState, 0);
  p.setNamedDef(NAMED.PidLidTaskMode, 0);

  const { startDay, dueDay } = setTaskDates(p, r, zone, w);

  const remOn = r.bool('isReminderOn');
  if (remOn !== undefined) p.setNamedDef(NAMED.PidLidReminderSet, remOn);
  const rem = r.zoned('reminderDateTime', zone);
  if (rem) {
    p.setNamedDef(NAMED.PidLidReminderTime, filetimeFromMs(rem.utcMs));
    p.setNamedDef(NAMED.PidLidReminderSignalTime, filetimeFromMs(rem.utcMs));
  }

  const rec = r.obj_('recurrence');
  p.setNamedDef(NAMED.PidLidTaskFRecurring, false);
  if (rec) {
    const created = r.instant('createdDateTime');
    const fallbackDay = startDay ?? dueDay ?? (created ? dayFromMs(created.ms) : 0);
    if (startDay === undefined && dueDay === undefined) w.add('Recurrence', 'recurrence', 'a recurring task without start or due date; the range start (or the creation date) is used');
    const rule = readRecurrence(rec, w, fallbackDay);
    if (rule) {
      const extent = seriesExtent(rule, w);
      p.setNamedDef(NAMED.PidLidTaskRecurrence, encodeRecurrencePattern(recurrencePatternOf(rule, extent)));
      p.setNamedDef(NAMED.PidLidTaskFRecurring, true);
      p.setNamedDef(NAMED.PidLidRecurrenceType, recurrenceType(rule.kind));
      p.setNamedDef(NAMED.PidLidRecurrencePattern, describeRecurrence(rule, extent));
    }
  }
  if (r.arr('checklistItems').length) w.add('Unmapped', 'checklistItems', 'To Do checklist items have no MAPI task property');
  if (r.arr('linkedResources').length) w.add('Unmapped', 'linkedResources', 'linked resources have no MAPI task property');

  setCategories(p, r);
  setTimes(p, r);
  return { item, fidelity: 'rest', warnings: w.list };
}
