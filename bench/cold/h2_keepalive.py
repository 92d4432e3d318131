#!/usr/bin/env python3
"""The API server's side of bench/cold: one TLS HTTP/2 connection to the webhook, kept open across admissions as the
API server keeps it, so a cold round pays no handshake. Reads AdmissionReview file paths from the FIFO COMMANDS, one per
line; posts each to URL and prints "answer SECONDS ALLOWED" (SECONDS from sending the request to the whole answer).
    h2_keepalive.py URL CA_FILE COMMANDS      (prints "ready" once connected; loopback only)"""
import json, socket, ssl, sys, time
from urllib.parse import urlsplit

import h2.config, h2.connection, h2.events

url, ca_file, commands = urlsplit(sys.argv[1]), sys.argv[2], sys.argv[3]
context = ssl.create_default_context(cafile=ca_file)
context.set_alpn_protocols(["h2"])
raw = socket.create_connection((url.hostname, url.port), timeout=30)
# As Go's net/http (the API server) does: without it, Nagle holds a request behind the previous round's unacknowledged
# WINDOW_UPDATE until the server's delayed ACK (tens of milliseconds).
raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
sock = context.wrap_socket(raw, server_hostname="localhost")
if sock.selected_alpn_protocol() != "h2":
    sys.exit("the server did not choose h2 (ALPN: %s)" % sock.selected_alpn_protocol())
conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True))
conn.initiate_connection()
sock.sendall(conn.data_to_send())
print("ready", flush=True)


def post(body):
    """One POST on the open connection; (status, response body)."""
    stream = conn.get_next_available_stream_id()
    conn.send_headers(stream, [(":method", "POST"), (":scheme", "https"), (":authority", url.netloc),
                               (":path", url.path + ("?" + url.query if url.query else "")),
                               ("content-type", "application/json"), ("content-length", str(len(body)))])
    status, answer, sent = None, bytearray(), 0
    while True:
        # Send what the flow-control window allows, then wait for the server.
        while sent < len(body) and conn.local_flow_control_window(stream) > 0:
            chunk = min(len(body) - sent, conn.local_flow_control_window(stream), conn.max_outbound_frame_size)
            conn.send_data(stream, body[sent:sent + chunk], end_stream=sent + chunk == len(body))
            sent += chunk
        sock.sendall(conn.data_to_send())
        data = sock.recv(65536)
        if not data:
            sys.exit("the server closed the connection")
        for event in conn.receive_data(data):
            if isinstance(event, h2.events.ResponseReceived) and event.stream_id == stream:
                status = dict(event.headers).get(b":status")
            elif isinstance(event, h2.events.DataReceived) and event.stream_id == stream:
                answer += event.data
                conn.acknowledge_received_data(event.flow_controlled_length, stream)
            elif isinstance(event, h2.events.StreamEnded) and event.stream_id == stream:
                sock.sendall(conn.data_to_send())
                return status, bytes(answer)
            elif isinstance(event, (h2.events.StreamReset, h2.events.ConnectionTerminated)):
                sys.exit("the server ended the exchange: %s" % event)


with open(commands) as fifo:
    for line in fifo:
        with open(line.strip(), "rb") as f:
            body = f.read()
        started = time.monotonic()
        status, answer = post(body)
        took = time.monotonic() - started
        try:
            allowed = json.loads(answer)["response"]["allowed"] is True
        except (ValueError, KeyError, TypeError):
            allowed = False
        if status != b"200" or not allowed:
            print("status %s: %s" % (status, answer[:2000]), file=sys.stderr, flush=True)
        print("answer %.6f %s" % (took, "allowed" if allowed else "refused"), flush=True)
