# SPDX-License-Identifier: GPL-2.0-or-later
"""Issue 5: the options that restrict a sync, through the binary.

readonly (each side), maxage, maxsize, -q, -f, folderfilter, nametrans
both ways, createfolders = no, expunge = no, status_backend = plain, -1
against maxconnections, -a with several accounts, --dry-run.
Set OIMAPTEST_ENGINE=offlineimap to run these against offlineimap3.
"""
import datetime
import os

from conftest import Account
from oimaptest import dovecot as dovecotmod
from oimaptest import mail
from oimaptest import maildir as maildirmod
from oimaptest import rc as rcmod
from oimaptest.sync_helpers import (ENGINE, add_local, assert_synced,
                                    find_local, fmd5, local_state,
                                    local_names, mid, msg, oimap_only,
                                    rename_flags, seed, seed_standard,
                                    server_state, snapshot, status_path,
                                    status_records, sync, sync_ok)

SMALL = {"INBOX": [("s1", ["\\Seen"]), ("s2", [])],
         "Archive": [("a1", [])]}


def ids(pairs):
    return sorted(i for i, _ in pairs)


# readonly --------------------------------------------------------------------

def test_readonly_local(account, imap):
    """offlineimap.conf, 'readonly': "this does NOT mean that the local
    Maildir can be used with a read-only filesystem: When OfflineImap
    uploads a new email, it is assigned a new UID by the remote which is
    stored in the filename."  So new local mail is uploaded and renamed;
    nothing is downloaded."""
    seed(imap, SMALL)
    sync_ok(account)
    account.write_rc(overrides={"local": {"readonly": True}})
    imap.append("INBOX", msg("srvnew"))
    add_local(account, "INBOX", "locnew", flags="S")
    before = sorted(local_names(account.maildir))
    sync_ok(account)
    srv = server_state(imap)
    assert (mid("locnew"), "S") in srv["INBOX"]          # uploaded
    loc = local_state(account.maildir)
    assert mid("srvnew") not in ids(loc["INBOX"])         # not downloaded
    # nothing was written into the read-only Maildir but (at most) the
    # rename of the uploaded message to carry its new UID
    after = local_names(account.maildir)
    assert len(after) == len(before)
    # once writable again, the rest comes down and all agrees
    account.write_rc()
    sync_ok(account)
    assert_synced(account, imap)


def test_readonly_remote(account, imap):
    uids = seed(imap, SMALL)
    sync_ok(account)
    account.write_rc(readonly=True)
    imap.append("INBOX", msg("srvnew"), flags=["\\Flagged"])
    add_local(account, "INBOX", "locnew")
    rename_flags(find_local(account, "INBOX", "s2"), "F")
    os.unlink(find_local(account, "Archive", "a1").path)
    add_local(account, "LocalOnly", "lo1")
    before = server_state(imap)
    sync_ok(account)
    assert server_state(imap) == before                  # server untouched
    assert "LocalOnly" not in imap.list()
    loc = local_state(account.maildir)
    assert (mid("srvnew"), "F") in loc["INBOX"]          # downloaded
    assert mid("locnew") in ids(loc["INBOX"])            # kept locally
    assert uids["Archive"]["a1"]


# maxage / maxsize ------------------------------------------------------------

def test_maxage(account, imap):
    now = datetime.datetime.now(datetime.timezone.utc)
    imap.append("INBOX", msg("old"), date=now - datetime.timedelta(days=400))
    imap.append("INBOX", msg("recent"), date=now - datetime.timedelta(days=2))
    account.write_rc(overrides={"account": {"maxage": 30}})
    sync_ok(account)
    assert ids(local_state(account.maildir)["INBOX"]) == [mid("recent")]
    sync_ok(account)
    # the old message is outside the window: not a deletion
    assert ids(server_state(imap)["INBOX"]) == sorted([mid("old"),
                                                       mid("recent")])
    assert ids(local_state(account.maildir)["INBOX"]) == [mid("recent")]


def test_quick_with_maxage_is_ignored_with_a_warning(account, imap):
    """accounts.py: -q cannot work with maxage (or startdate): it is
    ignored, and said so; the sync is a full one (a server flag change is
    seen)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    uid = imap.append("INBOX", msg("qm1"), date=now - datetime.timedelta(days=2))
    account.write_rc(overrides={"account": {"maxage": 30}})
    sync_ok(account)
    imap.set_flags("INBOX", uid, ["\\Flagged"], "+")
    r = account.oimap("-o", "-u", "basic", "-q")
    assert r.rc == 0, r.err
    assert "Quick syncs (-q) not supported in conjunction with maxage " \
        "or startdate; ignoring -q." in r.err
    assert (mid("qm1"), "F") in local_state(account.maildir)["INBOX"]


def test_maxsize(account, imap):
    imap.append("INBOX", msg("small"))
    imap.append("INBOX", msg("big", body_lines=2000))
    account.write_rc(overrides={"account": {"maxsize": 20000}})
    sync_ok(account)
    assert ids(local_state(account.maildir)["INBOX"]) == [mid("small")]
    add_local(account, "INBOX", "locsmall")
    maildirmod.add_local_message(account.maildir, "INBOX", mail.to_lf(
        msg("locbig", body_lines=2000)))
    sync_ok(account)
    assert ids(server_state(imap)["INBOX"]) == sorted(
        [mid("small"), mid("big"), mid("locsmall")])
    assert ids(local_state(account.maildir)["INBOX"]) == sorted(
        [mid("small"), mid("locsmall"), mid("locbig")])


# -q, -f, folderfilter --------------------------------------------------------

def test_quick(account, imap):
    uids = seed(imap, SMALL)
    sync_ok(account)
    # -q: a server flag change alone is not looked for (IMAP quickchanged
    # only compares the message count)...
    imap.set_flags("INBOX", uids["INBOX"]["s2"], ["\\Flagged"], "+")
    sync_ok(account, "-q")
    assert (mid("s2"), "") in local_state(account.maildir)["INBOX"]
    # ...new mail and local changes are
    imap.append("INBOX", msg("qnew"))
    rename_flags(find_local(account, "Archive", "a1"), "S")
    sync_ok(account, "-q")
    loc = local_state(account.maildir)
    assert mid("qnew") in ids(loc["INBOX"])
    assert (mid("a1"), "S") in server_state(imap)["Archive"]
    # a full run catches up
    sync_ok(account)
    srv = assert_synced(account, imap)
    assert (mid("s2"), "F") in srv["INBOX"]


def test_folders_option(account, imap):
    seed(imap, SMALL)
    sync_ok(account)
    imap.append("INBOX", msg("fin"))
    imap.append("Archive", msg("fout"))
    add_local(account, "Archive", "lout")
    sync_ok(account, "-f", "INBOX")
    loc = local_state(account.maildir)
    assert mid("fin") in ids(loc["INBOX"])
    assert mid("fout") not in ids(loc["Archive"])
    assert mid("lout") not in ids(server_state(imap)["Archive"])
    sync_ok(account)
    assert_synced(account, imap)


def test_folderfilter(account, imap):
    seed_standard(imap)
    account.write_rc(folderfilter="lambda f: f in ['INBOX', 'Archive']")
    sync_ok(account)
    assert sorted(account.tree()) == ["Archive", "INBOX"]
    assert_synced_subset = local_state(account.maildir)
    srv = server_state(imap, ["INBOX", "Archive"])
    assert assert_synced_subset == srv


# nametrans -------------------------------------------------------------------

NT_REMOTE = "lambda f: 'R_' + f"
NT_LOCAL = "lambda f: f[2:] if f.startswith('R_') else f"


def test_nametrans_both_ways(account, imap):
    seed(imap, {"INBOX": [("n1", ["\\Seen"])], "Sent": [("n2", [])]})
    account.write_rc(overrides={"remote": {"nametrans": NT_REMOTE},
                                "local": {"nametrans": NT_LOCAL}})
    sync_ok(account)
    assert sorted(account.tree()) == ["R_INBOX", "R_Sent"]
    add_local(account, "R_Notes", "n3", flags="S")
    add_local(account, "R_INBOX", "n4")
    imap.append("Sent", msg("n5"))
    sync_ok(account)
    assert "Notes" in imap.list()
    assert "R_Notes" not in imap.list()
    assert sorted(account.tree()) == ["R_INBOX", "R_Notes", "R_Sent"]

    def back(lf):
        return lf[2:]
    srv = assert_synced(account, imap, translate=back, visible=back,
                        status_name=lambda rf: "R_" + rf)
    assert srv == {"INBOX": sorted([(mid("n1"), "S"), (mid("n4"), "")]),
                   "Sent": sorted([(mid("n2"), ""), (mid("n5"), "")]),
                   "Notes": [(mid("n3"), "S")]}
    before = snapshot(account, imap)
    sync_ok(account)
    assert snapshot(account, imap) == before


# createfolders, expunge ------------------------------------------------------

@oimap_only       # OfflineIMAP 8 aborts the account ("getfolder() asked
def test_createfolders_no_local(account, imap):   # for a nonexisting folder")
    seed(imap, SMALL)
    account.write_rc(overrides={"local": {"createfolders": False}})
    os.makedirs(os.path.join(account.maildir, "INBOX", "cur"))
    for s in ("new", "tmp"):
        os.makedirs(os.path.join(account.maildir, "INBOX", s))
    sync(account)   # the exit status is not specified here
    assert sorted(account.tree()) == ["INBOX"]
    assert ids(local_state(account.maildir)["INBOX"]) == sorted(
        [mid("s1"), mid("s2")])


def test_createfolders_no_remote(account, imap):
    seed(imap, SMALL)
    sync_ok(account)
    account.write_rc(createfolders=False)
    add_local(account, "LocalOnly", "lo1")
    sync_ok(account)
    assert "LocalOnly" not in imap.list()
    assert len(account.tree()["LocalOnly"]) == 1


def test_expunge_no(account, imap):
    uids = seed(imap, SMALL)
    sync_ok(account)
    account.write_rc(expunge=False)
    os.unlink(find_local(account, "INBOX", "s1").path)
    sync_ok(account)
    msgs = {m.uid: m.flags for m in imap.fetch("INBOX", bodies=False)}
    # marked \Deleted on the server, not expunged
    assert "\\Deleted" in msgs[uids["INBOX"]["s1"]]
    assert "\\Deleted" not in msgs[uids["INBOX"]["s2"]]


# status backend --------------------------------------------------------------

@oimap_only
def test_status_backend_plain(account, imap):
    seed_standard(imap)
    account.write_rc(overrides={"account": {"status_backend": "plain"}})
    sync_ok(account)
    assert os.path.exists(status_path(account, "INBOX", "plain"))
    assert not os.path.exists(status_path(account, "INBOX", "sqlite"))
    assert_synced(account, imap, backend="plain")
    add_local(account, "INBOX", "pl1")
    sync_ok(account)
    assert_synced(account, imap, backend="plain")


# connections, accounts, dry run ----------------------------------------------

def _mk_account(imap_user, tmp_path, sub, name="Test"):
    d = tmp_path / sub
    d.mkdir()
    return Account(imap_user, d, os.environ.get("OIMAP_BIN", account_bin()),
                   name=name)


def account_bin():
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.join(os.path.dirname(os.path.dirname(here)), "build",
                        "oimap")


def _tree_fingerprint(acc):
    return {f: sorted((m.uid, m.flags, m.message_id, m.fmd5)
                      for m in msgs) for f, msgs in acc.tree().items()}


def test_one_connection_and_several_give_the_same(imap_user, imap, tmp_path):
    seed_standard(imap)
    a = _mk_account(imap_user, tmp_path, "a")
    b = _mk_account(imap_user, tmp_path, "b")
    a.write_rc(maxconnections=1)
    b.write_rc(maxconnections=3)
    sync_ok(a, "-1")
    sync_ok(b)
    assert _tree_fingerprint(a) == _tree_fingerprint(b)
    assert_synced(a, imap)
    assert_synced(b, imap)
    for f in a.tree():
        assert status_records(a, f) == status_records(b, f)


def test_several_accounts(dovecot, imap_user, imap, tmp_path, request):
    other = dovecotmod.new_user(dovecot, hint="other")
    with other.client() as oc:
        seed(oc, {"INBOX": [("o1", [])]})
    seed(imap, {"INBOX": [("t1", [])]})
    acc = Account(imap_user, tmp_path, os.environ.get("OIMAP_BIN",
                                                      account_bin()))
    secs = rcmod.rc_sections(imap_user, tmp_path / "Mail",
                             tmp_path / "metadata", account="Test")
    secs2 = rcmod.rc_sections(other, tmp_path / "Mail2",
                              tmp_path / "metadata", account="Other")
    secs.update({k: v for k, v in secs2.items() if k != "general"})
    secs["general"]["accounts"] = "Test, Other"
    with open(acc.rc, "w") as fh:
        fh.write(rcmod.render(secs))
    os.chmod(acc.rc, 0o600)
    sync_ok(acc, "-a", "Other")
    assert not os.path.exists(tmp_path / "Mail")
    assert ids(local_state(str(tmp_path / "Mail2"))["INBOX"]) == [mid("o1")]
    sync_ok(acc)
    assert ids(local_state(str(tmp_path / "Mail"))["INBOX"]) == [mid("t1")]
    with other.client() as oc:
        oc.append("INBOX", msg("o2"))
    imap.append("INBOX", msg("t2"))
    sync_ok(acc, "-a", "Test,Other")
    assert ids(local_state(str(tmp_path / "Mail"))["INBOX"]) == sorted(
        [mid("t1"), mid("t2")])
    assert ids(local_state(str(tmp_path / "Mail2"))["INBOX"]) == sorted(
        [mid("o1"), mid("o2")])


def test_dry_run_changes_nothing(account, imap):
    uids = seed(imap, SMALL)
    if ENGINE == "oimap":   # OfflineIMAP 8 fails: the folders do not exist
        r = sync(account, "--dry-run")
        assert r.rc == 0, r
        assert local_names(account.maildir) == []
        assert not os.path.exists(status_path(account, "INBOX"))
    sync_ok(account)
    imap.append("INBOX", msg("dnew"))
    imap.set_flags("INBOX", uids["INBOX"]["s2"], ["\\Flagged"], "+")
    add_local(account, "Archive", "dloc")
    rename_flags(find_local(account, "INBOX", "s1"), "")
    os.unlink(find_local(account, "Archive", "a1").path)
    before = snapshot(account, imap)
    r = sync(account, "--dry-run")
    assert r.rc == 0, r
    assert snapshot(account, imap) == before
    sync_ok(account)
    srv = assert_synced(account, imap)
    assert dict(srv["INBOX"]) == {mid("s1"): "", mid("s2"): "F",
                                  mid("dnew"): ""}
    assert dict(srv["Archive"]) == {mid("dloc"): ""}


def test_sync_deletes_no(account, imap):
    """Local repository 'sync_deletes = no': a local deletion stays local
    (the server keeps the message, the status its record, and it is not
    downloaded again)."""
    seed(imap, SMALL)
    sync_ok(account)
    account.write_rc(overrides={"local": {"sync_deletes": False}})
    os.unlink(find_local(account, "INBOX", "s1").path)
    sync_ok(account)
    sync_ok(account)
    assert mid("s1") in ids(server_state(imap)["INBOX"])
    assert mid("s1") not in ids(local_state(account.maildir)["INBOX"])


def test_folderincludes(account, imap):
    seed(imap, {"INBOX": [("fi1", [])], "Hidden": [("fi2", [])],
                "Other": [("fi3", [])]})
    account.write_rc(folderfilter="lambda f: f == 'INBOX'",
                     folderincludes="['Hidden']")
    sync_ok(account)
    assert sorted(account.tree()) == ["Hidden", "INBOX"]
    assert ids(local_state(account.maildir)["Hidden"]) == [mid("fi2")]


def test_local_sep_slash(account, imap):
    """Maildir 'sep = /': nested folders are nested directories."""
    seed(imap, {"INBOX": [("sl1", [])], "Archive/2024": [("sl2", ["\\Seen"])]})
    account.write_rc(overrides={"local": {"sep": "/"}})
    sync_ok(account)
    assert os.path.isdir(os.path.join(account.maildir, "Archive", "2024",
                                      "cur"))
    tree = account.tree()
    assert [m.message_id for m in tree["Archive/2024"]] == [mid("sl2")]
    assert tree["Archive/2024"][0].fmd5 == fmd5("Archive/2024")
    add_local(account, "Archive/2024", "sl3")
    sync_ok(account)
    assert ids(server_state(imap)["Archive/2024"]) == sorted(
        [mid("sl2"), mid("sl3")])
    before = snapshot(account, imap)
    sync_ok(account)
    assert snapshot(account, imap) == before
