# SPDX-License-Identifier: GPL-2.0-or-later
"""Deterministic RFC 5322 messages for tests and the demo.

make_message() returns bytes with CRLF line ends (what goes over IMAP);
the same seed always gives the same message.  A Maildir written by
OfflineIMAP holds them with LF line ends (see maildir.py).
"""
import datetime
import random

WORDS = ("offline imap maildir sync folder message flag server client "
         "draft seen answered flagged deleted archive inbox notes report "
         "meeting lunch friday budget review release patch build test "
         "quarterly update reminder invoice travel plan").split()

NAMES = ["Alice Example <alice@example.org>", "Bob Example <bob@example.org>",
         "Carol Test <carol@example.net>", "Dave Test <dave@example.net>",
         "Zoë Ünïcode <zoe@example.com>"]

EPOCH = datetime.datetime(2024, 1, 15, 9, 30, 0,
                          tzinfo=datetime.timezone.utc)


def message_id(seed, domain="oimap.test"):
    return "<%s@%s>" % (seed, domain)


def msg_date(n):
    """A deterministic date, n hours after EPOCH."""
    return EPOCH + datetime.timedelta(hours=n)


def make_message(seed=0, subject=None, msgid=None, sender=None, to=None,
                 date=None, body=None, body_lines=None, extra_headers=(),
                 size=None):
    """A plain-text message.  seed (int or str) picks the defaults;
    body_lines asks for a body of that many lines; size pads the body
    with 76-character lines to at least that many bytes (for streaming
    tests).  Returns CRLF bytes."""
    rnd = random.Random(str(seed))
    if subject is None:
        subject = " ".join(rnd.choice(WORDS) for _ in range(4)).capitalize()
    if msgid is None:
        msgid = message_id("m%s" % seed)
    if sender is None:
        sender = NAMES[rnd.randrange(len(NAMES) - 1)]
    if to is None:
        to = NAMES[-1]
    if date is None:
        date = msg_date(rnd.randrange(24 * 365))
    if isinstance(date, datetime.datetime):
        date = date.strftime("%a, %d %b %Y %H:%M:%S %z")
    if body is None:
        n = body_lines if body_lines is not None else rnd.randrange(2, 12)
        body = "\n".join(
            " ".join(rnd.choice(WORDS) for _ in range(rnd.randrange(3, 12)))
            for _ in range(n)) + "\n"
    hdrs = [("From", sender), ("To", to), ("Subject", subject),
            ("Date", date), ("Message-ID", msgid), ("MIME-Version", "1.0"),
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Transfer-Encoding", "8bit")]
    hdrs += list(extra_headers)
    text = "".join("%s: %s\n" % kv for kv in hdrs) + "\n" + body
    data = to_crlf(text.encode("utf-8"))
    if size is not None and len(data) < size:
        line = (("%s " % seed) * 80)[:76].encode() + b"\r\n"
        n = (size - len(data) + len(line) - 1) // len(line)
        data += line * n
    return data


def to_crlf(data):
    """Normalise line ends to CRLF."""
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def to_lf(data):
    return data.replace(b"\r\n", b"\n")
