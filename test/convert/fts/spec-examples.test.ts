/**
 * Byte dumps decoded as MS-OXCFXICS 2.2.4 says: the worked example of Microsoft's Open
 * Specifications blog ("MS-OXCFXICS – How to parse the FastTransfer Stream", written against
 * MS-OXCFXICS 16.2, the only published byte dump of a FastTransfer stream we found), and streams
 * assembled by hand from the spec's ABNF (2.2.4.1.1 propValue forms, 2.2.4.2 messageContent).
 */
import {
  decodeExportItem, decodeFtsMessage, encodeFtsMessage, frameExportData, FtsDecodeError, Marker, readFtsElements,
  type FtsPropValue,
} from '../../../worker-service/src/convert/fts';
import { PSETID, PS_PUBLIC_STRINGS } from '../../../worker-service/src/mapi/named';
import { PropType, dateFromFiletime } from '../../../worker-service/src/mapi/types';

/** "0x0000: | 03 00 …" lines or plain hex → bytes; `;` starts a comment. */
function bytes(text: string): Uint8Array {
  const hex = text.split('\n').map((l) => l.replace(/;.*$/, '').replace(/^\s*0x[0-9A-Fa-f]+:\s*\|/, '')).join(' ');
  return Uint8Array.from(hex.split(/\s+/).filter(Boolean).map((h) => parseInt(h, 16)));
}
const utf16 = (s: string): string => Buffer.from(s, 'utf16le').toString('hex').replace(/(..)/g, '$1 ');

// The blog's sample data: "the first part of a much larger stream" (an ICS folder change).
const BLOG_DUMP = bytes(`
0x0000: | 03 00 12 40 02 01 E1 65 00 00 00 00 02 01 E0 65
0x0010: | 16 00 00 00 52 F6 85 EC 7D 43 2E 4A A9 60 34 50
0x0020: | 88 53 D9 0A 00 00 00 00 03 F5 40 00 08 30 00 D0
0x0030: | 9E A8 81 85 D0 01 02 01 E2 65 16 00 00 00 52 F6
0x0040: | 85 EC 7D 43 2E 4A A9 60 34 50 88 53 D9 0A 00 00
0x0050: | 00 00 20 7C 02 01 E3 65 17 00 00 00 16 52 F6 85
0x0060: | EC 7D 43 2E 4A A9 60 34 50 88 53 D9 0A 00 00 00
0x0070: | 00 20 7C 1F 00 01 30 0C 00 00 00 49 00 4E 00 42
0x0080: | 00 4F 00 58 00 00 00 14 00 49 67 01 00 00 00 00
0x0090: | 00 03 F4 03 00 39 66 FB 03 00 00 40 00 07 30 80
0x00A0: | 39 06 A8 81 85 D0 01 0B 00 F4 10 00 00`);

describe('MS-OXCFXICS worked example (Open Specifications blog)', () => {
  it('is 173 bytes: one marker and ten propValues, ending on an element boundary', () => {
    expect(BLOG_DUMP).toHaveLength(0xad);
    const r = readFtsElements(BLOG_DUMP);
    expect(r.truncated).toBeUndefined();
    const summary = r.elements.map((e) => [e.offset, '0x' + e.tag.toString(16).toUpperCase().padStart(8, '0'), e.kind === 'marker' ? e.name : e.type]);
    expect(summary).toEqual([
      [0x00, '0x40120003', 'IncrSyncChg'], // marker (2.2.4.1.4): no value follows
      [0x04, '0x65E10102', PropType.Binary], // PidTagParentSourceKey, length 0
      [0x0c, '0x65E00102', PropType.Binary], // PidTagSourceKey, 22 bytes (XID)
      [0x2a, '0x30080040', PropType.Time], // PidTagLastModificationTime
      [0x36, '0x65E20102', PropType.Binary], // PidTagChangeKey, 22 bytes
      [0x54, '0x65E30102', PropType.Binary], // PidTagPredecessorChangeList, 23 bytes
      [0x73, '0x3001001F', PropType.String], // PidTagDisplayName "INBOX"
      [0x87, '0x67490014', PropType.Integer64], // PidTagParentFolderId
      [0x93, '0x66390003', PropType.Integer32], // PidTagRights
      [0x9b, '0x30070040', PropType.Time], // PidTagCreationTime
      [0xa7, '0x10F4000B', PropType.Boolean], // PidTagAttributeHidden: 2 bytes in FastTransfer
    ]);
  });

  it('has the values the spec\'s rules give', () => {
    const p = readFtsElements(BLOG_DUMP).elements.filter((e): e is FtsPropValue => e.kind === 'prop');
    const hex = (v: unknown) => Buffer.from(v as Uint8Array).toString('hex');
    expect(p[0].value).toEqual(new Uint8Array(0)); // zero-length binary
    expect(hex(p[1].value)).toBe('52f685ec7d432e4aa96034508853d90a0000000003f5');
    expect(dateFromFiletime(p[2].value as bigint).toISOString()).toBe('2015-05-03T09:15:12.000Z');
    expect(hex(p[3].value)).toBe('52f685ec7d432e4aa96034508853d90a00000000207c');
    expect(hex(p[4].value)).toBe('1652f685ec7d432e4aa96034508853d90a00000000207c'); // PCL: size byte + XID
    expect(p[5].value).toBe('INBOX'); // 12 bytes: 5 characters + the terminating NUL
    expect(BigInt.asUintN(64, p[6].value as bigint).toString(16)).toBe('f403000000000001'); // FID: replid 1 + GLOBCNT
    expect(p[7].value).toBe(0x3fb);
    expect(dateFromFiletime(p[8].value as bigint).toISOString()).toBe('2015-05-03T09:15:11.000Z');
    expect(p[9].value).toBe(false);
    expect(p[9].end - p[9].offset).toBe(6); // tag + 2-byte boolean
  });

  it('is not a messageContent: the message decoder rejects the IncrSyncChg marker at offset 0', () => {
    expect(() => decodeFtsMessage(BLOG_DUMP)).toThrow(FtsDecodeError);
    try { decodeFtsMessage(BLOG_DUMP); } catch (e) {
      expect(e).toMatchObject({ code: 'FtsDecodeFailed', reason: 'UnexpectedMarker', offset: 0, tag: Marker.IncrSyncChg });
      expect((e as Error).message).toContain('IncrSyncChg');
    }
  });

  it('cut anywhere inside an element, the lexer reports the element and what was there', () => {
    const r = readFtsElements(BLOG_DUMP.subarray(0, 0x7f)); // inside "INBOX": value starts at 0x7B
    expect(r.elements).toHaveLength(6);
    expect(r.truncated).toMatchObject({ streamOffset: 0x7f, partial: { offset: 0x73, tag: 0x3001001f, tagName: 'PidTagDisplayName', declaredLength: 12, textPrefix: 'IN' } });
  });
});

// A message assembled by hand from the ABNF, with a comment per element.
const COMMON = '08 20 06 00 00 00 00 00 c0 00 00 00 00 00 00 46'; // PSETID_Common {00062008-…-46}, MAPI byte order
const PUBLIC_STRINGS = '29 03 02 00 00 00 00 00 c0 00 00 00 00 00 00 46'; // PS_PUBLIC_STRINGS {00020329-…-46}
const HAND_MESSAGE = bytes(`
03 00 17 00  02 00 00 00                        ; PidTagImportance = 2
b0 84 1a 00  12 00 00 00  ${utf16('IPM.Note')} 00 00  ; PidTagMessageClass as 0x84B0 (code page 1200)
1e 00 37 00  04 00 00 00  cf f0 e8 00           ; PidTagSubject as PtypString8: "При" in code page 1251…
03 00 fd 3f  e3 04 00 00                        ; …which PidTagMessageCodepage (1251) names only afterwards
e4 84 3d 00  05 00 00 00  63 61 66 e9 00        ; PidTagSubjectPrefix as 0x84E4 (Windows-1252): "café"
0b 00 1b 0e  01 00                              ; PidTagHasAttachments = true (2 bytes)
02 01 71 00  00 00 00 00                        ; PidTagConversationIndex: zero-length binary
03 00 01 85  ${COMMON} 00 01 85 00 00  0f 00 00 00        ; PidLidReminderDelta (LID 0x8501) = 15, local id 0x8501
1f 10 00 90  ${PUBLIC_STRINGS} 01 ${utf16('Keywords')} 00 00  02 00 00 00  08 00 00 00 ${utf16('Red')} 00 00  0a 00 00 00 ${utf16('Blue')} 00 00 ; PidNameKeywords (local id 0x9000) = ["Red","Blue"]
03 10 50 0e  02 00 00 00  01 00 00 00  ff ff ff ff  ; an MV PtypInteger32 [1, -1]
03 00 16 40  0d 00 12 0e                        ; MetaTagFXDelProp = PidTagMessageRecipients
03 00 03 40                                     ; StartRecip
1f 00 01 30  08 00 00 00 ${utf16('Ann')} 00 00  ; PidTagDisplayName
03 00 15 0c  01 00 00 00                        ; PidTagRecipientType = 1 (To)
03 00 04 40                                     ; EndToRecip
03 00 00 40                                     ; NewAttach
03 00 21 0e  00 00 00 00                        ; PidTagAttachNumber = 0
03 00 05 37  05 00 00 00                        ; PidTagAttachMethod = 5 (embedded message)
03 00 01 40                                     ; StartEmbed
1f 00 37 00  06 00 00 00 ${utf16('Hi')} 00 00   ; PidTagSubject of the embedded message
03 00 fd 3f  e4 04 00 00                        ; its own PidTagMessageCodepage 1252
1e 00 3d 00  03 00 00 00  e9 e8 00              ; PidTagSubjectPrefix PtypString8 "éè" in 1252
03 00 02 40                                     ; EndEmbed
03 00 0e 40                                     ; EndAttach
`);

describe('a messageContent assembled from the MS-OXCFXICS ABNF', () => {
  it('decodes to the MapiItem the grammar describes', () => {
    const r = decodeFtsMessage(HAND_MESSAGE);
    expect(r.complete).toBe(true);
    const p = r.item.properties;
    expect(p.getTyped(0x0017)).toEqual({ type: PropType.Integer32, value: 2 });
    expect(p.getTyped(0x001a)).toEqual({ type: PropType.String, value: 'IPM.Note' });
    expect(p.getTyped(0x0037)).toEqual({ type: PropType.String8, value: 'При' });
    expect(p.getTyped(0x003d)).toEqual({ type: PropType.String, value: 'café' });
    expect(p.getTyped(0x0e1b)).toEqual({ type: PropType.Boolean, value: true });
    expect(p.getTyped(0x0071)).toEqual({ type: PropType.Binary, value: new Uint8Array(0) });
    expect(p.getTyped(0x0e50)).toEqual({ type: PropType.MultipleInteger32, value: [1, -1] });
    expect(p.getNamed({ guid: PSETID.Common, lid: 0x8501 })).toEqual({ type: PropType.Integer32, value: 15 });
    expect(p.getNamed({ guid: PS_PUBLIC_STRINGS, name: 'Keywords' })).toEqual({ type: PropType.MultipleString, value: ['Red', 'Blue'] });
    expect(r.item.recipients).toHaveLength(1);
    expect(r.item.recipients[0].get(0x3001)).toBe('Ann');
    expect(r.item.recipients[0].get(0x0c15)).toBe(1);
    expect(r.item.attachments).toHaveLength(1);
    const att = r.item.attachments[0];
    expect(att.properties.get(0x0e21)).toBe(0);
    expect(att.properties.get(0x3705)).toBe(5);
    expect(att.embedded!.properties.get(0x0037)).toBe('Hi');
    expect(att.embedded!.properties.getTyped(0x003d)).toEqual({ type: PropType.String8, value: 'éè' });
    expect(r.metaProperties).toEqual([{ offset: expect.any(Number), tag: 0x40160003, name: 'MetaTagFXDelProp', value: 0x0e12000d, path: 'message' }]);
  });

  it('re-encodes to a stream that decodes to the same item', () => {
    const a = decodeFtsMessage(HAND_MESSAGE).item;
    const b = decodeFtsMessage(encodeFtsMessage(a)).item;
    expect(b).toEqual(a);
  });

  it('framed and cut at every byte after the headers, decodes as far as it goes and says so', () => {
    const framed = frameExportData(HAND_MESSAGE);
    const headerBytes = 62 + 8;
    for (let k = headerBytes; k < framed.length; k++) {
      const r = decodeExportItem(framed.subarray(0, k));
      expect(r.complete).toBe(false);
      expect(r.truncated!.offset).toBe(k);
      expect(r.truncated!.streamOffset).toBe(k - headerBytes);
    }
    expect(decodeExportItem(framed).complete).toBe(true);
  });
});
