/**
 * Graph REST JSON → MapiItem for the REST fallback (sovereign clouds): contacts (MS-OXOCNTC), events
 * (MS-OXOCAL, with the recurrence BLOB), To Do tasks (MS-OXOTASK) and the metadata of mail converted
 * from MIME (MS-OXOFLAG). Every converter returns `{ item, fidelity: 'rest', warnings }`.
 * Mapping tables: docs/graph-json-mapping.md.
 */
export { convertContact, MAX_CONTACT_EMAILS, PostalAddressId } from './contact';
export { convertEvent, type EventConversionOptions, BUSY_STATUS, RESPONSE_STATUS, TRACK_STATUS, ATTENDEE_TYPE, ASF, RECIP_FLAGS, AF_EXCEPTION, EXCEPTION_MESSAGE_CLASS } from './event';
export { convertTodoTask, TASK_STATUS, TDS_NOM } from './task';
export { mergeMessageMetadata, FlagStatus, FOLLOWUP_ICON_RED, TODO_TIME_FLAGGED, FLAG_REQUEST_FOLLOW_UP } from './message';
export { IMPORTANCE, SENSITIVITY } from './common';
export type { GraphJsonConversion, GraphJsonOptions, GraphJsonWarning, GraphJsonWarningCode } from './json';
export * from './recurrence-blob';
export {
  readRecurrence, occurrenceDays, seriesExtent, recurrencePatternOf, recurrenceType, describeRecurrence, dayNumber, dayOfWeek,
  MAX_EXPANDED_OCCURRENCES, NO_END_OCCURRENCE_COUNT, type RecurrenceRule, type RecurrenceKind, type SeriesExtent,
} from './recurrence';
export { goidFromICalUid, withInstanceDate, isGoid, GOID_BYTE_ARRAY_ID } from './goid';
export { resolveZone, zoneRuleForYear, encodeTzDefinition, encodeTzStruct, WINDOWS_TO_IANA, type ZoneRule, type ResolvedZone } from './timezone';
