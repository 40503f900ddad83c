#!/usr/bin/python3
"""libpff-attachments: every message's attachments as libpff (python3-pypff) reads them, as JSON.

Usage:  libpff-attachments.py FILE.pst

Prints one JSON object: {"messages": [{"folder": "a/b", "subject": ..., "attachments":
[{"size": N, "sha256": "..."}]}]}. Attachment data is read in 4 MiB chunks and hashed as it
streams, so a 150 MB attachment never sits in memory whole. Exit 1 when libpff fails.
Used by test/pst/large.test.ts as the independent reader of large attachments.
"""
import hashlib
import json
import sys

import pypff

CHUNK_BYTES = 4 * 1024 * 1024


def attachment_json(att):
    size = att.get_size()
    digest = hashlib.sha256()
    done = 0
    while done < size:
        data = att.read_buffer(min(CHUNK_BYTES, size - done))
        if not data:
            break
        digest.update(data)
        done += len(data)
    return {"size": size, "read": done, "sha256": digest.hexdigest()}


def walk(folder, path, out):
    for i in range(folder.number_of_sub_messages):
        msg = folder.get_sub_message(i)
        out.append({
            "folder": "/".join(path),
            "subject": msg.subject,
            "attachments": [attachment_json(msg.get_attachment(j)) for j in range(msg.number_of_attachments)],
        })
    for i in range(folder.number_of_sub_folders):
        sub = folder.get_sub_folder(i)
        walk(sub, path + [sub.name or ""], out)


def main():
    if len(sys.argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    pst = pypff.file()
    try:
        pst.open(sys.argv[1])
        out = []
        walk(pst.root_folder, [], out)
    except (IOError, OSError) as err:
        sys.stderr.write("libpff-attachments: %s\n" % err)
        return 1
    json.dump({"messages": out}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
