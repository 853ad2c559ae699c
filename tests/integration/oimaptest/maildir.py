# SPDX-License-Identifier: GPL-2.0-or-later
"""Inspect a local Maildir tree as OfflineIMAP (and oimap) write it.

    tree = read_tree(root)    # {folder: [LocalMessage]}, folder is the
                              # path below root with '/' (e.g. 'INBOX',
                              # 'Archive.2024' or 'Archive/2024')
    m.name, m.subdir ('cur'/'new'), m.uid (from ',U='; None for new local
    mail), m.fmd5, m.flags ('FS' from ':2,FS'), m.message_id, m.path

A directory is a folder when it has cur/, new/ and tmp/.  Files in tmp/
are listed separately (tree_tmp) because a sync must not leave any.
"""
import os
import re
from dataclasses import dataclass

from .imap import header_value

_UID_RE = re.compile(r",U=(\d+)")
_FMD5_RE = re.compile(r",FMD5=([0-9a-fA-F]+)")
_INFO_RE = re.compile(r"[:!]2,([A-Za-z]*)$")


@dataclass
class LocalMessage:
    folder: str
    subdir: str
    name: str
    path: str
    uid: int
    fmd5: str
    flags: str
    message_id: str

    def read(self):
        with open(self.path, "rb") as fh:
            return fh.read()


def parse_name(name):
    """(uid or None, fmd5 or None, flags string) from a Maildir file name."""
    m = _UID_RE.search(name)
    uid = int(m.group(1)) if m else None
    m = _FMD5_RE.search(name)
    fmd5 = m.group(1) if m else None
    m = _INFO_RE.search(name)
    flags = m.group(1) if m else ""
    return uid, fmd5, flags


def is_maildir(path):
    return all(os.path.isdir(os.path.join(path, s))
               for s in ("cur", "new", "tmp"))


def folders(root):
    """Sorted folder names below root ('' if root itself is a Maildir)."""
    out = []
    for dp, dns, _ in os.walk(root):
        if is_maildir(dp):
            rel = os.path.relpath(dp, root)
            out.append("" if rel == "." else rel.replace(os.sep, "/"))
        dns[:] = [d for d in dns if d not in ("cur", "new", "tmp")]
    return sorted(out)


def read_folder(root, folder):
    """[LocalMessage] of one folder, sorted by (uid or big, name)."""
    base = os.path.join(root, folder) if folder else root
    out = []
    for sub in ("cur", "new"):
        d = os.path.join(base, sub)
        for name in os.listdir(d):
            if name.startswith("."):
                continue
            path = os.path.join(d, name)
            uid, fmd5, flags = parse_name(name)
            with open(path, "rb") as fh:
                head = fh.read(65536)
            out.append(LocalMessage(folder=folder, subdir=sub, name=name,
                                    path=path, uid=uid, fmd5=fmd5,
                                    flags=flags,
                                    message_id=header_value(head,
                                                            "Message-ID")))
    return sorted(out, key=lambda m: (m.uid is None, m.uid or 0, m.name))


def read_tree(root):
    """{folder: [LocalMessage]} for every folder below root."""
    if not os.path.isdir(root):
        return {}
    return {f: read_folder(root, f) for f in folders(root)}


def tree_tmp(root):
    """Paths of files left in any tmp/ below root."""
    out = []
    for dp, _, fns in os.walk(root):
        if os.path.basename(dp) == "tmp":
            out += [os.path.join(dp, f) for f in fns]
    return sorted(out)


def summary(root):
    """{folder: sorted [(uid, flags, message_id)]} -- handy for asserts."""
    return {f: sorted((m.uid or 0, m.flags, m.message_id) for m in msgs)
            for f, msgs in read_tree(root).items()}


def add_local_message(root, folder, data, flags="", name=None):
    """Drop a new local message (no U=) into folder's cur/ (new/ if no
    flags), as a mail reader would.  Returns its path."""
    import socket
    import time
    base = os.path.join(root, folder) if folder else root
    for s in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(base, s), exist_ok=True)
    if name is None:
        add_local_message.seq += 1
        name = "%d.M%dP%d.%s" % (time.time(), add_local_message.seq,
                                 os.getpid(), socket.gethostname())
    sub = "cur" if flags else "new"
    if flags:
        name += ":2," + "".join(sorted(flags))
    data = data.replace(b"\r\n", b"\n")
    path = os.path.join(base, sub, name)
    tmp = os.path.join(base, "tmp", name)
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.rename(tmp, path)
    return path


add_local_message.seq = 0


def set_local_flags(msg, flags):
    """Rename a LocalMessage to carry flags (a string like 'FS'), moving
    it to cur/ as a mail reader does; returns the new path."""
    base = os.path.dirname(os.path.dirname(msg.path))
    name = re.sub(r"[:!]2,[A-Za-z]*$", "", msg.name)
    sep = "!" if "!2," in msg.name else ":"
    new = os.path.join(base, "cur", name + sep + "2," +
                       "".join(sorted(set(flags))))
    os.rename(msg.path, new)
    return new
