# SPDX-License-Identifier: GPL-2.0-or-later
"""stdin/stdout <-> TCP relay, for OfflineIMAP's `transporttunnel`
option (the client speaks IMAP, including the login, over a command's
pipes).  Usage: python3 -m oimaptest.relay HOST PORT.  Exits when either
side closes."""
import os
import select
import socket
import sys


def main(argv):
    host, port = argv[1], int(argv[2])
    s = socket.create_connection((host, port), 30)
    s.settimeout(None)
    inp, out = sys.stdin.fileno(), sys.stdout.fileno()
    open_in = True
    while True:
        rl = [s] + ([inp] if open_in else [])
        r, _, _ = select.select(rl, [], [])
        if s in r:
            data = s.recv(65536)
            if not data:
                return 0
            while data:
                n = os.write(out, data)
                data = data[n:]
        if open_in and inp in r:
            data = os.read(inp, 65536)
            if not data:
                open_in = False
                s.shutdown(socket.SHUT_WR)
            else:
                s.sendall(data)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
