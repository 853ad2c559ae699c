#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Produce status-cache reference files with OfflineIMAP's own classes.

Run with Debian's python (offlineimap3 installed):
    /usr/bin/python3 tests/unit/data/status/gen_reference.py OUTDIR
It instantiates offlineimap.folder.LocalStatus / LocalStatusSQLite and
offlineimap.folder.Base (FolderValidity) offline, with a minimal fake
config, repository and UI, and writes the files the unit tests read.
The committed files under tests/unit/data/status/ref/ came from this script.
"""
import os
import sqlite3
import sys

sys.path.insert(0, '/usr/share/offlineimap3')

from offlineimap.ui import UIBase  # noqa: E402
from offlineimap.folder.LocalStatus import LocalStatusFolder  # noqa: E402
from offlineimap.folder.LocalStatusSQLite import \
    LocalStatusSQLiteFolder  # noqa: E402
from offlineimap.folder.Base import BaseFolder  # noqa: E402


class FakeUI:
    def __getattr__(self, name):
        return lambda *a, **k: None


class FakeConfig:
    def getdefaultboolean(self, section, option, default):
        if option == 'fsync':
            return False
        return default


class FakeRepo:
    def __init__(self, name, root, uiddir=None):
        self.name = name
        self.root = root
        self.uiddir = uiddir
        self.newmail_hook = None

    def nametrans(self, name):
        return name

    def getconfig(self):
        return FakeConfig()

    def should_sync_folder(self, name):
        return True

    def getuiddir(self):
        return self.uiddir

    def __str__(self):
        return self.name


class FakeValidityFolder(BaseFolder):
    def __init__(self, name, repository, sep, validity):
        self.sep = sep
        super().__init__(name, repository)
        self._v = validity

    def get_uidvalidity(self):
        return self._v


# Records: uid -> (flags, mtime, labels).  Python sets, as the sync uses.
RECORDS = [
    (1, set('S'), 0, set()),
    (2, set('SR'), 0, set()),
    (3, set(), 0, set()),
    (7, set('FRST'), 1700000000, set()),
    (42, set('DFRST'), 0, set(['\\Inbox', 'Work'])),
    (4294967295, set('S'), 1234567890, set(['b label', 'a', 'z'])),
    (100, set('Sab'), 5, set()),
]


def fill(folder):
    for uid, flags, mtime, labels in RECORDS:
        folder.savemessage(uid, None, flags, 0, mtime, labels)


def main(out):
    UIBase.setglobalui(FakeUI())
    acct = os.path.join(out, 'Account-Test')
    plainroot = os.path.join(acct, 'LocalStatus')
    sqlroot = os.path.join(acct, 'LocalStatus-sqlite')
    os.makedirs(plainroot, exist_ok=True)
    os.makedirs(sqlroot, exist_ok=True)

    # The folder names exercise getfolderbasename(): '/' -> '.', '' and
    # '.' -> 'dot'.
    for name in ['INBOX', 'Sub/Folder', '']:
        f = LocalStatusFolder(name, FakeRepo('Test', plainroot))
        f.cachemessagelist()
        fill(f)
        f.saveall()
        s = LocalStatusSQLiteFolder(name, FakeRepo('Test', sqlroot))
        s.openfiles()
        s.cachemessagelist()
        fill(s)
        s.closefiles()

    # An empty plain cache (magic line only) and an empty sqlite db.
    f = LocalStatusFolder('Empty', FakeRepo('Test', plainroot))
    f.cachemessagelist()
    f.saveall()
    s = LocalStatusSQLiteFolder('Empty', FakeRepo('Test', sqlroot))
    s.openfiles()
    s.closefiles()

    # Format 1 plain file, written as OfflineIMAP < 6.3.5 wrote it
    # (magic FORMAT 1, uid:flags), and a version-1 sqlite db as the old
    # __create_db made it.  Upgraded copies are made by OfflineIMAP too.
    v1 = os.path.join(out, 'v1')
    os.makedirs(os.path.join(v1, 'LocalStatus'), exist_ok=True)
    os.makedirs(os.path.join(v1, 'LocalStatus-sqlite'), exist_ok=True)
    with open(os.path.join(v1, 'LocalStatus', 'INBOX'), 'wt') as fp:
        fp.write(LocalStatusFolder.magicline % 1 + '\n')
        fp.write('1:S\n2:RS\n3:\n9:DFRST\n')
    dbpath = os.path.join(v1, 'LocalStatus-sqlite', 'INBOX')
    con = sqlite3.connect(dbpath)
    con.executescript("""
        CREATE TABLE metadata (key VARCHAR(50) PRIMARY KEY, value VARCHAR(128));
        INSERT INTO metadata VALUES('db_version', '1');
        CREATE TABLE status (id INTEGER PRIMARY KEY, flags VARCHAR(50));
        INSERT INTO status VALUES(1, 'S');
        INSERT INTO status VALUES(2, 'RS');
        INSERT INTO status VALUES(3, '');
        INSERT INTO status VALUES(9, 'DFRST');
        """)
    con.commit()
    con.close()
    up = os.path.join(out, 'v1-upgraded')
    os.makedirs(os.path.join(up, 'LocalStatus'), exist_ok=True)
    os.makedirs(os.path.join(up, 'LocalStatus-sqlite'), exist_ok=True)
    import shutil
    shutil.copy(os.path.join(v1, 'LocalStatus', 'INBOX'),
                os.path.join(up, 'LocalStatus', 'INBOX'))
    shutil.copy(dbpath, os.path.join(up, 'LocalStatus-sqlite', 'INBOX'))
    f = LocalStatusFolder('INBOX', FakeRepo('Test', os.path.join(up, 'LocalStatus')))
    f.cachemessagelist()  # upgrades the file in place
    s = LocalStatusSQLiteFolder('INBOX', FakeRepo('Test', os.path.join(up, 'LocalStatus-sqlite')))
    s.openfiles()  # upgrades the db in place
    s.closefiles()

    # FolderValidity files: Repository-<name>/FolderValidity/<basename>.
    for repo, sep, name, val in [('Remote', '/', 'INBOX', 1700000001),
                                 ('Remote', '/', 'Sub/Folder', 4294967295),
                                 ('Local', '.', 'INBOX', 42),
                                 ('Local', '.', 'Sub.Folder', 42),
                                 ('Local', '.', '.', 42)]:
        d = os.path.join(out, 'Repository-' + repo, 'FolderValidity')
        os.makedirs(d, exist_ok=True)
        FakeValidityFolder(name, FakeRepo(repo, None, d), sep, val).save_uidvalidity()


if __name__ == '__main__':
    main(sys.argv[1])
