#!/usr/bin/python3
"""libpff-view: libpff's reading of a PST, one JSON line per message, for Outport's oracle tests.

Usage:  libpff-view.py FILE.pst [--all]
        libpff-view.py FILE.pst --name-map

Talks to libpff (Debian libpff1, the library behind pffexport, pffinfo and python3-pypff) directly
through ctypes, because pypff 20180714 exposes neither recipient tables nor embedded messages.
Nothing of Outport's is used.

Each output line is one message under the root folder, depth first, in libpff's order:
  {"folder": "/Top of Outlook data file/Inbox", "index": 0, "id": NID,
   "props": {"0xIIIITTTT": value, ...},
   "body": plain text body as libpff renders it (or null),
   "recipients": [{"0xIIIITTTT": value, ...}, ...],
   "attachments": [{"type": libpff attachment type (100 'd' data, 105 'i' item, 114 'r' reference),
                    "size": bytes, "sha256": hex of the data (data attachments),
                    "props": {...}, "message": {... embedded message, same shape ...}}]}
Without --all, "props" holds only the properties the corpus test compares (subject, sender,
sent-representing, times, message class); with --all every property. Values: strings as text;
integers (0x0002, 0x0003, 0x0014) signed; booleans; floats; FILETIMEs as ISO 8601 UTC with
microseconds (as shared/tools/pst-dump prints them); everything else as lowercase hex.

With --name-map, one JSON object instead: the store's name-to-ID map (MS-PST 2.4.7, node 0x61) as
libpff reads it, {"0x8000": "{GUID}:lid:0x8205" or "{GUID}:name:Keywords", ...}: the bytes of its
GUID, entry and string streams (0x0002, 0x0003, 0x0004) come from libpff; this script only decodes
the 8-byte NAMEID records (dwPropertyID, wGuid << 1 | N, wPropIdx; property id 0x8000 + wPropIdx;
wGuid 1 = PS_MAPI, 2 = PS_PUBLIC_STRINGS, n >= 3 = the (n - 3)th GUID of the GUID stream; N = 1:
dwPropertyID is an offset into the string stream, a 4-byte length and UTF-16LE text).

Exit status: 0 read; 1 libpff could not open or walk the file; 2 usage or libpff missing.
"""
import ctypes
import datetime
import hashlib
import json
import struct
import sys

SELECTED = {
    0x0037, 0x0039, 0x0E06, 0x001A,  # subject, client submit time, delivery time, message class
    0x0C1A, 0x0C1F, 0x0C1E, 0x5D01,  # sender name, email address, address type, SMTP address
    0x0042, 0x0065, 0x0064, 0x5D02,  # sent representing ...
    0x3FDE, 0x3FFD, 0x1016,  # internet code page, message code page, native body
}

CODECS = {65001: "utf-8", 20127: "cp1252", 28591: "cp1252", 1252: "cp1252", 936: "gbk", 950: "cp950", 949: "cp949", 51949: "euc_kr", 50225: "iso2022_kr",
          932: "cp932", 50220: "iso2022_jp", 51932: "euc_jp", 20866: "koi8_r", 21866: "koi8_u", 874: "cp874",
          1200: "utf-16-le", 54936: "gb18030", 52936: "hz"}


def codec_of(codepage):
    if codepage in CODECS:
        return CODECS[codepage]
    if 28592 <= codepage <= 28606:
        return "iso8859_%d" % (codepage - 28590)
    if 1250 <= codepage <= 1258:
        return "cp%d" % codepage
    return "cp1252"


def html_body(message, codepage):
    """PidTagHtml through libpff, decoded in the message's code page (hex when undecodable)."""
    size = ctypes.c_size_t(0)
    err = P(None)
    rc = lib.libpff_message_get_html_body_size(message, ctypes.byref(size), ctypes.byref(err))
    if rc != 1:
        if err.value:
            lib.libpff_error_free(ctypes.byref(err))
        return None
    if size.value == 0:
        return ""
    buf = ctypes.create_string_buffer(size.value + 1)
    call("libpff_message_get_html_body", message, buf, ctypes.c_size_t(size.value))
    data = buf.raw[: size.value].rstrip(b"\0")
    return data.decode(codec_of(codepage or 65001), "replace")

try:
    lib = ctypes.CDLL("libpff.so.1")
except OSError:
    sys.stderr.write("libpff-view: libpff.so.1 is missing: apt-get install -y libpff1 (or python3-pypff)\n")
    sys.exit(2)

P = ctypes.c_void_p


class PffError(Exception):
    pass


def call(name, *args):
    err = P(None)
    rc = getattr(lib, name)(*args, ctypes.byref(err))
    if rc == -1:
        buf = ctypes.create_string_buffer(4096)
        lib.libpff_error_sprint(err, buf, 4096)
        lib.libpff_error_free(ctypes.byref(err))
        raise PffError("%s: %s" % (name, buf.value.decode("utf-8", "replace").strip()))
    return rc


for fn in ("libpff_error_sprint",):
    getattr(lib, fn).argtypes = [P, ctypes.c_char_p, ctypes.c_size_t]
lib.libpff_error_free.argtypes = [ctypes.POINTER(P)]
lib.libpff_attachment_data_read_buffer.restype = ctypes.c_ssize_t


def free_item(item):
    if item.value:
        call("libpff_item_free", ctypes.byref(item))


def filetime_iso(ticks):
    if ticks == 0:
        return "1601-01-01T00:00:00Z"
    t = datetime.datetime(1601, 1, 1) + datetime.timedelta(microseconds=ticks // 10)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_value(entry, vtype):
    size = ctypes.c_size_t(0)
    try:
        call("libpff_record_entry_get_data_size", entry, ctypes.byref(size))
    except PffError:
        return None
    if size.value == 0:
        if vtype in (0x001F, 0x001E):
            return ""
        return None
    buf = (ctypes.c_uint8 * size.value)()
    call("libpff_record_entry_get_data", entry, buf, ctypes.c_size_t(size.value))
    data = bytes(buf)
    if vtype in (0x001F, 0x001E):
        usize = ctypes.c_size_t(0)
        try:
            call("libpff_record_entry_get_data_as_utf8_string_size", entry, ctypes.byref(usize))
            ubuf = ctypes.create_string_buffer(usize.value + 1)
            call("libpff_record_entry_get_data_as_utf8_string", entry, ubuf, ctypes.c_size_t(usize.value))
            return ubuf.raw[: usize.value].rstrip(b"\0").decode("utf-8", "replace")
        except PffError:
            return data.hex()
    if vtype == 0x0002 and len(data) >= 2:
        return struct.unpack("<h", data[:2])[0]
    if vtype == 0x0003 and len(data) >= 4:
        return struct.unpack("<i", data[:4])[0]
    if vtype == 0x0014 and len(data) >= 8:
        return struct.unpack("<q", data[:8])[0]
    if vtype == 0x000B:
        return data[0] != 0
    if vtype == 0x0004 and len(data) >= 4:
        return struct.unpack("<f", data[:4])[0]
    if vtype == 0x0005 and len(data) >= 8:
        return struct.unpack("<d", data[:8])[0]
    if vtype == 0x0040 and len(data) >= 8:
        return filetime_iso(struct.unpack("<Q", data[:8])[0])
    return data.hex()


def record_sets(item, selected):
    """Every record set of an item as a list of {tag: value} dicts."""
    out = []
    n = ctypes.c_int(0)
    call("libpff_item_get_number_of_record_sets", item, ctypes.byref(n))
    for r in range(n.value):
        rs = P(None)
        call("libpff_item_get_record_set_by_index", item, ctypes.c_int(r), ctypes.byref(rs))
        props = {}
        ne = ctypes.c_int(0)
        call("libpff_record_set_get_number_of_entries", rs, ctypes.byref(ne))
        for e in range(ne.value):
            entry = P(None)
            call("libpff_record_set_get_entry_by_index", rs, ctypes.c_int(e), ctypes.byref(entry))
            etype = ctypes.c_uint32(0)
            vtype = ctypes.c_uint32(0)
            call("libpff_record_entry_get_entry_type", entry, ctypes.byref(etype))
            call("libpff_record_entry_get_value_type", entry, ctypes.byref(vtype))
            if selected is None or etype.value in selected:
                props["0x%04x%04x" % (etype.value, vtype.value)] = entry_value(entry, vtype.value)
            call("libpff_record_entry_free", ctypes.byref(entry))
        call("libpff_record_set_free", ctypes.byref(rs))
        out.append(props)
    return out


def plain_body(message):
    size = ctypes.c_size_t(0)
    err = P(None)
    rc = lib.libpff_message_get_plain_text_body_size(message, ctypes.byref(size), ctypes.byref(err))
    if rc != 1:
        if err.value:
            lib.libpff_error_free(ctypes.byref(err))
        return None
    if size.value == 0:
        return ""
    buf = ctypes.create_string_buffer(size.value + 1)
    try:
        call("libpff_message_get_plain_text_body", message, buf, ctypes.c_size_t(size.value))
    except PffError as e:
        return {"error": str(e)}
    return buf.raw[: size.value].rstrip(b"\0").decode("utf-8", "replace")


def message_json(message, selected, depth=0):
    ident = ctypes.c_uint32(0)
    call("libpff_item_get_identifier", message, ctypes.byref(ident))
    sets = record_sets(message, selected)
    props = sets[0] if sets else {}
    out = {"id": ident.value, "props": props, "body": plain_body(message), "recipients": [], "attachments": []}
    out["html"] = html_body(message, props.get("0x3fde0003"))
    recips = P(None)
    err = P(None)
    if lib.libpff_message_get_recipients(message, ctypes.byref(recips), ctypes.byref(err)) == 1:
        out["recipients"] = record_sets(recips, None)
        free_item(recips)
    elif err.value:
        lib.libpff_error_free(ctypes.byref(err))
    na = ctypes.c_int(0)
    call("libpff_message_get_number_of_attachments", message, ctypes.byref(na))
    for a in range(na.value):
        att = P(None)
        call("libpff_message_get_attachment", message, ctypes.c_int(a), ctypes.byref(att))
        atype = ctypes.c_int(0)
        call("libpff_attachment_get_type", att, ctypes.byref(atype))
        asets = record_sets(att, None if selected is None else {0x3001, 0x3704, 0x3707, 0x3705, 0x370E, 0x3712})
        entry = {"type": atype.value, "props": asets[0] if asets else {}}
        if atype.value == ord("d"):
            size = ctypes.c_uint64(0)
            call("libpff_attachment_get_data_size", att, ctypes.byref(size))
            data = b""
            if size.value:
                buf = (ctypes.c_uint8 * size.value)()
                got = call("libpff_attachment_data_read_buffer", att, buf, ctypes.c_size_t(size.value))
                data = bytes(buf)[:got]
            entry["size"] = len(data)
            entry["sha256"] = hashlib.sha256(data).hexdigest()
            mime = entry["props"].get("0x370e001f")
            if isinstance(mime, str) and mime.startswith("text/") and len(data) < 1 << 20:
                entry["text"] = data.decode("utf-8", "replace")
        elif atype.value == ord("i") and depth < 16:
            inner = P(None)
            call("libpff_attachment_get_item", att, ctypes.byref(inner))
            entry["message"] = message_json(inner, selected, depth + 1)
            free_item(inner)
        out["attachments"].append(entry)
        free_item(att)
    return out


def folder_name(folder):
    size = ctypes.c_size_t(0)
    err = P(None)
    if lib.libpff_folder_get_utf8_name_size(folder, ctypes.byref(size), ctypes.byref(err)) != 1:
        if err.value:
            lib.libpff_error_free(ctypes.byref(err))
        return ""
    buf = ctypes.create_string_buffer(size.value + 1)
    call("libpff_folder_get_utf8_name", folder, buf, ctypes.c_size_t(size.value))
    return buf.value.decode("utf-8", "replace")


def walk(folder, path, selected, write):
    n = ctypes.c_int(0)
    call("libpff_folder_get_number_of_sub_messages", folder, ctypes.byref(n))
    for i in range(n.value):
        msg = P(None)
        call("libpff_folder_get_sub_message", folder, ctypes.c_int(i), ctypes.byref(msg))
        m = message_json(msg, selected)
        m["folder"] = path
        m["index"] = i
        write(m)
        free_item(msg)
    call("libpff_folder_get_number_of_sub_folders", folder, ctypes.byref(n))
    for i in range(n.value):
        sub = P(None)
        call("libpff_folder_get_sub_folder", folder, ctypes.c_int(i), ctypes.byref(sub))
        walk(sub, path + "/" + folder_name(sub), selected, write)
        free_item(sub)


PS_MAPI = "{00020328-0000-0000-C000-000000000046}"
PS_PUBLIC_STRINGS = "{00020329-0000-0000-C000-000000000046}"


def guid_text(b):
    d1, d2, d3 = struct.unpack("<IHH", b[:8])
    return "{%08X-%04X-%04X-%s-%s}" % (d1, d2, d3, b[8:10].hex().upper(), b[10:16].hex().upper())


def name_map(f):
    """The name-to-ID map (node 0x61) as {"0x8000": "{GUID}:lid:0x8205" | "{GUID}:name:TEXT"}."""
    item = P(None)
    err = P(None)
    if lib.libpff_file_get_item_by_identifier(f, ctypes.c_uint32(0x61), ctypes.byref(item), ctypes.byref(err)) != 1:
        if err.value:
            lib.libpff_error_free(ctypes.byref(err))
        return {}
    sets = record_sets(item, None)
    free_item(item)
    props = sets[0] if sets else {}
    guids = bytes.fromhex(props.get("0x00020102") or "")
    entries = bytes.fromhex(props.get("0x00030102") or "")
    strings = bytes.fromhex(props.get("0x00040102") or "")
    out = {}
    for off in range(0, len(entries) - 7, 8):
        prop, guid_n, idx = struct.unpack("<IHH", entries[off:off + 8])
        wguid = guid_n >> 1
        if wguid == 1:
            guid = PS_MAPI
        elif wguid == 2:
            guid = PS_PUBLIC_STRINGS
        elif 16 * (wguid - 3) + 16 <= len(guids):
            guid = guid_text(guids[16 * (wguid - 3):16 * (wguid - 2)])
        else:
            guid = "{guid #%d}" % wguid
        if guid_n & 1:
            n = struct.unpack("<I", strings[prop:prop + 4])[0] if prop + 4 <= len(strings) else 0
            name = "name:" + strings[prop + 4:prop + 4 + n].decode("utf-16-le", "replace")
        else:
            name = "lid:0x%04x" % prop
        out["0x%04x" % (0x8000 + idx)] = guid + ":" + name
    return out


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    flags = {a for a in argv if a.startswith("--")}
    if len(args) != 1 or flags - {"--all", "--name-map"}:
        sys.stderr.write(__doc__)
        return 2
    selected = None if "--all" in flags else SELECTED
    f = P(None)
    out = sys.stdout
    try:
        call("libpff_file_initialize", ctypes.byref(f))
        call("libpff_file_open", f, args[0].encode(), ctypes.c_int(1))
        if "--name-map" in flags:
            out.write(json.dumps(name_map(f), ensure_ascii=False) + "\n")
            call("libpff_file_close", f)
            call("libpff_file_free", ctypes.byref(f))
            return 0
        root = P(None)
        call("libpff_file_get_root_folder", f, ctypes.byref(root))
        walk(root, "", selected, lambda m: out.write(json.dumps(m, ensure_ascii=False) + "\n"))
        free_item(root)
        call("libpff_file_close", f)
        call("libpff_file_free", ctypes.byref(f))
    except PffError as err:
        sys.stderr.write("libpff-view: libpff could not read %s: %s\n" % (args[0], err))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
