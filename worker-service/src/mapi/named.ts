/**
 * Named properties (MS-OXPROPS 1.3.2, MS-OXCDATA 2.6.1): property set GUIDs and the named
 * properties Outport knows by name. A named property is identified by its property set GUID plus
 * either a numeric long id (LID, `PidLid…`) or a string name (`PidName…`); the 0x8000+ property id
 * a store assigns to it is local to that store (MS-PST 2.4.7 name-to-id map).
 */
import { normalizeGuid } from './guid';
import { PropType } from './types';

/** Property set GUIDs (MS-OXPROPS 1.3.2). */
export const PSETID = {
  Common: '00062008-0000-0000-c000-000000000046',
  Address: '00062004-0000-0000-c000-000000000046',
  Appointment: '00062002-0000-0000-c000-000000000046',
  Task: '00062003-0000-0000-c000-000000000046',
  Note: '0006200e-0000-0000-c000-000000000046',
  Log: '0006200a-0000-0000-c000-000000000046',
  Meeting: '6ed8da90-450b-101b-98da-00aa003f1305',
  Sharing: '00062040-0000-0000-c000-000000000046',
  PostRss: '00062041-0000-0000-c000-000000000046',
  UnifiedMessaging: '4442858e-a9e3-4e80-b900-317a210cc15b',
  AirSync: '71035549-0739-4dcb-9163-00f0580dbbdf',
  Messaging: '41f28f13-83f4-4114-a584-eedb5a6b0bff',
  CalendarAssistant: '11000e07-b51b-40d6-af21-caa85edab1d0',
  Attachment: '96357f7f-59e1-47d0-99a7-46515c183b54',
  XmlExtractedEntities: '23239608-685d-4732-9c55-4c95cb4e8e33',
} as const;

/** PS_INTERNET_HEADERS: string-named properties holding Internet headers (MS-OXCMAIL 2.2.3). */
export const PS_INTERNET_HEADERS = '00020386-0000-0000-c000-000000000046';
/** PS_PUBLIC_STRINGS: string-named properties such as "Keywords" (categories). */
export const PS_PUBLIC_STRINGS = '00020329-0000-0000-c000-000000000046';
/** PS_MAPI: the property set whose LIDs equal ordinary property ids (MS-OXPROPS 1.3.2). */
export const PS_MAPI = '00020328-0000-0000-c000-000000000046';

/** A named property's identity: set GUID + LID, or set GUID + string name. */
export type NamedPropertyKey =
  | { readonly guid: string; readonly lid: number; readonly name?: undefined }
  | { readonly guid: string; readonly name: string; readonly lid?: undefined };

/** A named property Outport knows: identity, canonical name and usual type (MS-OXPROPS). */
export interface NamedPropertyDef {
  readonly canonicalName: string;
  readonly key: NamedPropertyKey;
  readonly type: PropType;
}

/** Stable text key for maps: "guid:lid:0x8501" or "guid:name:Keywords" (GUID normalised). */
export function namedKeyString(key: NamedPropertyKey): string {
  const g = normalizeGuid(key.guid);
  return key.name !== undefined ? `${g}:name:${key.name}` : `${g}:lid:0x${(key.lid >>> 0).toString(16)}`;
}

function lid(canonicalName: string, guid: string, id: number, type: PropType): NamedPropertyDef {
  return { canonicalName, key: { guid, lid: id }, type };
}
function str(canonicalName: string, guid: string, name: string, type: PropType): NamedPropertyDef {
  return { canonicalName, key: { guid, name }, type };
}

/** Named properties by canonical name (MS-OXPROPS section 2). Add entries as features need them. */
export const NAMED = {
  // PSETID_Common
  PidLidReminderSet: lid('PidLidReminderSet', PSETID.Common, 0x8503, PropType.Boolean),
  PidLidReminderDelta: lid('PidLidReminderDelta', PSETID.Common, 0x8501, PropType.Integer32),
  PidLidReminderTime: lid('PidLidReminderTime', PSETID.Common, 0x8502, PropType.Time),
  PidLidReminderSignalTime: lid('PidLidReminderSignalTime', PSETID.Common, 0x8560, PropType.Time),
  PidLidCommonStart: lid('PidLidCommonStart', PSETID.Common, 0x8516, PropType.Time),
  PidLidCommonEnd: lid('PidLidCommonEnd', PSETID.Common, 0x8517, PropType.Time),
  PidLidPrivate: lid('PidLidPrivate', PSETID.Common, 0x8506, PropType.Boolean),
  PidLidSideEffects: lid('PidLidSideEffects', PSETID.Common, 0x8510, PropType.Integer32),
  PidLidCategories: lid('PidLidCategories', PSETID.Common, 0x9000, PropType.MultipleString),
  PidLidContacts: lid('PidLidContacts', PSETID.Common, 0x853a, PropType.MultipleString),
  PidLidSmartNoAttach: lid('PidLidSmartNoAttach', PSETID.Common, 0x8514, PropType.Boolean),
  PidLidFlagRequest: lid('PidLidFlagRequest', PSETID.Common, 0x8530, PropType.String),
  PidLidToDoTitle: lid('PidLidToDoTitle', PSETID.Common, 0x85a4, PropType.String),
  PidLidInternetAccountName: lid('PidLidInternetAccountName', PSETID.Common, 0x8580, PropType.String),
  PidLidUseTnef: lid('PidLidUseTnef', PSETID.Common, 0x8582, PropType.Boolean),
  PidLidAgingDontAgeMe: lid('PidLidAgingDontAgeMe', PSETID.Common, 0x850e, PropType.Boolean),
  PidLidCurrentVersion: lid('PidLidCurrentVersion', PSETID.Common, 0x8552, PropType.Integer32),
  PidLidCurrentVersionName: lid('PidLidCurrentVersionName', PSETID.Common, 0x8554, PropType.String),
  // PSETID_Address
  PidLidFileUnder: lid('PidLidFileUnder', PSETID.Address, 0x8005, PropType.String),
  PidLidFileUnderId: lid('PidLidFileUnderId', PSETID.Address, 0x8006, PropType.Integer32),
  PidLidEmail1DisplayName: lid('PidLidEmail1DisplayName', PSETID.Address, 0x8080, PropType.String),
  PidLidEmail1AddressType: lid('PidLidEmail1AddressType', PSETID.Address, 0x8082, PropType.String),
  PidLidEmail1EmailAddress: lid('PidLidEmail1EmailAddress', PSETID.Address, 0x8083, PropType.String),
  PidLidEmail1OriginalDisplayName: lid('PidLidEmail1OriginalDisplayName', PSETID.Address, 0x8084, PropType.String),
  PidLidEmail2DisplayName: lid('PidLidEmail2DisplayName', PSETID.Address, 0x8090, PropType.String),
  PidLidEmail2EmailAddress: lid('PidLidEmail2EmailAddress', PSETID.Address, 0x8093, PropType.String),
  PidLidEmail3DisplayName: lid('PidLidEmail3DisplayName', PSETID.Address, 0x80a0, PropType.String),
  PidLidEmail3EmailAddress: lid('PidLidEmail3EmailAddress', PSETID.Address, 0x80a3, PropType.String),
  PidLidWorkAddressStreet: lid('PidLidWorkAddressStreet', PSETID.Address, 0x8045, PropType.String),
  PidLidWorkAddressCity: lid('PidLidWorkAddressCity', PSETID.Address, 0x8046, PropType.String),
  PidLidWorkAddressPostalCode: lid('PidLidWorkAddressPostalCode', PSETID.Address, 0x8048, PropType.String),
  PidLidWorkAddressCountry: lid('PidLidWorkAddressCountry', PSETID.Address, 0x8049, PropType.String),
  PidLidHtml: lid('PidLidHtml', PSETID.Address, 0x802b, PropType.String),
  PidLidInstantMessagingAddress: lid('PidLidInstantMessagingAddress', PSETID.Address, 0x8062, PropType.String),
  PidLidAddressBookProviderArrayType: lid('PidLidAddressBookProviderArrayType', PSETID.Address, 0x8029, PropType.Integer32),
  PidLidAddressBookProviderEmailList: lid('PidLidAddressBookProviderEmailList', PSETID.Address, 0x8028, PropType.MultipleInteger32),
  PidLidDistributionListName: lid('PidLidDistributionListName', PSETID.Address, 0x8053, PropType.String),
  PidLidDistributionListMembers: lid('PidLidDistributionListMembers', PSETID.Address, 0x8055, PropType.MultipleBinary),
  PidLidDistributionListOneOffMembers: lid('PidLidDistributionListOneOffMembers', PSETID.Address, 0x8054, PropType.MultipleBinary),
  // PSETID_Appointment
  PidLidAppointmentStartWhole: lid('PidLidAppointmentStartWhole', PSETID.Appointment, 0x820d, PropType.Time),
  PidLidAppointmentEndWhole: lid('PidLidAppointmentEndWhole', PSETID.Appointment, 0x820e, PropType.Time),
  PidLidAppointmentDuration: lid('PidLidAppointmentDuration', PSETID.Appointment, 0x8213, PropType.Integer32),
  PidLidAppointmentSubType: lid('PidLidAppointmentSubType', PSETID.Appointment, 0x8215, PropType.Boolean),
  PidLidAppointmentRecur: lid('PidLidAppointmentRecur', PSETID.Appointment, 0x8216, PropType.Binary),
  PidLidAppointmentStateFlags: lid('PidLidAppointmentStateFlags', PSETID.Appointment, 0x8217, PropType.Integer32),
  PidLidResponseStatus: lid('PidLidResponseStatus', PSETID.Appointment, 0x8218, PropType.Integer32),
  PidLidRecurring: lid('PidLidRecurring', PSETID.Appointment, 0x8223, PropType.Boolean),
  PidLidBusyStatus: lid('PidLidBusyStatus', PSETID.Appointment, 0x8205, PropType.Integer32),
  PidLidLocation: lid('PidLidLocation', PSETID.Appointment, 0x8208, PropType.String),
  PidLidAppointmentSequence: lid('PidLidAppointmentSequence', PSETID.Appointment, 0x8201, PropType.Integer32),
  PidLidClipStart: lid('PidLidClipStart', PSETID.Appointment, 0x8235, PropType.Time),
  PidLidClipEnd: lid('PidLidClipEnd', PSETID.Appointment, 0x8236, PropType.Time),
  PidLidTimeZoneDescription: lid('PidLidTimeZoneDescription', PSETID.Appointment, 0x8234, PropType.String),
  PidLidAllAttendeesString: lid('PidLidAllAttendeesString', PSETID.Appointment, 0x8238, PropType.String),
  PidLidToAttendeesString: lid('PidLidToAttendeesString', PSETID.Appointment, 0x823b, PropType.String),
  PidLidCcAttendeesString: lid('PidLidCcAttendeesString', PSETID.Appointment, 0x823c, PropType.String),
  PidLidRecurrencePattern: lid('PidLidRecurrencePattern', PSETID.Appointment, 0x8232, PropType.String),
  PidLidRecurrenceType: lid('PidLidRecurrenceType', PSETID.Appointment, 0x8231, PropType.Integer32),
  PidLidIsRecurring: lid('PidLidIsRecurring', PSETID.Meeting, 0x0005, PropType.Boolean),
  PidLidGlobalObjectId: lid('PidLidGlobalObjectId', PSETID.Meeting, 0x0003, PropType.Binary),
  PidLidCleanGlobalObjectId: lid('PidLidCleanGlobalObjectId', PSETID.Meeting, 0x0023, PropType.Binary),
  // PSETID_Task
  PidLidTaskStatus: lid('PidLidTaskStatus', PSETID.Task, 0x8101, PropType.Integer32),
  PidLidPercentComplete: lid('PidLidPercentComplete', PSETID.Task, 0x8102, PropType.Floating64),
  PidLidTaskStartDate: lid('PidLidTaskStartDate', PSETID.Task, 0x8104, PropType.Time),
  PidLidTaskDueDate: lid('PidLidTaskDueDate', PSETID.Task, 0x8105, PropType.Time),
  PidLidTaskDateCompleted: lid('PidLidTaskDateCompleted', PSETID.Task, 0x810f, PropType.Time),
  PidLidTaskComplete: lid('PidLidTaskComplete', PSETID.Task, 0x811c, PropType.Boolean),
  PidLidTaskOwner: lid('PidLidTaskOwner', PSETID.Task, 0x811f, PropType.String),
  PidLidTaskRecurrence: lid('PidLidTaskRecurrence', PSETID.Task, 0x8116, PropType.Binary),
  PidLidTaskFRecurring: lid('PidLidTaskFRecurring', PSETID.Task, 0x8126, PropType.Boolean),
  // PSETID_Note
  PidLidNoteColor: lid('PidLidNoteColor', PSETID.Note, 0x8b00, PropType.Integer32),
  PidLidNoteWidth: lid('PidLidNoteWidth', PSETID.Note, 0x8b02, PropType.Integer32),
  PidLidNoteHeight: lid('PidLidNoteHeight', PSETID.Note, 0x8b03, PropType.Integer32),
  PidLidNoteX: lid('PidLidNoteX', PSETID.Note, 0x8b04, PropType.Integer32),
  PidLidNoteY: lid('PidLidNoteY', PSETID.Note, 0x8b05, PropType.Integer32),
  // PSETID_Log (journal)
  PidLidLogType: lid('PidLidLogType', PSETID.Log, 0x8700, PropType.String),
  PidLidLogStart: lid('PidLidLogStart', PSETID.Log, 0x8706, PropType.Time),
  PidLidLogEnd: lid('PidLidLogEnd', PSETID.Log, 0x8708, PropType.Time),
  PidLidLogDuration: lid('PidLidLogDuration', PSETID.Log, 0x8707, PropType.Integer32),
  PidLidLogTypeDesc: lid('PidLidLogTypeDesc', PSETID.Log, 0x8712, PropType.String),
  // convert/graph-json: contacts (MS-OXOCNTC 2.2.1), calendar (MS-OXOCAL 2.2.1), tasks (MS-OXOTASK 2.2.2)
  PidLidEmail1OriginalEntryId: lid('PidLidEmail1OriginalEntryId', PSETID.Address, 0x8085, PropType.Binary),
  PidLidEmail2AddressType: lid('PidLidEmail2AddressType', PSETID.Address, 0x8092, PropType.String),
  PidLidEmail2OriginalDisplayName: lid('PidLidEmail2OriginalDisplayName', PSETID.Address, 0x8094, PropType.String),
  PidLidEmail2OriginalEntryId: lid('PidLidEmail2OriginalEntryId', PSETID.Address, 0x8095, PropType.Binary),
  PidLidEmail3AddressType: lid('PidLidEmail3AddressType', PSETID.Address, 0x80a2, PropType.String),
  PidLidEmail3OriginalDisplayName: lid('PidLidEmail3OriginalDisplayName', PSETID.Address, 0x80a4, PropType.String),
  PidLidEmail3OriginalEntryId: lid('PidLidEmail3OriginalEntryId', PSETID.Address, 0x80a5, PropType.Binary),
  PidLidWorkAddressState: lid('PidLidWorkAddressState', PSETID.Address, 0x8047, PropType.String),
  PidLidWorkAddressPostOfficeBox: lid('PidLidWorkAddressPostOfficeBox', PSETID.Address, 0x804a, PropType.String),
  PidLidHomeAddress: lid('PidLidHomeAddress', PSETID.Address, 0x801a, PropType.String),
  PidLidWorkAddress: lid('PidLidWorkAddress', PSETID.Address, 0x801b, PropType.String),
  PidLidOtherAddress: lid('PidLidOtherAddress', PSETID.Address, 0x801c, PropType.String),
  PidLidPostalAddressId: lid('PidLidPostalAddressId', PSETID.Address, 0x8022, PropType.Integer32),
  PidLidYomiFirstName: lid('PidLidYomiFirstName', PSETID.Address, 0x802c, PropType.String),
  PidLidYomiLastName: lid('PidLidYomiLastName', PSETID.Address, 0x802e, PropType.String),
  PidLidYomiCompanyName: lid('PidLidYomiCompanyName', PSETID.Address, 0x802f, PropType.String),
  PidLidBirthdayLocal: lid('PidLidBirthdayLocal', PSETID.Address, 0x80de, PropType.Time),
  PidLidWeddingAnniversaryLocal: lid('PidLidWeddingAnniversaryLocal', PSETID.Address, 0x80df, PropType.Time),
  PidLidTimeZoneStruct: lid('PidLidTimeZoneStruct', PSETID.Appointment, 0x8233, PropType.Binary),
  PidLidAppointmentTimeZoneDefinitionStartDisplay: lid('PidLidAppointmentTimeZoneDefinitionStartDisplay', PSETID.Appointment, 0x825e, PropType.Binary),
  PidLidAppointmentTimeZoneDefinitionEndDisplay: lid('PidLidAppointmentTimeZoneDefinitionEndDisplay', PSETID.Appointment, 0x825f, PropType.Binary),
  PidLidAppointmentTimeZoneDefinitionRecur: lid('PidLidAppointmentTimeZoneDefinitionRecur', PSETID.Appointment, 0x8260, PropType.Binary),
  PidLidAppointmentReplyTime: lid('PidLidAppointmentReplyTime', PSETID.Appointment, 0x8220, PropType.Time),
  PidLidIntendedBusyStatus: lid('PidLidIntendedBusyStatus', PSETID.Appointment, 0x8224, PropType.Integer32),
  PidLidExceptionReplaceTime: lid('PidLidExceptionReplaceTime', PSETID.Appointment, 0x8228, PropType.Time),
  PidLidFExceptionalBody: lid('PidLidFExceptionalBody', PSETID.Appointment, 0x8206, PropType.Boolean),
  PidLidFExceptionalAttendees: lid('PidLidFExceptionalAttendees', PSETID.Appointment, 0x822b, PropType.Boolean),
  PidLidAppointmentNotAllowPropose: lid('PidLidAppointmentNotAllowPropose', PSETID.Appointment, 0x825a, PropType.Boolean),
  PidLidNetShowUrl: lid('PidLidNetShowUrl', PSETID.Appointment, 0x8248, PropType.String),
  PidLidTaskState: lid('PidLidTaskState', PSETID.Task, 0x8113, PropType.Integer32),
  PidLidTaskOwnership: lid('PidLidTaskOwnership', PSETID.Task, 0x8129, PropType.Integer32),
  PidLidTaskAcceptanceState: lid('PidLidTaskAcceptanceState', PSETID.Task, 0x812a, PropType.Integer32),
  PidLidTaskMode: lid('PidLidTaskMode', PSETID.Common, 0x8518, PropType.Integer32),
  // PS_PUBLIC_STRINGS / PS_INTERNET_HEADERS
  PidNameKeywords: str('PidNameKeywords', PS_PUBLIC_STRINGS, 'Keywords', PropType.MultipleString),
  PidNameContentType: str('PidNameContentType', PS_INTERNET_HEADERS, 'content-type', PropType.String),
  PidNameContentClass: str('PidNameContentClass', PS_INTERNET_HEADERS, 'content-class', PropType.String),
} satisfies Record<string, NamedPropertyDef>;

/** Canonical name of a known named property, or undefined. */
export function namedPropertyName(key: NamedPropertyKey): string | undefined {
  return NAMED_BY_KEY.get(namedKeyString(key))?.canonicalName;
}

const NAMED_BY_KEY = new Map<string, NamedPropertyDef>(
  Object.values(NAMED).map((d) => [namedKeyString(d.key), d]),
);

/** Looks up a known named property by its identity. */
export function findNamedProperty(key: NamedPropertyKey): NamedPropertyDef | undefined {
  return NAMED_BY_KEY.get(namedKeyString(key));
}
