# SPDX-License-Identifier: GPL-2.0-or-later
"""customflag_a .. customflag_z (Maildir repository): IMAP keywords as
lower-case Maildir flag letters.  From the server to the Maildir this is
OfflineIMAP's behaviour (test_sync_audit_more.py compares it with
offlineimap3); oimap also sends the letters back as keywords (OfflineIMAP
drops local letter changes on the floor and then undoes them)."""
from oimaptest.sync_helpers import (add_local, find_local, mid, msg,
                                    rename_flags, sync, sync_ok)


def keywords(imap, folder="INBOX"):
    """{message-id: sorted keywords (no system flags)} on the server."""
    return {m.message_id: sorted(f for f in m.flags if not f.startswith("\\"))
            for m in imap.fetch(folder, bodies=False)}


def test_local_letters_become_keywords(account, imap):
    uid = imap.append("INBOX", msg("k1"), ["$Label1"])
    imap.append("INBOX", msg("k2"), ["\\Seen"])
    account.write_rc(overrides={"local": {"customflag_a": "$Label1",
                                          "customflag_b": "$Label2"}})
    sync_ok(account)
    m = find_local(account, "INBOX", "k1")
    assert m.flags == "a"
    # the reader removes a, adds b and S
    rename_flags(m, "Sb")
    # and files a new message with a letter
    add_local(account, "INBOX", "k3", flags="a")
    sync_ok(account)
    kw = keywords(imap)
    assert kw[mid("k1")] == ["$Label2"], kw
    assert kw[mid("k3")] == ["$Label1"], kw
    assert uid in [m.uid for m in imap.fetch("INBOX", bodies=False)
                   if "\\Seen" in m.flags]
    # stable: a second run changes nothing
    r = sync_ok(account)
    assert "0 new, 0 uploaded, 0 flags changed, 0 deleted" in r.output or \
        "unchanged" in r.output, r.output
    assert keywords(imap) == kw


def test_unmapped_keywords_and_letters_stay(account, imap):
    """A keyword without a letter is not synced and not removed; a letter
    without a keyword stays in the local name."""
    imap.append("INBOX", msg("u1"), ["$Other"])
    account.write_rc(overrides={"local": {"customflag_a": "$Label1"}})
    sync_ok(account)
    m = find_local(account, "INBOX", "u1")
    assert m.flags == ""
    rename_flags(m, "z")
    sync_ok(account)
    assert keywords(imap)[mid("u1")] == ["$Other"]
    assert find_local(account, "INBOX", "u1").flags == "z"
    # and stays there on the syncs after (the status must not take the
    # letter for one the server then dropped)
    sync_ok(account)
    sync_ok(account)
    assert find_local(account, "INBOX", "u1").flags == "z"
    assert keywords(imap)[mid("u1")] == ["$Other"]
    # a flag change from the server renames the file: the letter stays
    uid = [m.uid for m in imap.fetch("INBOX", bodies=False)
           if m.message_id == mid("u1")][0]
    imap.set_flags("INBOX", [uid], ["\\Seen"])
    sync_ok(account)
    assert find_local(account, "INBOX", "u1").flags == "Sz"


def test_bad_keyword_is_a_config_error(account, imap):
    imap.append("INBOX", msg("b1"))
    account.write_rc(overrides={"local": {"customflag_a": "two words"}})
    r = sync(account)
    assert r.rc != 0
    assert "customflag_a" in r.output and "not an IMAP keyword" in \
        r.output, r.output
    assert account.tree().get("INBOX", []) == []
