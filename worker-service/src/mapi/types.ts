/**
 * MAPI property types (MS-OXCDATA 2.11.1 "Property Data Types") and the JavaScript shape each
 * value takes in Outport.
 *
 * Value shapes (chosen so that PST → PST round trips are exact):
 * - PtypInteger16/32, PtypFloating32/64, PtypFloatingTime, PtypErrorCode → `number`
 * - PtypInteger64, PtypCurrency, PtypTime → `bigint` (PtypTime is a FILETIME: 100 ns ticks since
 *   1601-01-01 UTC; use {@link filetimeFromDate} / {@link dateFromFiletime})
 * - PtypBoolean → `boolean`
 * - PtypString, PtypString8 → `string` (PtypString8 is decoded with the item's code page)
 * - PtypGuid → `string` (canonical lower-case "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx")
 * - PtypBinary, PtypServerId, PtypRestriction, PtypRuleAction, PtypObject → `Uint8Array`
 * - PtypMultiple* → arrays of the single-valued shape
 */
export enum PropType {
  Unspecified = 0x0000,
  Null = 0x0001,
  Integer16 = 0x0002,
  Integer32 = 0x0003,
  Floating32 = 0x0004,
  Floating64 = 0x0005,
  Currency = 0x0006,
  FloatingTime = 0x0007,
  ErrorCode = 0x000a,
  Boolean = 0x000b,
  Object = 0x000d,
  Integer64 = 0x0014,
  String8 = 0x001e,
  String = 0x001f,
  Time = 0x0040,
  Guid = 0x0048,
  ServerId = 0x00fb,
  Restriction = 0x00fd,
  RuleAction = 0x00fe,
  Binary = 0x0102,
  MultipleInteger16 = 0x1002,
  MultipleInteger32 = 0x1003,
  MultipleFloating32 = 0x1004,
  MultipleFloating64 = 0x1005,
  MultipleCurrency = 0x1006,
  MultipleFloatingTime = 0x1007,
  MultipleInteger64 = 0x1014,
  MultipleString8 = 0x101e,
  MultipleString = 0x101f,
  MultipleTime = 0x1040,
  MultipleGuid = 0x1048,
  MultipleBinary = 0x1102,
}

/** The PT_* names used by MAPI headers, for readers who know the C names. */
export const PT = {
  PT_UNSPECIFIED: PropType.Unspecified,
  PT_NULL: PropType.Null,
  PT_SHORT: PropType.Integer16,
  PT_I2: PropType.Integer16,
  PT_LONG: PropType.Integer32,
  PT_I4: PropType.Integer32,
  PT_FLOAT: PropType.Floating32,
  PT_R4: PropType.Floating32,
  PT_DOUBLE: PropType.Floating64,
  PT_R8: PropType.Floating64,
  PT_CURRENCY: PropType.Currency,
  PT_APPTIME: PropType.FloatingTime,
  PT_ERROR: PropType.ErrorCode,
  PT_BOOLEAN: PropType.Boolean,
  PT_OBJECT: PropType.Object,
  PT_I8: PropType.Integer64,
  PT_LONGLONG: PropType.Integer64,
  PT_STRING8: PropType.String8,
  PT_UNICODE: PropType.String,
  PT_SYSTIME: PropType.Time,
  PT_CLSID: PropType.Guid,
  PT_SVREID: PropType.ServerId,
  PT_SRESTRICT: PropType.Restriction,
  PT_ACTIONS: PropType.RuleAction,
  PT_BINARY: PropType.Binary,
  PT_MV_SHORT: PropType.MultipleInteger16,
  PT_MV_LONG: PropType.MultipleInteger32,
  PT_MV_FLOAT: PropType.MultipleFloating32,
  PT_MV_DOUBLE: PropType.MultipleFloating64,
  PT_MV_CURRENCY: PropType.MultipleCurrency,
  PT_MV_APPTIME: PropType.MultipleFloatingTime,
  PT_MV_I8: PropType.MultipleInteger64,
  PT_MV_STRING8: PropType.MultipleString8,
  PT_MV_UNICODE: PropType.MultipleString,
  PT_MV_SYSTIME: PropType.MultipleTime,
  PT_MV_CLSID: PropType.MultipleGuid,
  PT_MV_BINARY: PropType.MultipleBinary,
} as const;

/** Flag that marks a multi-valued type (MS-OXCDATA 2.11.1). */
export const MV_FLAG = 0x1000;

/** A single-valued property value, shaped as described on {@link PropType}. */
export type ScalarValue = number | bigint | boolean | string | Uint8Array | null;
/** Any property value: a scalar or, for PtypMultiple*, an array of scalars. */
export type PropValue = ScalarValue | number[] | bigint[] | string[] | Uint8Array[];

/** True when `type` is a PtypMultiple* type. */
export function isMultiValued(type: number): boolean {
  return (type & MV_FLAG) !== 0;
}

/** The element type of a multi-valued type (e.g. MultipleString → String); scalars map to themselves. */
export function baseType(type: number): PropType {
  return (type & ~MV_FLAG) as PropType;
}

/**
 * Size in bytes of a fixed-size value of `type` (MS-OXCDATA 2.11.1), or 0 when the type is
 * variable-size (strings, binaries, GUID counts as fixed 16, multi-valued as variable).
 */
export function fixedSize(type: number): number {
  switch (type) {
    case PropType.Null:
      return 0;
    case PropType.Integer16:
      return 2;
    case PropType.Integer32:
    case PropType.Floating32:
    case PropType.ErrorCode:
      return 4;
    case PropType.Boolean:
      return 1;
    case PropType.Floating64:
    case PropType.Currency:
    case PropType.FloatingTime:
    case PropType.Integer64:
    case PropType.Time:
      return 8;
    case PropType.Guid:
      return 16;
    default:
      return 0;
  }
}

/** Builds a property tag: id in the high 16 bits, type in the low 16 bits (MS-OXCDATA 2.9). */
export function propTag(id: number, type: number): number {
  return (((id & 0xffff) << 16) | (type & 0xffff)) >>> 0;
}
/** The property id (high 16 bits) of a tag. */
export function tagId(tag: number): number {
  return (tag >>> 16) & 0xffff;
}
/** The property type (low 16 bits) of a tag. */
export function tagType(tag: number): number {
  return tag & 0xffff;
}

/** FILETIME ticks (100 ns) between 1601-01-01 and 1970-01-01. */
const FILETIME_UNIX_EPOCH = 116444736000000000n;

/** Converts a JavaScript Date to a FILETIME (100 ns ticks since 1601-01-01 UTC) as bigint. */
export function filetimeFromDate(date: Date): bigint {
  return BigInt(date.getTime()) * 10000n + FILETIME_UNIX_EPOCH;
}
/** Converts a FILETIME (bigint ticks) to a Date (millisecond precision; sub-millisecond ticks dropped). */
export function dateFromFiletime(ft: bigint): Date {
  return new Date(Number((ft - FILETIME_UNIX_EPOCH) / 10000n));
}

/** Returns a human name such as "PtypString" for a type, or "Ptyp0x1234" when unknown. */
export function propTypeName(type: number): string {
  const name = PropType[type as PropType];
  return name ? `Ptyp${name}` : `Ptyp0x${type.toString(16).padStart(4, '0')}`;
}
