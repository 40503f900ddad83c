/**
 * Markers and meta-properties of FastTransfer streams (MS-OXCFXICS 2.2.4.1.4 "Markers",
 * 2.2.4.1.5 "Meta-Properties"). Markers look like property tags but carry no value; meta-properties
 * are propValues with a value that steer the receiver and are not properties of the object.
 */

/** Marker tags (MS-OXCFXICS 2.2.4.1.4). */
export const Marker = {
  StartTopFld: 0x40090003,
  StartSubFld: 0x400a0003,
  EndFolder: 0x400b0003,
  StartMessage: 0x400c0003,
  StartFAIMsg: 0x40100003,
  EndMessage: 0x400d0003,
  StartEmbed: 0x40010003,
  EndEmbed: 0x40020003,
  StartRecip: 0x40030003,
  EndToRecip: 0x40040003,
  NewAttach: 0x40000003,
  EndAttach: 0x400e0003,
  IncrSyncChg: 0x40120003,
  IncrSyncChgPartial: 0x407d0003,
  IncrSyncDel: 0x40130003,
  IncrSyncEnd: 0x40140003,
  IncrSyncRead: 0x402f0003,
  IncrSyncStateBegin: 0x403a0003,
  IncrSyncStateEnd: 0x403b0003,
  IncrSyncProgressMode: 0x4074000b,
  IncrSyncProgressPerMsg: 0x4075000b,
  IncrSyncMessage: 0x40150003,
  /** Followed by a propValue with the same tag (PidTagIncrSyncGroupInfo). */
  IncrSyncGroupInfo: 0x407b0102,
  FXErrorInfo: 0x40180003,
} as const;

/** Meta-property tags (MS-OXCFXICS 2.2.4.1.5). */
export const MetaTag = {
  /** PtypInteger32: the tag of a subobject table the receiver clears first (PidTagMessageRecipients
   *  0x0E12000D or PidTagMessageAttachments 0x0E13000D). */
  FXDelProp: 0x40160003,
  EcWarning: 0x400f0003,
  NewFXFolder: 0x40110102,
  IncrSyncGroupId: 0x407c0003,
  IncrementalSyncMessagePartial: 0x407a0003,
  DnPrefix: 0x4008001e,
} as const;

const MARKER_NAMES = new Map<number, string>(Object.entries(Marker).map(([k, v]) => [v >>> 0, k]));
const META_NAMES = new Map<number, string>(Object.entries(MetaTag).map(([k, v]) => [v >>> 0, 'MetaTag' + k]));

/** The marker's name ("StartRecip"…) when `tag` is a marker, else undefined. */
export function markerName(tag: number): string | undefined {
  return MARKER_NAMES.get(tag >>> 0);
}
/** The meta-property's name ("MetaTagFXDelProp"…) when `tag` is one, else undefined. */
export function metaTagName(tag: number): string | undefined {
  return META_NAMES.get(tag >>> 0);
}
/** Hex form of a 32-bit tag as in the specs: 0x40030003. */
export function hexTag(tag: number): string {
  return '0x' + (tag >>> 0).toString(16).toUpperCase().padStart(8, '0');
}
