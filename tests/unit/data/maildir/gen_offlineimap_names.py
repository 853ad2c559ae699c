#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Generate offlineimap-names.tsv: what OfflineIMAP 8 (Debian's offlineimap3)
itself computes for Maildir names, FMD5s, flag renames, dates and folder
listings.  The C unit test test_maildir_name.c / test_maildir.c compares
oimap against these lines, so oimap reads and writes names exactly as
OfflineIMAP does.

Run offline (no server, no config):
    /usr/bin/python3 tests/unit/data/maildir/gen_offlineimap_names.py \
        > tests/unit/data/maildir/offlineimap-names.tsv

It builds OfflineIMAP's objects without their constructors (which want a
whole account) and calls the real methods: new_message_filename,
_parse_filename, _scanfolder, savemessageflags, _getfolders_scandir,
email.utils.parsedate_tz/mktime_tz.

Line formats (tab separated, '-' for None):
  fmd5   <visible name>  <md5>
  gen    <infosep> <fmd5> <time> <pid> <host> <uid> <flags> <name>
  parse  <infosep> <fmd5> <name> <uid> <flags>
  scan   <infosep> <fmd5> <rel name> <uid> <flags>
  flags  <infosep> <fmd5> <old rel> <new flags> <new rel>
  date   <header value> <unix time>
  tree   <sep> <dirs made, '|'> <folders listed, '|'>
"""
import os
import re
import socket
import sys
import tempfile
from email.utils import mktime_tz, parsedate_tz
from hashlib import md5

sys.path.insert(0, '/usr/share/offlineimap3')
from offlineimap.folder import Maildir as M  # noqa: E402
from offlineimap.repository import Maildir as RM  # noqa: E402


def out(*fields):
    fields = ['-' if f is None else str(f) for f in fields]
    for f in fields:
        assert '\t' not in f and '\n' not in f
    print('\t'.join(fields))


def folder(visible, infosep=':'):
    f = object.__new__(M.MaildirFolder)
    f._foldermd5 = md5(visible.encode('utf-8')).hexdigest()
    f.infosep = infosep
    f.re_flagmatch = re.compile('%s2,(\\w*)' % infosep)
    f.re_prefixmatch = re.compile('([^' + infosep + ',]*)')
    f.sep_subst = '-'
    f.messagelist = {}
    return f


def fl(s):
    return ''.join(sorted(s))


# --- FMD5 of visible names (nametrans output; '' is the root folder) ---
for name in ['INBOX', 'Archive/2023', 'Archive.2023', '', 'Sent Items',
             '.Drafts', 'Entw&APw-rfe', 'Entwürfe', '[Gmail]/All Mail']:
    out('fmd5', name, md5(name.encode('utf-8')).hexdigest())

# --- names OfflineIMAP writes: every subset of DFRST, keywords ---
letters = 'DFRST'
flagsets = []
for mask in range(32):
    flagsets.append({c for i, c in enumerate(letters) if mask & (1 << i)})
flagsets += [{'S', 'a'}, {'b', 'a', 'T'}, {'z', 'D', '0', '_'}, {'P', 'S'}]
realpid, realhost = os.getpid, socket.gethostname
for infosep in [':', '!']:
    for host in ['mail.example.org', 'odd/host.example']:
        os.getpid = lambda: 4242
        socket.gethostname = lambda h=host: h
        M.timehash.clear()
        f = folder('INBOX', infosep)
        for i, flags in enumerate(flagsets):
            uid = [1, 42, 4294967295, 7][i % 4]
            date = 1700000000 + (i % 3)
            name = f.new_message_filename(uid, flags, date=date)
            out('gen', infosep, f._foldermd5, date, 4242, host, uid,
                fl(flags), name)
os.getpid, socket.gethostname = realpid, realhost

# --- names OfflineIMAP reads ---
inbox = folder('INBOX')
other = md5(b'Archive').hexdigest()
ours = inbox._foldermd5
names = [
    # OfflineIMAP's own
    '1700000000_0.4242.host,U=17,FMD5=%s:2,FS' % ours,
    '1700000000_1.4242.host,U=18,FMD5=%s:2,' % ours,
    '1700000000_2.4242.host,U=19,FMD5=%s' % ours,       # new/, no info
    '1700000000_3.4242.host,U=20,FMD5=%s:2,Sab' % ours,  # keywords
    '1700000000_4.4242.host,U=21,FMD5=%s:2,SSRR' % ours,  # duplicates
    '1700000000_5.4242.host,U=22,FMD5=%s:2,TSRFD' % ours,  # unsorted
    '1700000000_6.4242.host,U=23,FMD5=%s!2,S' % ours,     # windows sep
    # moved here from another folder: FMD5 foreign -> no UID
    '1700000000_7.4242.host,U=24,FMD5=%s:2,S' % other,
    # OfflineIMAP < 6.3.5 style without FMD5 and mbsync
    '1700000000_8.4242.host,U=25:2,S',
    '1699999999.1234_5.laptop,U=12:2,S',
    # mutt / neomutt
    '1699999999.P1234Q0R5.laptop:2,FS',
    '1699999999.P1234Q0R5.laptop:2,',
    '1699999999.P1234Q0R5.laptop',
    # Dovecot
    '1699999999.M123456P789V0000000000000801I00000abcdef_0.mx,S=1234,W=1260:2,RS',
    # notmuch / anything: no UID
    'notmuch-abc123.host:2,S',
    # U= after the flags, still found by re_uidmatch
    'x,FMD5=%s:2,S,U=99' % ours,
    # U= without digits then a real one
    'x,U=,U=7,FMD5=%s:2,R' % ours,
    # experimental info
    '1699999999.abc.host:1,whatever',
    # flags followed by more text
    '1699999999.abc.host:2,S.bak',
]
for n in names:
    prefix, uid, fmd5, flags = inbox._parse_filename(n)
    out('parse', ':', ours, n, uid, fl(flags))
wins = folder('INBOX', '!')
for n in ['1700000000_6.4242.host,U=23,FMD5=%s!2,FS' % ours,
          '1700000000_6.4242.host,U=23,FMD5=%s:2,FS' % ours]:
    prefix, uid, fmd5, flags = wins._parse_filename(n)
    out('parse', '!', ours, n, uid, fl(flags))

# --- scanning a folder (cur/ and new/), as _scanfolder ---
with tempfile.TemporaryDirectory() as tmp:
    for sub in ['cur', 'new', 'tmp']:
        os.mkdir(os.path.join(tmp, sub))
    placed = [('new', names[2]), ('new', names[12]), ('tmp', 'ignored')]
    placed += [('cur', n) for n in names if n not in (names[2], names[12])]
    placed += [('cur', '.hidden')]
    for sub, n in placed:
        open(os.path.join(tmp, sub, n), 'w').close()
    inbox.getfullname = lambda: tmp
    inbox.getmaxsize = lambda: None
    for uid, m in sorted(inbox._scanfolder().items(),
                         key=lambda kv: kv[1]['filename']):
        out('scan', ':', ours, m['filename'], uid if uid > 0 else None,
            fl(m['flags']))

# --- flag changes: savemessageflags() renames (new/ <-> cur/) ---
renamed = []
M.os.rename = lambda a, b: renamed.append((a, b))
cases = [
    ('new/%s' % names[2], set(), {'S'}),
    ('new/%s' % names[2], set(), {'F'}),
    ('cur/%s' % names[0], {'F', 'S'}, {'S'}),
    ('cur/%s' % names[0], {'F', 'S'}, set()),
    ('cur/%s' % names[0], {'F', 'S'}, {'S', 'R', 'a'}),
    ('cur/%s' % names[1], set(), {'S', 'T'}),
    ('new/%s' % names[12], set(), {'S'}),
    ('cur/%s' % names[10], {'F', 'S'}, {'F', 'S', 'R'}),
    ('cur/%s' % names[13], {'R', 'S'}, {'S'}),
]
for i, (old, oldflags, newflags) in enumerate(cases):
    inbox.getfullname = lambda: '/x'
    inbox.messagelist = {i: {'flags': oldflags, 'filename': old}}
    renamed.clear()
    inbox.savemessageflags(i, newflags)
    new = inbox.messagelist[i]['filename']
    out('flags', ':', ours, old, fl(newflags), new)
M.os.rename = os.rename

# --- Date headers: parsedate_tz + mktime_tz as get_message_date() ---
for d in ['Tue, 14 Nov 2023 22:13:20 +0000',
          'Tue, 14 Nov 2023 23:13:20 +0100',
          'Tue, 14 Nov 2023 17:13:20 EST',
          '14 Nov 2023 22:13:20 GMT',
          'Tue,14 Nov 2023 22:13:20 -0000',
          'Tue, 14 Nov 23 22:13:20 +0000',
          'Tue, 14 Nov 69 22:13:20 +0000',
          '14-Nov-2023 22:13:20 +0000',
          'Nov 14 2023 22:13:20 +0000',
          'Tue, 14 November 2023 22:13 +0000',
          'Tue, 14 Nov 2023 22.13.20 +0000',
          'Tue, 14 Nov 2023 22:13:20+0000',
          'Tue, 14 Nov 2023 22:13:20',
          'Tue, 14 Nov 2023 22:13:20 XYZ',
          'Tue, 31 Feb 2023 22:13:20 +0000',
          'Sat, 01 Jan 2000 00:00:00 +0000',
          'Mon, 1 Jan 1900 00:00:00 +0000',
          'garbage',
          'Tue, 14 Foo 2023 22:13:20 +0000',
          'Tue, 14 Nov 2023 22-13-20 +0000',
          '']:
    t = parsedate_tz(d)
    out('date', d, None if t is None else mktime_tz(t))


# --- folder listing: _getfolders_scandir ---
class FakeFolder:
    def __init__(self, root, name, sep, repo):
        self.name = name

    def getname(self):
        return self.name


def listing(root, sep):
    r = object.__new__(RM.MaildirRepository)
    r.root = root
    r.getsep = lambda: sep
    r.debug = lambda msg: None
    r.getconfboolean = lambda k, d: False
    r.getfoldertype = lambda: FakeFolder
    return sorted(f.getname() for f in r._getfolders_scandir(root))


trees = [
    # root is a Maildir itself, plus Maildir++ dot folders
    ['', '.Sent', '.Archive.2023', '.Archive', 'notmail', 'half/cur'],
    # plain folders, nested with sep '/'
    ['INBOX', 'Archive', 'Archive/2023', 'Archive/2023/Q1',
     'NoMail/Deeper', 'Lists/cur/x'],
    ['INBOX', 'a.b', 'a.b.c', 'x/y'],
]
for dirs in trees:
    for sep in ['.', '/']:
        with tempfile.TemporaryDirectory() as root:
            for d in dirs:
                if d.endswith('/cur') or d.startswith('notmail') or \
                        d.startswith('NoMail') or '/cur/' in d:
                    os.makedirs(os.path.join(root, d), exist_ok=True)
                    continue
                for sub in ['cur', 'new', 'tmp']:
                    os.makedirs(os.path.join(root, d, sub), exist_ok=True)
            folders = listing(root, sep)
        out('tree', sep, '|'.join(dirs), '|'.join(folders))
