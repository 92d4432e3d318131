#!/usr/bin/env python3
"""A stand-in notary server for hostile-metadata tests: serves DIR/v2/<gun>/_trust/tuf/<role>.json as files on
127.0.0.1:PORT (plain HTTP). --token USER:PASS: metadata needs `Authorization: Bearer <token>`; 401 answers carry
`WWW-Authenticate: Bearer realm="http://127.0.0.1:PORT/token",service="notary"`, and /token hands out the token for
Basic USER:PASS (the realm is https with --tls CERT KEY, which serves HTTPS). --hang: accept connections and never answer (a server that is up but stuck)."""
import base64, http.server, os, ssl, sys, time

def main():
    root, port = sys.argv[1], int(sys.argv[2])
    token_user = None
    if "--token" in sys.argv:
        token_user = sys.argv[sys.argv.index("--token") + 1]
    hang = "--hang" in sys.argv
    tls = sys.argv[sys.argv.index("--tls") + 1:sys.argv.index("--tls") + 3] if "--tls" in sys.argv else None
    scheme = "https" if tls else "http"

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real servers: the client pools connections
        def log_message(self, *args):
            pass

        def do_GET(self):
            if hang:
                time.sleep(3600)
            if self.path.startswith("/token"):
                want = "Basic " + base64.b64encode(token_user.encode()).decode()
                if self.headers.get("Authorization") != want:
                    return self.answer(401, b"{}")
                return self.answer(200, b'{"token": "sealgate-test-token", "expires_in": 300}')
            if token_user and self.headers.get("Authorization") != "Bearer sealgate-test-token":
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Bearer realm="%s://127.0.0.1:%d/token",service="notary"' % (scheme, port))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            path = os.path.join(root, self.path.lstrip("/"))
            if not os.path.isfile(path):
                return self.answer(404, b"{}")
            with open(path, "rb") as f:
                self.answer(200, f.read())

        def answer(self, status, body):
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    if tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tls[0], tls[1])
        server.socket = context.wrap_socket(server.socket, server_side=True)
    print("ready", flush=True)
    server.serve_forever()

main()
