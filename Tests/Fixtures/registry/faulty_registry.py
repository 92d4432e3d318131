#!/usr/bin/env python3
"""A registry that misbehaves on purpose, for fault-injection tests (loopback only).

The first path segment after /v2/ picks the fault:
  hang       accept the request, never answer (until the test ends, at most 120 s)
  error500   500 Internal Server Error
  wrongdigest  a manifest whose bytes do not hash to the digest asked for / announced
  huge       announce and stream a 64 MiB body
  garbage    200 with a body that is not JSON
  ratelimit  429 with Retry-After: 120
  trickle    headers, then one byte of body per second
  truncated  announces 500 bytes of manifest, sends 100, closes the connection
  tokenfail  401 with a Bearer challenge whose token endpoint (/token500) answers 500
  bearer     a working manifest behind the Bearer token flow: /token (basic auth alice:wonderland)
             issues a token for the requested scope; /v2/bearer/... wants it
Prints "listening PORT" once ready.
"""
import base64, hashlib, http.server, json, os, socketserver, sys, threading, time, urllib.parse

MANIFEST = b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:' + b"0" * 64 + b'","size":2},"layers":[]}'

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_HEAD(self):
        self.handle_any(head=True)

    def do_GET(self):
        self.handle_any(head=False)

    def handle_any(self, head):
        parts = self.path.split("/")
        if self.path.startswith("/token500"):
            return self.reply(500, b'{"errors":[{"code":"UNKNOWN","message":"token service down"}]}')
        if self.path.startswith("/token"):
            query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
            if self.headers.get("Authorization") != "Basic " + base64.b64encode(b"alice:wonderland").decode():
                return self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}')
            if query.get("service") != ["faulty"] or query.get("scope") != ["repository:bearer/img:pull"]:
                return self.reply(400, b'{"errors":[{"code":"bad scope"}]}')
            return self.reply(200, json.dumps({"token": "tok-123", "expires_in": 300}).encode())
        if self.path.startswith("/v2/tokenfail/"):
            realm = "http://%s:%d/token500" % self.server.server_address
            return self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}',
                              {"WWW-Authenticate": 'Bearer realm="%s",service="faulty",scope="repository:tokenfail/app:pull"' % realm})
        if self.path.startswith("/v2/bearer/"):
            if self.headers.get("Authorization") != "Bearer tok-123":
                realm = "http://%s:%d/token" % self.server.server_address
                return self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}',
                                  {"WWW-Authenticate": 'Bearer realm="%s",service="faulty",scope="repository:bearer/img:pull"' % realm})
            digest = "sha256:" + hashlib.sha256(MANIFEST).hexdigest()
            return self.reply(200, MANIFEST, {"Content-Type": "application/vnd.oci.image.manifest.v1+json", "Docker-Content-Digest": digest}, head)
        if self.path in ("/v2/", "/v2"):
            return self.reply(200, b"{}")
        fault = parts[2] if len(parts) > 2 else ""
        if fault == "hang":
            time.sleep(120)
            return
        if fault == "error500":
            return self.reply(500, b'{"errors":[{"code":"UNKNOWN","message":"boom"}]}')
        if fault == "wrongdigest":
            wrong = "sha256:" + hashlib.sha256(b"something else").hexdigest()
            return self.reply(200, MANIFEST, {"Content-Type": "application/vnd.oci.image.manifest.v1+json", "Docker-Content-Digest": wrong}, head)
        if fault == "huge":
            size = 64 << 20
            self.send_response(200)
            self.send_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            if not head:
                chunk = b" " * 65536
                try:
                    for _ in range(size // len(chunk)):
                        self.wfile.write(chunk)
                except OSError:
                    pass
            return
        if fault == "truncated":
            self.send_response(200)
            self.send_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
            self.send_header("Content-Length", "500")
            self.end_headers()
            if not head:
                self.wfile.write(MANIFEST[:100])
                self.wfile.flush()
            self.close_connection = True
            return
        if fault == "garbage":
            return self.reply(200, b"<html>not json{", {"Content-Type": "application/vnd.oci.image.manifest.v1+json",
                                                        "Docker-Content-Digest": "sha256:" + hashlib.sha256(b"<html>not json{").hexdigest()}, head)
        if fault == "ratelimit":
            return self.reply(429, b'{"errors":[{"code":"TOOMANYREQUESTS"}]}', {"Retry-After": "120"})
        if fault == "trickle":
            self.send_response(200)
            self.send_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
            self.send_header("Content-Length", str(len(MANIFEST)))
            self.end_headers()
            try:
                for b in MANIFEST[:60]:
                    self.wfile.write(bytes([b]))
                    self.wfile.flush()
                    time.sleep(1)
            except OSError:
                pass
            return
        return self.reply(404, b'{"errors":[{"code":"NAME_UNKNOWN"}]}')

    def reply(self, status, body, headers=None, head=False):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head and self.command != "HEAD":
            self.wfile.write(body)

class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

def watchdog(parent):
    # Exit with the test process that started us (and after 15 minutes at most), so nothing leaks.
    deadline = time.time() + 900
    while os.getppid() == parent and time.time() < deadline:
        time.sleep(0.5)
    os._exit(0)

threading.Thread(target=watchdog, args=(os.getppid(),), daemon=True).start()
server = Server(("127.0.0.1", 0), Handler)
print("listening", server.server_address[1], flush=True)
server.serve_forever()
