# SPDX-License-Identifier: GPL-2.0-or-later
"""Seed and inspect a server's mailboxes with imaplib.

    c = ImapClient.connect(host, port, user, password, mode="plain")
    c.create("Archive/2024")                 # parents too; '/' separator
    uid = c.append("INBOX", msg, flags=["\\Seen"], date=datetime)
    c.list()                                 # ['Archive', 'Archive/2024', 'INBOX']
    c.fetch("INBOX")                         # [Message(uid, flags, msgid, body)]
    c.set_flags("INBOX", uid, ["\\Flagged"], "+")
    c.expunge("INBOX", uids=[uid])
    c.copy("INBOX", [uid], "Archive", move=False)
    c.recreate("Archive")      # same mail, new UIDVALIDITY (not INBOX)
    c.close()

Folder names are given and returned as Python str; they are encoded in
IMAP's modified UTF-7 (RFC 3501 5.1.3) on the wire.  mode is "plain",
"starttls" or "ssl" (TLS verified against cafile).
"""
import base64
import datetime
import imaplib
import re
import ssl
import time
from dataclasses import dataclass


# modified UTF-7 ---------------------------------------------------------

def mutf7_encode(s):
    out, buf = [], []

    def flush():
        if buf:
            b = base64.b64encode("".join(buf).encode("utf-16-be"))
            out.append("&" + b.decode().rstrip("=").replace("/", ",") + "-")
            buf.clear()
    for ch in s:
        if 0x20 <= ord(ch) <= 0x7e:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            buf.append(ch)
    flush()
    return "".join(out)


def mutf7_decode(s):
    def dec(m):
        b = m.group(1)
        if b == "":
            return "&"
        b = b.replace(",", "/")
        b += "=" * (-len(b) % 4)
        return base64.b64decode(b).decode("utf-16-be")
    return re.sub(r"&([A-Za-z0-9+,]*)-", dec, s)


def quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def imap_name(folder):
    return quote(mutf7_encode(folder))


def parse_internaldate(s):
    """'06-May-2023 07:08:09 +0000' -> aware datetime (None for None)."""
    if not s:
        return None
    return datetime.datetime.strptime(s.strip(), "%d-%b-%Y %H:%M:%S %z")


@dataclass
class Message:
    uid: int
    flags: list          # sorted, e.g. ['\\Flagged', '\\Seen']
    message_id: str      # the Message-ID header value, or None
    body: bytes          # the whole message, as the server has it (CRLF)
    internaldate: str = None
    size: int = 0


_LIST_RE = re.compile(rb'^\((?P<attrs>[^)]*)\) (?P<sep>"[^"]*"|NIL) (?P<name>.*)$')


def header_value(raw, name):
    """The first header `name` of a message (bytes), unfolded, or None."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    head = re.sub(rb"\r?\n[ \t]+", b" ", head)
    for line in head.splitlines():
        k, _, v = line.partition(b":")
        if k.strip().lower() == name.lower().encode():
            return v.strip().decode("utf-8", "replace")
    return None


class ImapError(RuntimeError):
    pass


class ImapClient:
    def __init__(self, conn):
        self.c = conn

    @classmethod
    def connect(cls, host, port, user, password, mode="plain", cafile=None,
                timeout=30):
        if mode == "ssl":
            ctx = ssl.create_default_context(cafile=cafile)
            conn = imaplib.IMAP4_SSL(host, port, ssl_context=ctx,
                                     timeout=timeout)
        else:
            conn = imaplib.IMAP4(host, port, timeout=timeout)
            if mode == "starttls":
                conn.starttls(ssl.create_default_context(cafile=cafile))
        conn.login(user, password)
        return cls(conn)

    def close(self):
        try:
            self.c.logout()
        except (imaplib.IMAP4.error, OSError):
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _ok(self, res, what):
        typ, data = res
        if typ != "OK":
            raise ImapError("%s: %s %r" % (what, typ, data))
        return data

    def capabilities(self):
        return set(self.c.capabilities)

    # folders -----------------------------------------------------------
    def create(self, folder, parents=True):
        """Create folder (and its parents, separated by '/')."""
        parts = folder.split("/")
        existing = set(self.list())
        for i in range(1 if parents else len(parts), len(parts) + 1):
            f = "/".join(parts[:i])
            if f in existing:
                continue
            self._ok(self.c._simple_command("CREATE", imap_name(f)),
                     "CREATE " + f)
            existing.add(f)

    def delete(self, folder):
        self._ok(self.c._simple_command("DELETE", imap_name(folder)),
                 "DELETE " + folder)

    def rename(self, old, new):
        self._ok(self.c._simple_command("RENAME", imap_name(old),
                                        imap_name(new)), "RENAME")

    def list_raw(self):
        """[(attrs, separator, name)] for every folder (names decoded)."""
        data = self._ok(self.c.list('""', '"*"'), "LIST")
        out = []
        for item in data:
            if item is None:
                continue
            if isinstance(item, tuple):     # name sent as a literal
                item = item[0].rsplit(b"{", 1)[0] + b'"' + item[1] + b'"'
            m = _LIST_RE.match(item)
            if not m:
                raise ImapError("cannot parse LIST line %r" % item)
            name = m.group("name").decode("utf-8")
            if name.startswith('"'):
                name = name[1:-1].replace('\\"', '"').replace("\\\\", "\\")
            sep = m.group("sep").decode()
            out.append((m.group("attrs").decode().split(),
                        None if sep == "NIL" else sep.strip('"'),
                        mutf7_decode(name)))
        return out

    def list(self, selectable_only=True):
        """Sorted folder names, \\Noselect ones left out unless asked."""
        return sorted(n for attrs, _, n in self.list_raw()
                      if not selectable_only or "\\Noselect" not in attrs)

    def select(self, folder, readonly=False):
        data = self._ok(self.c.select(imap_name(folder), readonly),
                        "SELECT " + folder)
        return int(data[0])

    def status(self, folder, items="(MESSAGES UIDNEXT UIDVALIDITY UNSEEN)"):
        data = self._ok(self.c.status(imap_name(folder), items), "STATUS")
        m = re.search(rb"\((.*)\)", data[0])
        toks = m.group(1).split()
        return {toks[i].decode(): int(toks[i + 1])
                for i in range(0, len(toks), 2)}

    # messages ----------------------------------------------------------
    def append(self, folder, message, flags=(), date=None):
        """Append message (bytes; line ends made CRLF) with flags and an
        internal date (datetime, or epoch seconds); returns its UID."""
        if isinstance(message, str):
            message = message.encode("utf-8")
        message = message.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        if date is None:
            date_s = None
        else:
            if isinstance(date, (int, float)):
                date = datetime.datetime.fromtimestamp(
                    date, datetime.timezone.utc)
            elif date.tzinfo is None:
                date = date.replace(tzinfo=datetime.timezone.utc)
            date_s = imaplib.Time2Internaldate(date)
        flag_s = "(" + " ".join(flags) + ")" if flags else None
        typ, data = self.c.append(imap_name(folder), flag_s, date_s, message)
        if typ != "OK":
            raise ImapError("APPEND to %s: %r" % (folder, data))
        m = re.search(rb"APPENDUID \d+ (\d+)", data[0] or b"")
        return int(m.group(1)) if m else None

    def fetch(self, folder, uids=None, bodies=True):
        """[Message] in UID order for folder (all or the given UIDs)."""
        n = self.select(folder, readonly=True)
        if n == 0:
            return []
        uidset = ",".join(str(u) for u in uids) if uids else "1:*"
        what = "(UID FLAGS INTERNALDATE RFC822.SIZE %s)" % (
            "BODY.PEEK[]" if bodies else "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]")
        typ, data = self.c.uid("FETCH", uidset, what)
        if typ != "OK":
            raise ImapError("FETCH %s: %r" % (folder, data))
        out = []
        for item in data:
            if not isinstance(item, tuple):
                continue
            meta, raw = item
            uid = int(re.search(rb"UID (\d+)", meta).group(1))
            fl = re.search(rb"FLAGS \(([^)]*)\)", meta).group(1).decode()
            idate = re.search(rb'INTERNALDATE "([^"]*)"', meta)
            size = int(re.search(rb"RFC822\.SIZE (\d+)", meta).group(1))
            out.append(Message(uid=uid, flags=sorted(
                f for f in fl.split() if f != "\\Recent"),
                               message_id=header_value(raw, "Message-ID"),
                               body=raw if bodies else None,
                               internaldate=idate.group(1).decode()
                               if idate else None, size=size))
        self.c.close()
        return sorted(out, key=lambda m: m.uid)

    def set_flags(self, folder, uids, flags, mode="+"):
        """mode '+' adds, '-' removes, '' replaces; uids int or list."""
        if isinstance(uids, int):
            uids = [uids]
        self.select(folder)
        item = {"+": "+FLAGS.SILENT", "-": "-FLAGS.SILENT",
                "": "FLAGS.SILENT"}[mode]
        self._ok(self.c.uid("STORE", ",".join(map(str, uids)), item,
                            "(" + " ".join(flags) + ")"), "STORE")
        self.c.close()

    def expunge(self, folder, uids=None):
        """Mark uids (all messages if None) \\Deleted and expunge them."""
        self.select(folder)
        if uids is None:
            uidset = "1:*"
        else:
            uidset = ",".join(map(str, [uids] if isinstance(uids, int)
                                  else uids))
        if uidset:
            typ, _ = self.c.uid("STORE", uidset, "+FLAGS.SILENT",
                                "(\\Deleted)")
        self._ok(self.c.expunge(), "EXPUNGE")
        self.c.close()

    def copy(self, folder, uids, dest, move=False):
        """UID COPY (or MOVE) uids from folder to dest."""
        self.select(folder)
        uidset = ",".join(map(str, [uids] if isinstance(uids, int)
                              else uids))
        self._ok(self.c.uid("MOVE" if move else "COPY", uidset,
                            imap_name(dest)), "COPY")
        self.c.close()

    def recreate(self, folder):
        """Delete folder and make it again with the same messages, flags
        and internal dates: same content, new UIDVALIDITY (and UIDs from
        1).  Returns the new UIDVALIDITY.  Not for INBOX (IMAP cannot
        delete it)."""
        if folder.upper() == "INBOX":
            raise ValueError("INBOX cannot be deleted over IMAP")
        old = self.uidvalidity(folder)
        msgs = self.fetch(folder)
        self.delete(folder)
        self.create(folder)
        for _ in range(50):
            if self.uidvalidity(folder) != old:
                break
            time.sleep(0.1)     # Dovecot's UIDVALIDITY is a time stamp
            self.delete(folder)
            self.create(folder)
        else:
            raise ImapError("UIDVALIDITY of %s did not change" % folder)
        for m in msgs:
            self.append(folder, m.body, m.flags,
                        parse_internaldate(m.internaldate))
        return self.uidvalidity(folder)

    def uidvalidity(self, folder):
        return self.status(folder, "(UIDVALIDITY)")["UIDVALIDITY"]


def seed(client, tree):
    """Create folders and append messages from a dict
    {folder: [message bytes, or (bytes, flags), or (bytes, flags, date)]}.
    Returns {folder: [uids]}."""
    uids = {}
    for folder, msgs in tree.items():
        if folder.upper() != "INBOX":
            client.create(folder)
        uids[folder] = []
        for m in msgs:
            if isinstance(m, (bytes, str)):
                m = (m,)
            uids[folder].append(client.append(folder, *m))
    return uids
