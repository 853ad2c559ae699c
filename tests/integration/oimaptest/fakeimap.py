# SPDX-License-Identifier: GPL-2.0-or-later
"""A scripted fake IMAP server for what Dovecot cannot do: broken
responses, dropped connections, Gmail extensions, exact transcripts.

    fake = FakeImap([
        (r"(\\S+) CAPABILITY", "* CAPABILITY IMAP4rev1 AUTH=PLAIN\\n"
                                "{tag} OK done"),
        (r"\\S+ LOGIN .*", "{tag} OK logged in"),
        (r"\\S+ LOGOUT", "* BYE\\n{tag} OK bye"),
    ], greeting="* OK fake ready").start()
    ... run a client against fake.host, fake.port ...
    fake.stop()
    assert fake.errors == []
    assert fake.client_lines() == ["A1 CAPABILITY", ...]

A script is a list of steps; a step is Step(expect, respond, action,
optional) or a tuple of the same.  For each step the server reads one
client line (with any literals it carries: a synchronising literal {N}
gets "+ Ready for literal data" back automatically, {N+} does not),
checks it against the `expect` regex (re.fullmatch, DOTALL, on the line
without its final CRLF, decoded latin-1), and sends `respond`:
  - str: "{tag}" is replaced by the client's tag -- after a response
    ending in a "+" continuation, by that command's tag, so the line
    after AUTHENTICATE's "+ " or IDLE's "+ idling" is answered with it;
    "\n" line ends become CRLF and a final CRLF is added; use
    literal(data) to embed a literal;
  - bytes: sent exactly as given;
  - a callable(match, tag) returning str or bytes.
An optional step whose regex does not match is skipped and the same line
is tried against the next step (for commands a client may or may not
send, e.g. CAPABILITY).
expect None sends respond without reading (an unsolicited response).
action after responding: None, "drop" (close), "reset" (close with RST),
"hang" (stop answering, keep the connection until stop()), "starttls"
(wrap the socket in TLS as server), or a float (sleep that many seconds
before responding).
drop_at=N closes the connection as soon as the line for step N (0-based)
arrives, without answering it.

A line that does not match, or a line after the script ended, is recorded
in `errors`, answered with "{tag} BAD fake: unexpected", and the
connection is closed.  `scripts=[s1, s2, ...]` gives one script per
accepted connection, in order; connections beyond them are closed at once
(recorded as an error).  tls=True speaks implicit TLS with certs (a
certs.Certs).  The transcript of every connection is kept in
`transcripts[i]` as [("C"|"S"|"*", text)]; "*" entries mark events:
"starttls", "hang", and how it ended: "eof" (the client closed; after
the whole script or not), "dropped", "reset", "error", "closed".
`completed` is the set of connections that played their whole script.

preamble(caps, ...) gives the usual opening steps (optional CAPABILITY,
LOGIN or AUTHENTICATE PLAIN) for scripts that test something later.
"""
import os
import re
import shlex
import socket
import ssl
import struct
import sys
import threading
import time

LINE_MAX = 1 << 20
READ_TIMEOUT = 60.0


class Step:
    def __init__(self, expect=None, respond="", action=None, optional=False):
        self.expect = expect
        self.respond = respond
        self.action = action
        self.optional = optional

    @classmethod
    def of(cls, x):
        if isinstance(x, Step):
            return x
        return cls(*x)


def preamble(caps="IMAP4rev1 LITERAL+ UIDPLUS AUTH=PLAIN",
             user="fakeuser", password="fakepass"):
    """Optional steps for the usual opening: CAPABILITY, then LOGIN or
    AUTHENTICATE PLAIN (with SASL-IR, or with a continuation) for exactly
    user/password, then CAPABILITY again.  Put the test's own steps after
    them."""
    import base64
    b64 = base64.b64encode(("\0%s\0%s" % (user, password)).encode())
    b64 = re.escape(b64.decode())
    cap = "* CAPABILITY %s\n{tag} OK done" % caps
    ok = "{tag} OK [CAPABILITY %s] logged in" % caps
    return [
        Step(r"\S+ CAPABILITY", cap, optional=True),
        Step(r'\S+ (?:LOGIN "?%s"? "?%s"?|AUTHENTICATE PLAIN %s)'
             % (re.escape(user), re.escape(password), b64), ok,
             optional=True),
        Step(r"\S+ AUTHENTICATE PLAIN", "+ ", optional=True),
        Step(b64, ok, optional=True),
        Step(r"\S+ CAPABILITY", cap, optional=True),
    ]


# What imap.gmail.com advertised after login (2024), for Gmail scripts.
GMAIL_CAPS = ("IMAP4rev1 UNSELECT IDLE NAMESPACE QUOTA ID XLIST CHILDREN "
              "X-GM-EXT-1 UIDPLUS COMPRESS=DEFLATE ENABLE MOVE CONDSTORE "
              "ESEARCH UTF8=ACCEPT LIST-EXTENDED LIST-STATUS LITERAL- "
              "SPECIAL-USE APPENDLIMIT=35651584")


def fetch_response(seq, uid, flags=(), body=None, labels=None,
                   modseq=None, internaldate=None, size=None):
    """One untagged FETCH response line (str) with the given items; body
    (str/bytes) goes in as BODY[] with a literal, labels (list) as
    X-GM-LABELS."""
    items = ["UID %d" % uid, "FLAGS (%s)" % " ".join(flags)]
    if modseq is not None:
        items.append("MODSEQ (%d)" % modseq)
    if internaldate is not None:
        items.append('INTERNALDATE "%s"' % internaldate)
    if labels is not None:
        items.append("X-GM-LABELS (%s)" % " ".join(labels))
    if body is not None:
        lit = literal(body)
        if size is None:
            size = int(lit[1:lit.index("}")])
    if size is not None:
        items.append("RFC822.SIZE %d" % size)
    if body is not None:
        items.append("BODY[] " + lit)
    return "* %d FETCH (%s)" % (seq, " ".join(items))


def literal(data):
    """A literal for a str response: {N}CRLF then data with CRLF ends."""
    if isinstance(data, bytes):
        data = data.decode("latin-1")
    data = data.replace("\r\n", "\n").replace("\n", "\r\n")
    return "{%d}\r\n%s" % (len(data.encode("latin-1")), data)


def _encode(resp, tag):
    if isinstance(resp, bytes):
        return resp
    resp = resp.replace("{tag}", tag)
    if resp == "":
        return b""
    lines = resp.split("\n")
    out = "\r\n".join(l[:-1] if l.endswith("\r") else l for l in lines)
    if not out.endswith("\r\n"):
        out += "\r\n"
    return out.encode("latin-1")


class _Dropped(Exception):
    pass


class FakeImap:
    def __init__(self, script=None, greeting="* OK [CAPABILITY IMAP4rev1] "
                 "fake IMAP ready", scripts=None, tls=False, certs=None,
                 drop_at=None, user="fakeuser", password="fakepass"):
        if scripts is None:
            scripts = [script or []]
        self.scripts = [[Step.of(s) for s in sc] for sc in scripts]
        self.greeting = greeting
        self.tls = tls
        self.certs = certs
        self.drop_at = drop_at
        self.host = "127.0.0.1"
        self.tls_host = "localhost"
        self.user, self.password = user, password
        self.cafile = certs.ca_cert if certs else None
        self.preauth = None
        self.transcripts = []
        self.errors = []
        self.completed = set()      # connections that played their script
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = []
        self._conns = []
        self._lsock = socket.socket()
        self._lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._lsock.bind((self.host, 0))
        self._lsock.listen(8)
        self.port = self._lsock.getsockname()[1]
        self.sslport = self.port
        # A transporttunnel command that reaches this server.
        self.tunnel = shlex.join([
            "env", "PYTHONPATH=" + os.path.dirname(os.path.dirname(
                os.path.abspath(__file__))), sys.executable, "-m",
            "oimaptest.relay", self.host, str(self.port)])
        self._ctx = None
        if tls or any(s.action == "starttls" for sc in self.scripts
                      for s in sc):
            if certs is None:
                raise ValueError("TLS needs certs")
            self._ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self._ctx.load_cert_chain(certs.server_cert, certs.server_key)

    # control -----------------------------------------------------------
    def start(self):
        t = threading.Thread(target=self._accept_loop, daemon=True,
                             name="fakeimap-accept")
        t.start()
        self._threads.append(t)
        return self

    def stop(self):
        self._stop.set()
        try:
            # close() alone does not wake a thread blocked in accept().
            self._lsock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self._lsock.close()
        except OSError:
            pass
        with self._lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                c.close()
            except OSError:
                pass
        for t in self._threads:
            t.join(5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def wait(self, timeout=30, connections=1):
        """Wait until `connections` connections have finished."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self._lock:
                done = sum(1 for t in self.transcripts
                           if t and t[-1][0] == "*" and t[-1][1] in
                           ("closed", "eof", "dropped", "reset", "error"))
            if done >= connections:
                return True
            time.sleep(0.02)
        return False

    # results -----------------------------------------------------------
    def transcript(self, conn=0):
        return list(self.transcripts[conn]) if conn < len(
            self.transcripts) else []

    def client_lines(self, conn=0):
        return [t for d, t in self.transcript(conn) if d == "C"]

    def transcript_text(self, conn=0):
        return "".join("%s: %s\n" % (d, t) for d, t in self.transcript(conn))

    @property
    def connections(self):
        return len(self.transcripts)

    # server ------------------------------------------------------------
    def _accept_loop(self):
        n = 0
        while not self._stop.is_set():
            try:
                sock, _ = self._lsock.accept()
            except OSError:
                return
            with self._lock:
                tr = []
                self.transcripts.append(tr)
                self._conns.append(sock)
            t = threading.Thread(target=self._serve, args=(sock, n, tr),
                                 daemon=True, name="fakeimap-%d" % n)
            t.start()
            self._threads.append(t)
            n += 1

    def _rec(self, tr, d, text):
        with self._lock:
            tr.append((d, text))

    def _err(self, n, msg):
        with self._lock:
            self.errors.append("connection %d: %s" % (n, msg))

    def _send(self, st, tr, data):
        if not data:
            return
        st["sock"].sendall(data)
        lines = data.decode("latin-1").split("\r\n")
        if lines[-1] == "":
            lines.pop()         # the usual final CRLF
        for line in lines:
            self._rec(tr, "S", line)

    def _readline(self, st, tr):
        """One client line, with its literals, without the final CRLF."""
        buf = b""
        while True:
            line = self._raw_line(st)
            buf += line
            m = re.search(rb"\{(\d+)(\+?)\}$", line)
            if not m:
                return buf.decode("latin-1")
            if m.group(2) != b"+":
                cont = b"+ Ready for literal data\r\n"
                st["sock"].sendall(cont)
                self._rec(tr, "S", cont.decode().rstrip("\r\n"))
            # The literal, then the rest of the line on the next round.
            buf += b"\r\n" + self._raw_bytes(st, int(m.group(1)))

    def _fill(self, st):
        data = st["sock"].recv(65536)
        if not data:
            raise EOFError
        st["pending"] += data

    def _raw_line(self, st):
        while b"\r\n" not in st["pending"]:
            if len(st["pending"]) > LINE_MAX:
                raise ValueError("line too long")
            self._fill(st)
        line, st["pending"] = st["pending"].split(b"\r\n", 1)
        return line

    def _raw_bytes(self, st, n):
        while len(st["pending"]) < n:
            self._fill(st)
        data, st["pending"] = st["pending"][:n], st["pending"][n:]
        return data

    def _serve(self, sock, n, tr):
        st = {"sock": sock, "pending": b""}
        end = "closed"
        try:
            sock.settimeout(READ_TIMEOUT)
            if self.tls:
                st["sock"] = self._ctx.wrap_socket(sock, server_side=True)
                with self._lock:
                    self._conns.append(st["sock"])
            if n >= len(self.scripts):
                self._err(n, "unexpected connection (only %d scripted)"
                          % len(self.scripts))
                return
            if self.greeting is not None:
                self._send(st, tr, _encode(self.greeting, "*"))
            script = self.scripts[n]
            line = None         # read but not yet matched (optional steps)
            i = 0
            while i < len(script):
                step = script[i]
                tag = "*"
                m = None
                if step.expect is not None:
                    if line is None:
                        line = self._readline(st, tr)
                        self._rec(tr, "C", line)
                    tag = line.split(" ", 1)[0]
                    if st.get("cont_tag"):
                        # The line answers our "+": a SASL response or
                        # IDLE's DONE; the tagged reply is the command's.
                        tag = st["cont_tag"]
                    if self.drop_at == i:
                        end = "dropped"
                        return
                    m = re.fullmatch(step.expect, line, re.DOTALL)
                    if not m and step.optional:
                        i += 1
                        continue
                    if not m:
                        self._err(n, "step %d: %r does not match %r"
                                  % (i, line, step.expect))
                        self._send(st, tr, _encode(
                            "{tag} BAD fake: unexpected", tag))
                        end = "error"
                        return
                    line = None
                    st["cont_tag"] = None
                elif self.drop_at == i:
                    end = "dropped"
                    return
                i += 1
                act = step.action
                if isinstance(act, (int, float)) and not isinstance(act,
                                                                    bool):
                    time.sleep(act)
                resp = step.respond
                if callable(resp):
                    resp = resp(m, tag)
                data = _encode(resp, tag)
                self._send(st, tr, data)
                if data.rstrip(b"\r\n").split(b"\r\n")[-1][:1] == b"+":
                    st["cont_tag"] = tag
                if act == "drop":
                    end = "dropped"
                    return
                if act == "reset":
                    st["sock"].setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                          struct.pack("ii", 1, 0))
                    end = "reset"
                    return
                if act == "hang":
                    self._rec(tr, "*", "hang")
                    self._stop.wait()
                    return
                if act == "starttls":
                    st["sock"] = self._ctx.wrap_socket(st["sock"],
                                                       server_side=True)
                    self._rec(tr, "*", "starttls")
            if line is not None:
                self._err(n, "line after the script ended: %r" % line)
                self._send(st, tr, _encode("{tag} BAD fake: unexpected",
                                           line.split(" ", 1)[0]))
                end = "error"
                return
            # Script over: the client should only close now.
            with self._lock:
                self.completed.add(n)
            try:
                line = self._readline(st, tr)
            except (EOFError, OSError):
                end = "eof"
                return
            self._rec(tr, "C", line)
            self._err(n, "line after the script ended: %r" % line)
            self._send(st, tr, _encode("{tag} BAD fake: unexpected",
                                       line.split(" ", 1)[0]))
            end = "error"
        except EOFError:
            end = "eof"
        except (OSError, ValueError, ssl.SSLError) as e:
            if not self._stop.is_set():
                self._err(n, "%s: %s" % (type(e).__name__, e))
            end = "error"
        finally:
            self._rec(tr, "*", end)
            try:
                st["sock"].close()
            except OSError:
                pass
