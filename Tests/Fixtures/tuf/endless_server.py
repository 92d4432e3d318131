#!/usr/bin/env python3
"""endless_server.py DIR: serves DIR on 127.0.0.1 (ephemeral port, printed as "PORT N"), except that any path
ending in timestamp.json or .bin gets an endless body: no Content-Length, bytes until the client hangs up.
This is the endless-data attack of the TUF specification. Exits by itself after 60 s so it can never hang a run."""
import functools, http.server, sys, threading, os


class Handler(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        if self.path.endswith("timestamp.json") or self.path.endswith(".bin"):
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            chunk = b" " * 65536
            try:
                for _ in range(16384):  # at most 1 GiB even if the client never stops reading
                    self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass
            return
        super().do_GET()


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=sys.argv[1]))
threading.Timer(60, lambda: os._exit(0)).start()
print(f"PORT {server.server_address[1]}", flush=True)
server.serve_forever()
