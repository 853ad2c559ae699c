# SPDX-License-Identifier: GPL-2.0-or-later
"""Certificates for one test run, made with the openssl CLI.

make_certs(dir) writes:
  ca.pem / ca.key          the test CA
  server.pem / server.key  signed by ca.pem, CN=localhost,
                           SAN DNS:localhost, IP:127.0.0.1
  wrong-ca.pem / .key      an unrelated CA (verification against it fails)
and returns a Certs with those paths and the server certificate's
fingerprints in the form OfflineIMAP's cert_fingerprint wants: lowercase
hex of the DER certificate's digest, no colons.
"""
import hashlib
import os
import ssl
import subprocess
from dataclasses import dataclass, field

OPENSSL = "openssl"
DAYS = "30"


@dataclass
class Certs:
    dir: str
    ca_cert: str
    ca_key: str
    server_cert: str
    server_key: str
    wrong_ca_cert: str
    wrong_ca_key: str
    fingerprints: dict = field(default_factory=dict)  # sha1/sha256/sha512

    @property
    def sha1(self):
        return self.fingerprints["sha1"]

    @property
    def sha256(self):
        return self.fingerprints["sha256"]

    @property
    def sha512(self):
        return self.fingerprints["sha512"]

    def client_context(self, cafile=None):
        """An ssl context that verifies against the test CA (or cafile)."""
        ctx = ssl.create_default_context(cafile=cafile or self.ca_cert)
        return ctx


def _run(args, cwd):
    p = subprocess.run([OPENSSL, *args], cwd=cwd, capture_output=True,
                       text=True)
    if p.returncode != 0:
        raise RuntimeError("openssl %s failed: %s" % (" ".join(args),
                                                      p.stderr.strip()))


def _make_ca(d, name, cn):
    _run(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", DAYS,
          "-subj", "/O=oimap tests/CN=" + cn,
          "-addext", "basicConstraints=critical,CA:TRUE",
          "-addext", "keyUsage=critical,keyCertSign,cRLSign",
          "-addext", "subjectKeyIdentifier=hash",
          "-keyout", name + ".key", "-out", name + ".pem"], d)


def fingerprints_of(pem_path):
    with open(pem_path) as fh:
        der = ssl.PEM_cert_to_DER_cert(fh.read())
    return {algo: hashlib.new(algo, der).hexdigest()
            for algo in ("sha1", "sha256", "sha512")}


def make_certs(d):
    """Create the files in directory d (created if needed); reuse them if
    they are all there already."""
    d = os.path.abspath(d)
    os.makedirs(d, exist_ok=True)
    c = Certs(dir=d,
              ca_cert=os.path.join(d, "ca.pem"),
              ca_key=os.path.join(d, "ca.key"),
              server_cert=os.path.join(d, "server.pem"),
              server_key=os.path.join(d, "server.key"),
              wrong_ca_cert=os.path.join(d, "wrong-ca.pem"),
              wrong_ca_key=os.path.join(d, "wrong-ca.key"))
    if not all(os.path.exists(p) for p in (c.ca_cert, c.server_cert,
                                           c.server_key, c.wrong_ca_cert)):
        _make_ca(d, "ca", "oimap test CA")
        _make_ca(d, "wrong-ca", "unrelated CA")
        with open(os.path.join(d, "server.ext"), "w") as fh:
            fh.write("basicConstraints=critical,CA:FALSE\n"
                     "keyUsage=critical,digitalSignature,keyEncipherment\n"
                     "extendedKeyUsage=serverAuth\n"
                     "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                     "subjectKeyIdentifier=hash\n"
                     "authorityKeyIdentifier=keyid:always\n")
        _run(["req", "-newkey", "rsa:2048", "-nodes",
              "-subj", "/O=oimap tests/CN=localhost",
              "-keyout", "server.key", "-out", "server.csr"], d)
        _run(["x509", "-req", "-in", "server.csr", "-CA", "ca.pem",
              "-CAkey", "ca.key", "-CAcreateserial", "-days", DAYS,
              "-extfile", "server.ext", "-out", "server.pem"], d)
    # Dovecot reads the key as root before dropping privileges; nothing
    # else needs it, but the CA files must be readable by everyone (tests
    # may run the client as another user).
    for p in (c.ca_cert, c.server_cert, c.wrong_ca_cert):
        os.chmod(p, 0o644)
    c.fingerprints = fingerprints_of(c.server_cert)
    return c
