# SPDX-License-Identifier: GPL-2.0-or-later
"""Read OfflineIMAP's status cache and folder validity files (as written
by offlineimap3 or oimap) for assertions.

    read_status(metadata, "Test", "INBOX")  -> {uid: Status(flags, mtime,
                                                labels)} or None
    status_backend(metadata, "Test", "INBOX") -> "sqlite", "plain" or None
    folder_validity(metadata, "Test-Remote", "INBOX") -> int or None

Folder names are the status file names: OfflineIMAP replaces '/' with
'.' (getfolderbasename), e.g. "Archive/2024" -> "Archive.2024".
"""
import os
import re
import sqlite3
from collections import namedtuple

Status = namedtuple("Status", "flags mtime labels")

PLAIN_MAGIC = "OFFLINEIMAP LocalStatus CACHE DATA - DO NOT MODIFY - FORMAT"


def basename(folder):
    b = folder.replace("/", ".") if folder else "."
    return re.sub(r"(^|/)\.$", r"\1dot", b)


def _path(metadata, account, folder, kind):
    return os.path.join(metadata, "Account-" + account, kind,
                        basename(folder))


def status_backend(metadata, account, folder):
    if os.path.exists(_path(metadata, account, folder, "LocalStatus-sqlite")):
        return "sqlite"
    if os.path.exists(_path(metadata, account, folder, "LocalStatus")):
        return "plain"
    return None


def read_status(metadata, account, folder):
    kind = status_backend(metadata, account, folder)
    if kind == "sqlite":
        p = _path(metadata, account, folder, "LocalStatus-sqlite")
        con = sqlite3.connect("file:%s?mode=ro" % p, uri=True)
        try:
            rows = con.execute("SELECT id, flags, mtime, labels FROM status")
            return {r[0]: Status(r[1] or "", r[2], r[3] or "") for r in rows}
        finally:
            con.close()
    if kind == "plain":
        p = _path(metadata, account, folder, "LocalStatus")
        out = {}
        with open(p) as fh:
            first = fh.readline()
            if not first.startswith(PLAIN_MAGIC):
                raise ValueError("%s: not a LocalStatus file" % p)
            for line in fh:
                line = line.rstrip("\n")
                if not line:
                    continue
                parts = line.split("|")
                uid = int(parts[0])
                flags = parts[1] if len(parts) > 1 else ""
                mtime = int(parts[2]) if len(parts) > 2 and parts[2] else 0
                labels = parts[3] if len(parts) > 3 else ""
                out[uid] = Status(flags, mtime, labels)
        return out
    return None


def folder_validity(metadata, repository, folder):
    p = os.path.join(metadata, "Repository-" + repository, "FolderValidity",
                     basename(folder))
    try:
        with open(p) as fh:
            return int(fh.read().strip())
    except (OSError, ValueError):
        return None
