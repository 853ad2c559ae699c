# SPDX-License-Identifier: GPL-2.0-or-later
"""A small stateful Gmail-like IMAP server on loopback, for what Dovecot
cannot do: X-GM-EXT-1 (X-GM-LABELS).  Plain text, LOGIN only.

    srv = FakeGmail(user="u", password="p").start()
    uid = srv.add("INBOX", b"From: a\\r\\n\\r\\nbody\\r\\n",
                  flags={"\\\\Seen"}, labels={"\\\\Inbox", "Work"})
    ... run oimap / offlineimap3 against srv.host, srv.port ...
    srv.msg("INBOX", uid).labels        # a set of str
    srv.commands                         # every command line seen
    srv.stop()

What it speaks (enough for oimap and offlineimap3): CAPABILITY (IMAP4rev1
UIDPLUS LITERAL+ X-GM-EXT-1), LOGIN, LOGOUT, NOOP, LIST/LSUB, STATUS,
SELECT/EXAMINE (EXISTS, UIDVALIDITY, UIDNEXT, FLAGS, PERMANENTFLAGS),
FETCH and UID FETCH of UID, FLAGS, X-GM-LABELS, RFC822.SIZE,
INTERNALDATE, BODY[]/BODY.PEEK[] (also [HEADER], [HEADER.FIELDS (..)],
RFC822, RFC822.HEADER), STORE and UID STORE of [+-]FLAGS[.SILENT] and
[+-]X-GM-LABELS[.SILENT], APPEND with APPENDUID, SEARCH/UID SEARCH (ALL,
UID set, HEADER name value, SINCE/BEFORE ignored as true), EXPUNGE,
UID EXPUNGE, CLOSE, UNSELECT, CHECK, CREATE, SUBSCRIBE.  Folders are
independent mailboxes; labels are per message (no Gmail "All Mail"
semantics).  The hierarchy separator is "/".
"""
import re
import socket
import threading
import time

CAPS = "IMAP4rev1 UIDPLUS LITERAL+ X-GM-EXT-1"
SYSTEM_FLAGS = ("\\Seen", "\\Answered", "\\Flagged", "\\Deleted",
                "\\Draft")


class Msg:
    def __init__(self, uid, body, flags=(), labels=(), date=None):
        self.uid = uid
        self.body = body
        self.flags = set(flags)
        self.labels = set(labels)
        self.date = date if date is not None else int(time.time())


class Folder:
    def __init__(self, name, uidvalidity):
        self.name = name
        self.uidvalidity = uidvalidity
        self.uidnext = 1
        self.msgs = []

    def add(self, body, flags=(), labels=(), date=None):
        m = Msg(self.uidnext, body, flags, labels, date)
        self.uidnext += 1
        self.msgs.append(m)
        return m


def quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


class _Lit(bytes):
    """A literal's data among the tokens."""


def tokenize(data):
    """Tokens of a command: str atoms (brackets kept, "BODY[HEADER.FIELDS
    (A B)]" is one atom), quoted strings as str, literals as _Lit,
    parenthesised lists as lists."""
    pos = 0
    stack = [[]]
    n = len(data)
    while pos < n:
        c = data[pos]
        if isinstance(c, _Lit):
            stack[-1].append(c)
            pos += 1
            continue
        if c == " ":
            pos += 1
        elif c == "(":
            stack.append([])
            pos += 1
        elif c == ")":
            lst = stack.pop()
            stack[-1].append(lst)
            pos += 1
        elif c == '"':
            pos += 1
            out = []
            while pos < n and data[pos] != '"':
                if data[pos] == "\\" and pos + 1 < n:
                    pos += 1
                out.append(data[pos])
                pos += 1
            pos += 1
            stack[-1].append("".join(out))
        else:
            out = []
            depth = 0
            while pos < n and not isinstance(data[pos], _Lit):
                ch = data[pos]
                if depth == 0 and ch in ' ()"':
                    break
                if ch == "[":
                    depth += 1
                elif ch == "]":
                    depth -= 1
                out.append(ch)
                pos += 1
            stack[-1].append("".join(out))
    while len(stack) > 1:
        lst = stack.pop()
        stack[-1].append(lst)
    return stack[0]


def text(x):
    if isinstance(x, bytes):
        return x.decode("utf-8", "replace")
    return str(x)


def parse_set(s, maxval):
    out = set()
    for part in s.split(","):
        if ":" in part:
            a, b = part.split(":", 1)
            a = maxval if a == "*" else int(a)
            b = maxval if b == "*" else int(b)
            if a > b:
                a, b = b, a
            out.update(range(a, b + 1))
        else:
            out.add(maxval if part == "*" else int(part))
    return out


def imapdate(t):
    return time.strftime('"%d-%b-%Y %H:%M:%S +0000"', time.gmtime(t))


def header_of(body):
    i = body.find(b"\r\n\r\n")
    return body[:i + 4] if i >= 0 else body


def header_fields(body, names):
    names = {x.lower() for x in names}
    out = []
    keep = False
    for line in header_of(body).split(b"\r\n"):
        if not line:
            continue
        if line[:1] in (b" ", b"\t"):
            if keep:
                out.append(line)
            continue
        keep = line.split(b":", 1)[0].strip().decode("latin-1").lower() in names
        if keep:
            out.append(line)
    return b"".join(x + b"\r\n" for x in out) + b"\r\n"


class FakeGmail:
    def __init__(self, user="gmailuser", password="gmail pass",
                 folders=("INBOX",)):
        self.user = user
        self.password = password
        self.host = "127.0.0.1"
        self.port = None
        self.lock = threading.RLock()
        self.folders = {}
        self.commands = []      # (connection number, line)
        self.errors = []
        # False: FETCH answers leave X-GM-LABELS out even when asked
        self.send_labels = True
        self._next_validity = 1000
        for f in folders:
            self.create(f)
        self._sock = None
        self._threads = []
        self._stopping = False
        self._nconn = 0
        self._conns = []

    # -- state, for tests --
    def create(self, name):
        with self.lock:
            if name not in self.folders:
                self.folders[name] = Folder(name, self._next_validity)
                self._next_validity += 1
            return self.folders[name]

    def add(self, folder, body, flags=(), labels=(), date=None):
        if isinstance(body, str):
            body = body.encode()
        body = re.sub(rb"(?<!\r)\n", b"\r\n", body)
        with self.lock:
            return self.create(folder).add(body, flags, labels, date).uid

    def msg(self, folder, uid):
        with self.lock:
            for m in self.folders[folder].msgs:
                if m.uid == uid:
                    return m
        return None

    def msgs(self, folder):
        with self.lock:
            return list(self.folders[folder].msgs)

    def client_commands(self):
        """Command lines without tags, literals as {N}."""
        with self.lock:
            return [c.split(" ", 1)[1] if " " in c else c
                    for _, c in self.commands]

    # -- server --
    def start(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((self.host, 0))
        s.listen(16)
        self.port = s.getsockname()[1]
        self._sock = s
        t = threading.Thread(target=self._accept, daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def stop(self):
        self._stopping = True
        try:
            # shutdown wakes the thread blocked in accept()
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self._sock.close()
        except OSError:
            pass
        for c in list(self._conns):
            try:
                c.shutdown(socket.SHUT_RDWR)
                c.close()
            except OSError:
                pass
        for t in self._threads:
            t.join(5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def _accept(self):
        while not self._stopping:
            try:
                c, _ = self._sock.accept()
            except OSError:
                return
            self._nconn += 1
            self._conns.append(c)
            t = threading.Thread(target=self._serve_safe,
                                 args=(c, self._nconn), daemon=True)
            t.start()
            self._threads.append(t)

    def _serve_safe(self, c, n):
        try:
            _Session(self, c, n).run()
        except (OSError, EOFError):
            pass
        except Exception as e:   # a bug in the fake: make tests see it
            self.errors.append("conn %d: %r" % (n, e))
        finally:
            try:
                c.close()
            except OSError:
                pass


class _Session:
    def __init__(self, srv, sock, n):
        self.srv = srv
        self.sock = sock
        self.n = n
        self.rf = sock.makefile("rb")
        self.authed = False
        self.sel = None
        self.readonly = False

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("utf-8")
        self.sock.sendall(data)

    def line(self, s):
        self.send(s + "\r\n")

    def read_command(self):
        parts = []
        shown = []
        while True:
            line = self.rf.readline()
            if not line:
                raise EOFError
            m = re.search(rb"\{(\d+)(\+?)\}\r?\n$", line)
            if m:
                text = line[:m.start()].decode("utf-8", "replace")
                parts.extend(text)
                shown.append(text + "{%s}" % m.group(1).decode())
                if not m.group(2):
                    self.line("+ go ahead")
                data = self.rf.read(int(m.group(1)))
                parts.append(_Lit(data))
                continue
            text = line.rstrip(b"\r\n").decode("utf-8", "replace")
            parts.extend(text)
            shown.append(text)
            return parts, "".join(shown)

    def run(self):
        self.line("* OK [CAPABILITY %s] fake Gmail ready" % CAPS)
        while True:
            parts, shown = self.read_command()
            with self.srv.lock:
                self.srv.commands.append((self.n, shown))
            toks = tokenize(parts)
            if len(toks) < 2:
                self.line("* BAD no command")
                continue
            tag, cmd, args = toks[0], toks[1].upper(), toks[2:]
            uid = False
            if cmd == "UID" and args:
                uid, cmd, args = True, args[0].upper(), args[1:]
            try:
                with self.srv.lock:
                    done = self.dispatch(tag, cmd, args, uid)
            except (ValueError, IndexError, KeyError, TypeError) as e:
                self.line("%s BAD fake: %s" % (tag, e))
                continue
            if done == "bye":
                return

    def dispatch(self, tag, cmd, args, uid):
        f = getattr(self, "c_" + cmd.lower(), None)
        if f is None:
            self.line("%s BAD fake: unknown command %s" % (tag, cmd))
            return None
        if cmd not in ("CAPABILITY", "LOGIN", "LOGOUT", "NOOP") and \
                not self.authed:
            self.line("%s NO not logged in" % tag)
            return None
        if cmd in ("FETCH", "STORE", "SEARCH", "EXPUNGE", "CLOSE",
                   "UNSELECT", "CHECK") and self.sel is None:
            self.line("%s BAD no mailbox selected" % tag)
            return None
        return f(tag, args, uid)

    # -- commands --
    def c_capability(self, tag, args, uid):
        self.line("* CAPABILITY " + CAPS)
        self.line("%s OK done" % tag)

    def c_noop(self, tag, args, uid):
        self.line("%s OK done" % tag)

    c_check = c_noop

    def c_login(self, tag, args, uid):
        if text(args[0]) == self.srv.user and \
                text(args[1]) == self.srv.password:
            self.authed = True
            self.line("%s OK [CAPABILITY %s] logged in" % (tag, CAPS))
        else:
            self.line("%s NO [AUTHENTICATIONFAILED] bad" % tag)

    def c_logout(self, tag, args, uid):
        self.line("* BYE bye")
        self.line("%s OK done" % tag)
        return "bye"

    def c_list(self, tag, args, uid, lsub=False):
        ref, pat = text(args[0]), text(args[1])
        word = "LSUB" if lsub else "LIST"
        if pat == "":
            self.line('* %s (\\Noselect) "/" ""' % word)
        else:
            rx = "^" + re.escape(ref + pat).replace(r"\*", ".*").replace(
                "%", "[^/]*") + "$"
            for name in sorted(self.srv.folders):
                if re.match(rx, name):
                    self.line('* %s (\\HasNoChildren) "/" %s'
                              % (word, quote(name)))
        self.line("%s OK done" % tag)

    def c_lsub(self, tag, args, uid):
        return self.c_list(tag, args, uid, lsub=True)

    def c_create(self, tag, args, uid):
        name = text(args[0])
        if name in self.srv.folders:
            self.line("%s NO [ALREADYEXISTS] exists" % tag)
            return
        self.srv.create(name)
        self.line("%s OK created" % tag)

    def c_subscribe(self, tag, args, uid):
        self.line("%s OK done" % tag)

    def c_status(self, tag, args, uid):
        f = self.srv.folders.get(text(args[0]))
        if not f:
            self.line("%s NO no such folder" % tag)
            return
        items = []
        for it in args[1]:
            it = it.upper()
            v = {"MESSAGES": len(f.msgs), "UIDNEXT": f.uidnext,
                 "UIDVALIDITY": f.uidvalidity, "RECENT": 0,
                 "UNSEEN": sum(1 for m in f.msgs
                               if "\\Seen" not in m.flags)}.get(it)
            if v is not None:
                items.append("%s %d" % (it, v))
        self.line("* STATUS %s (%s)" % (quote(f.name), " ".join(items)))
        self.line("%s OK done" % tag)

    def c_select(self, tag, args, uid, examine=False):
        f = self.srv.folders.get(text(args[0]))
        if not f:
            self.sel = None
            self.line("%s NO no such folder" % tag)
            return
        self.sel = f
        self.readonly = examine
        self.line("* FLAGS (%s)" % " ".join(SYSTEM_FLAGS))
        self.line("* OK [PERMANENTFLAGS (%s \\*)] ok"
                  % " ".join(SYSTEM_FLAGS))
        self.line("* %d EXISTS" % len(f.msgs))
        self.line("* 0 RECENT")
        self.line("* OK [UIDVALIDITY %d] ok" % f.uidvalidity)
        self.line("* OK [UIDNEXT %d] ok" % f.uidnext)
        self.line("%s OK [%s] selected"
                  % (tag, "READ-ONLY" if examine else "READ-WRITE"))

    def c_examine(self, tag, args, uid):
        return self.c_select(tag, args, uid, examine=True)

    def c_close(self, tag, args, uid):
        if not self.readonly:
            self._expunge(None, quiet=True)
        self.sel = None
        self.line("%s OK closed" % tag)

    def c_unselect(self, tag, args, uid):
        self.sel = None
        self.line("%s OK done" % tag)

    def _targets(self, setstr, uid):
        msgs = self.sel.msgs
        if uid:
            maxuid = msgs[-1].uid if msgs else 0
            want = parse_set(setstr, max(maxuid, 1))
            return [(i + 1, m) for i, m in enumerate(msgs) if m.uid in want]
        want = parse_set(setstr, len(msgs))
        return [(i + 1, m) for i, m in enumerate(msgs) if i + 1 in want]

    def _items(self, m, items):
        out = []
        body_parts = []
        for it in items:
            u = it.upper()
            if u == "UID":
                out.append("UID %d" % m.uid)
            elif u == "FLAGS":
                out.append("FLAGS (%s)" % " ".join(sorted(m.flags)))
            elif u == "X-GM-LABELS":
                if not self.srv.send_labels:
                    continue
                out.append("X-GM-LABELS (%s)"
                           % " ".join(quote(x) for x in sorted(m.labels)))
            elif u == "RFC822.SIZE":
                out.append("RFC822.SIZE %d" % len(m.body))
            elif u == "INTERNALDATE":
                out.append("INTERNALDATE " + imapdate(m.date))
            elif u in ("X-GM-MSGID", "X-GM-THRID"):
                out.append("%s %d" % (u, 10000 + m.uid))
            elif u in ("BODY[]", "BODY.PEEK[]", "RFC822"):
                if u == "BODY[]" or u == "RFC822":
                    m.flags.add("\\Seen")
                body_parts.append(("BODY[]" if u != "RFC822" else u,
                                   m.body))
            elif u in ("BODY[HEADER]", "BODY.PEEK[HEADER]",
                       "RFC822.HEADER"):
                body_parts.append(("BODY[HEADER]" if u != "RFC822.HEADER"
                                   else u, header_of(m.body)))
            elif u.startswith(("BODY[HEADER.FIELDS", "BODY.PEEK[HEADER.FIELDS")):
                inner = it[it.index("(") + 1:it.index(")")]
                names = inner.split()
                body_parts.append(("BODY[HEADER.FIELDS (%s)]" % inner.upper(),
                                   header_fields(m.body, names)))
            elif u in ("ENVELOPE", "BODYSTRUCTURE"):
                raise ValueError("fake: %s not supported" % u)
            else:
                raise ValueError("fake: unknown fetch item %s" % it)
        return out, body_parts

    def _send_fetch(self, seq, m, items, add_uid):
        out, body_parts = self._items(m, items)
        if add_uid and not any(x.startswith("UID ") for x in out):
            out.insert(0, "UID %d" % m.uid)
        data = ("* %d FETCH (" % seq + " ".join(out)).encode()
        for name, b in body_parts:
            if data[-1:] != b"(":
                data += b" "
            data += ("%s {%d}\r\n" % (name, len(b))).encode() + b
        self.send(data + b")\r\n")

    def c_fetch(self, tag, args, uid):
        setstr, items = text(args[0]), args[1]
        if not isinstance(items, list):
            items = [items]
        macros = {"ALL": ["FLAGS", "INTERNALDATE", "RFC822.SIZE"],
                  "FAST": ["FLAGS", "INTERNALDATE", "RFC822.SIZE"]}
        if len(items) == 1 and items[0].upper() in macros:
            items = macros[items[0].upper()]
        for seq, m in self._targets(setstr, uid):
            self._send_fetch(seq, m, items, uid)
        self.line("%s OK fetched" % tag)

    def c_store(self, tag, args, uid):
        setstr, what, val = text(args[0]), args[1].upper(), args[2]
        if not isinstance(val, list):
            val = [val]
        vals = [text(v) for v in val]
        silent = what.endswith(".SILENT")
        base = what[:-7] if silent else what
        op = base[0] if base[0] in "+-" else "="
        field = base.lstrip("+-")
        if field not in ("FLAGS", "X-GM-LABELS"):
            raise ValueError("fake: cannot store %s" % field)
        if self.readonly:
            self.line("%s NO read-only" % tag)
            return
        for seq, m in self._targets(setstr, uid):
            cur = m.flags if field == "FLAGS" else m.labels
            if op == "+":
                cur.update(vals)
            elif op == "-":
                cur.difference_update(vals)
            else:
                cur.clear()
                cur.update(vals)
            if not silent:
                self._send_fetch(seq, m, [field], uid)
        self.line("%s OK stored" % tag)

    def c_append(self, tag, args, uid):
        f = self.srv.folders.get(text(args[0]))
        if not f:
            self.line("%s NO [TRYCREATE] no such folder" % tag)
            return
        flags, date, body = [], None, None
        for a in args[1:]:
            if isinstance(a, list):
                flags = [text(x) for x in a]
            elif isinstance(a, _Lit):
                body = bytes(a)
            else:
                try:
                    date = int(time.mktime(time.strptime(
                        a[:20], "%d-%b-%Y %H:%M:%S")))
                except ValueError:
                    date = None
        m = f.add(body, flags, (), date)
        self.line("%s OK [APPENDUID %d %d] appended"
                  % (tag, f.uidvalidity, m.uid))

    def c_search(self, tag, args, uid):
        msgs = list(enumerate(self.sel.msgs))
        keep = []
        a = [x for x in args]
        if a and text(a[0]).upper() == "CHARSET":
            a = a[2:]
        for i, m in msgs:
            ok = True
            k = 0
            while k < len(a):
                t = a[k]
                tu = t.upper() if isinstance(t, str) else ""
                if tu == "ALL":
                    k += 1
                elif tu == "UID":
                    maxuid = self.sel.msgs[-1].uid if self.sel.msgs else 1
                    ok &= m.uid in parse_set(text(a[k + 1]), maxuid)
                    k += 2
                elif tu == "HEADER":
                    name, val = text(a[k + 1]), text(a[k + 2])
                    hv = header_fields(m.body, [name]).decode(
                        "latin-1").lower()
                    ok &= val.lower() in hv
                    k += 3
                elif tu in ("SINCE", "BEFORE", "SENTSINCE", "SENTBEFORE",
                            "SMALLER", "LARGER"):
                    k += 2
                elif tu in ("UNDELETED", "NOT"):
                    k += 1
                elif re.match(r"^[0-9:*,]+$", tu):
                    ok &= (i + 1) in parse_set(tu, len(self.sel.msgs))
                    k += 1
                else:
                    raise ValueError("fake: search key %s" % t)
            if ok:
                keep.append(m.uid if uid else i + 1)
        self.line("* SEARCH" + "".join(" %d" % x for x in keep))
        self.line("%s OK searched" % tag)

    def _expunge(self, uids, quiet=False):
        f = self.sel
        i = 0
        while i < len(f.msgs):
            m = f.msgs[i]
            if "\\Deleted" in m.flags and (uids is None or m.uid in uids):
                del f.msgs[i]
                if not quiet:
                    self.line("* %d EXPUNGE" % (i + 1))
            else:
                i += 1

    def c_expunge(self, tag, args, uid):
        if self.readonly:
            self.line("%s NO read-only" % tag)
            return
        uids = None
        if uid:
            maxuid = self.sel.msgs[-1].uid if self.sel.msgs else 1
            uids = parse_set(text(args[0]), maxuid)
        self._expunge(uids)
        self.line("%s OK expunged" % tag)
