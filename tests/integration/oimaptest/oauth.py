# SPDX-License-Identifier: GPL-2.0-or-later
"""A small OAuth2 authorization server on loopback for the tests: a token
endpoint (refresh_token grant, as Google's and Microsoft's) and an RFC 7662
introspection endpoint for Dovecot's oauth2 passdb.

    srv = OAuthServer(users={"alice": "refresh-secret"}).start()
    srv.token_url, srv.introspect_url
    srv.requests   # form fields of every token request
    srv.stop()
"""
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class OAuthServer:
    def __init__(self, users, client_id="oimap-test",
                 client_secret="client-secret-x", expires_in=3600):
        self.users = dict(users)           # user -> refresh token
        self.client_id = client_id
        self.client_secret = client_secret
        self.expires_in = expires_in
        self.tokens = {}                   # access token -> user
        self.requests = []
        self.fail_with = None              # {"error": ...} to answer
        self.raw = None                    # (HTTP code, body bytes) to answer
        self.delay = 0                     # seconds before each token answer
        self.lock = threading.Lock()
        self.httpd = None

    def start(self):
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _reply(self, code, obj):
                data = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                n = int(self.headers.get("Content-Length", 0))
                form = {k: v[0] for k, v in urllib.parse.parse_qs(
                    self.rfile.read(n).decode()).items()}
                if self.path == "/token":
                    outer._token(self, form)
                elif self.path == "/introspect":
                    outer._introspect(self, form)
                else:
                    self._reply(404, {"error": "not_found"})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever,
                         daemon=True).start()
        return self

    @property
    def base(self):
        return "http://127.0.0.1:%d" % self.httpd.server_address[1]

    @property
    def token_url(self):
        return self.base + "/token"

    @property
    def introspect_url(self):
        return self.base + "/introspect"

    def stop(self):
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()

    def _token(self, h, form):
        if self.delay:
            import time
            time.sleep(self.delay)
        with self.lock:
            self.requests.append(form)
            if self.fail_with:
                return h._reply(400, self.fail_with)
            if self.raw:
                code, body = self.raw
                h.send_response(code)
                h.send_header("Content-Length", str(len(body)))
                h.end_headers()
                h.wfile.write(body)
                return
            user = next((u for u, t in self.users.items()
                         if t == form.get("refresh_token")), None)
            if (form.get("grant_type") != "refresh_token" or not user or
                    form.get("client_id") != self.client_id or
                    form.get("client_secret") != self.client_secret):
                return h._reply(400, {"error": "invalid_grant",
                                      "error_description": "Bad Request"})
            tok = "access-%s-%d" % (user, len(self.tokens) + 1)
            self.tokens[tok] = user
            return h._reply(200, {"access_token": tok,
                                  "expires_in": self.expires_in,
                                  "token_type": "Bearer"})

    def _introspect(self, h, form):
        with self.lock:
            user = self.tokens.get(form.get("token"))
        if user:
            return h._reply(200, {"active": True, "username": user})
        return h._reply(200, {"active": False})


def dovecot_conf(dir, introspect_url):
    """extra_conf for the test Dovecot: XOAUTH2 checked by introspection."""
    import os
    path = os.path.join(dir, "dovecot-oauth2.conf.ext")
    with open(path, "w") as f:
        f.write("introspection_mode = post\n"
                "introspection_url = %s\n"
                "username_attribute = username\n"
                "active_attribute = active\n"
                "active_value = true\n" % introspect_url)
    return ("passdb {\n  driver = oauth2\n  mechanisms = xoauth2\n"
            "  args = %s\n}\n" % path)
