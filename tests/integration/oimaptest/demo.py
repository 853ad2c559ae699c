# SPDX-License-Identifier: GPL-2.0-or-later
"""The mailbox `make demo` syncs: a few folders (one nested, one with a
non-ASCII name), 30 messages with varied flags, all deterministic."""
import random

from . import mail

FOLDERS = {
    "INBOX": 12,
    "Archive": 4,
    "Archive/2023": 6,
    "Work/Projects": 3,
    "Entwürfe": 2,
    "Sent": 3,
}

FLAG_CHOICES = [[], ["\\Seen"], ["\\Seen"], ["\\Seen", "\\Answered"],
                ["\\Flagged"], ["\\Seen", "\\Flagged"], ["\\Draft"],
                ["\\Seen", "$Forwarded"]]


def messages():
    """[(folder, message bytes, flags, internal date)], deterministic."""
    rnd = random.Random(2024)
    out = []
    n = 0
    for folder, count in FOLDERS.items():
        for _ in range(count):
            n += 1
            date = mail.msg_date(n * 37)
            flags = rnd.choice(FLAG_CHOICES)
            if folder == "Entwürfe":
                flags = ["\\Draft"]
            msg = mail.make_message(seed="demo%d" % n, date=date,
                                    body_lines=rnd.randrange(3, 40))
            out.append((folder, msg, flags, date))
    return out


def seed(client):
    """Create the folders and append the messages; returns the count."""
    for folder in FOLDERS:
        if folder != "INBOX":
            client.create(folder)
    msgs = messages()
    for folder, msg, flags, date in msgs:
        client.append(folder, msg, flags, date)
    return len(msgs)
