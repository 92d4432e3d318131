#!/usr/bin/env python3
"""Seeded mutation fuzzer for sealgate's HTTP/1.1 parser and HTTP/2 frame handling (loopback only).

Each case opens a plain-text connection, sends a mutated request (split at random points),
reads for a short while and classifies the outcome: a status code, `closed`, or `silent`
(the server is still waiting for bytes, which is fine for a truncated request).
Every `--check-every` cases a well-formed request must get 200, or the run fails ("server down").
Bounded by --iterations and --seconds. Prints one JSON summary line; exit 1 if the server died
or a case got a 2xx where a 4xx is required (the fixed smuggling probes).
"""
import argparse
import json
import random
import socket
import struct
import sys
import time

import hpack

GOOD_H1 = b"POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"a\": true}"
CHUNKED_H1 = b"POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n"

# Requests that must be refused with 400 (or the connection closed), never answered 2xx:
# ambiguous framing a front proxy could read differently (request smuggling).
MUST_REJECT = [
    b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
    b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nhello",
    b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\nhello",
    b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5 \r\nContent-Length: 5, 5\r\n\r\nhello",
    b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: a\r\nX: y\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: a\r\nX: y\rZ: w\r\nContent-Length: 0\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: a\r\n Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: a\r\nX\x00: y\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\nx\r\n0\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n+5\r\nhello\r\n0\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n 5\r\nhello\r\n0\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
    b"GET /fast HTTP/1.1 extra\r\nHost: a\r\n\r\n",
    b"GET  /fast HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /fast HTTP/2.0\r\nHost: a\r\n\r\n",
    b"G\x00T /fast HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /fa st HTTP/1.1\r\nHost: a\r\n\r\n",
]

TOKENS = [b"\r\n", b"\n", b"\r", b" ", b"\t", b":", b";", b"\x00", b"\xff", b"-1", b"+", b"0", b"ffffffffffffffff",
          b"Content-Length: ", b"Transfer-Encoding: chunked\r\n", b"Content-Length: 99999999999999999999\r\n",
          b"Expect: 100-continue\r\n", b"Connection: close\r\n", b"0\r\n\r\n", b"HTTP/1.1", b"%00", b"/../", b"\r\n\r\n",
          b"Host: a\r\n" * 3, b"A" * 300, b"\x80\x81"]


def mutate(rng, data):
    data = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        op = rng.randrange(7)
        pos = rng.randrange(len(data) + 1) if data else 0
        if op == 0 and data:  # flip a byte
            data[rng.randrange(len(data))] = rng.randrange(256)
        elif op == 1:  # insert a token
            data[pos:pos] = rng.choice(TOKENS)
        elif op == 2 and data:  # delete a range
            end = min(len(data), pos + rng.randint(1, 16))
            del data[pos:end]
        elif op == 3 and data:  # duplicate a range
            end = min(len(data), pos + rng.randint(1, 64))
            data[pos:pos] = data[pos:end]
        elif op == 4:  # truncate
            del data[pos:]
        elif op == 5:  # random bytes
            data[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        else:  # repeat a whole line (duplicate headers)
            lines = bytes(data).split(b"\r\n")
            if len(lines) > 2:
                i = rng.randrange(1, len(lines) - 1)
                lines.insert(i, lines[i])
                data = bytearray(b"\r\n".join(lines))
    return bytes(data)


# --- HTTP/2 ----------------------------------------------------------------------------------

def frame(ftype, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + struct.pack(">BBI", ftype, flags, stream & 0xFFFFFFFF) + payload


def h2_case(rng):
    """A plausible frame sequence, then frame-level and byte-level mutations."""
    enc = hpack.Encoder()
    frames = [frame(4, 0, 0, struct.pack(">HI", 3, 100))]
    for i in range(rng.randint(1, 4)):
        sid = 1 + 2 * i
        block = enc.encode([(":method", rng.choice(["GET", "POST", ""])), (":scheme", "http"),
                            (":path", rng.choice(["/fast", "/echo", "", "*", "/x?y"])), (":authority", "a")] +
                           [("x-%d" % j, "v" * rng.randint(0, 64)) for j in range(rng.randint(0, 5))])
        body = rng.random() < 0.5
        frames.append(frame(1, 0x4 | (0 if body else 0x1), sid, block))
        if body:
            frames.append(frame(0, 0x1, sid, b"{}" * rng.randint(0, 100)))
    extras = [frame(6, 0, 0, b"pingping"), frame(8, 0, 0, struct.pack(">I", rng.randrange(1 << 31))),
              frame(8, 0, 1, struct.pack(">I", 0)), frame(3, 0, 1, struct.pack(">I", 8)), frame(2, 0, 3, b"\x00\x00\x00\x01\x10"),
              frame(9, 0x4, 1, b"\x82"), frame(4, 1, 0, b""), frame(7, 0, 0, struct.pack(">II", 0, 0)),
              frame(rng.randrange(10, 256), rng.randrange(256), rng.randrange(8), b"?" * rng.randrange(32)),
              frame(0, 0x8, 1, b"\xff" + b"pad"), frame(1, 0x20 | 0x4, 5, b"\x00\x00\x00\x05\x10\x82"),
              frame(4, 0, 0, struct.pack(">HI", 4, 0x80000000)), frame(4, 0, 0, struct.pack(">HI", 5, 1)),
              frame(4, 0, 0, b"\x00\x01\x00")]
    for _ in range(rng.randint(0, 4)):
        frames.insert(rng.randint(1, len(frames)), rng.choice(extras))
    if rng.random() < 0.3 and len(frames) > 2:
        i, j = rng.randrange(1, len(frames)), rng.randrange(1, len(frames))
        frames[i], frames[j] = frames[j], frames[i]
    data = b"".join(frames)
    if rng.random() < 0.5:
        data = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        data = bytes(data)
    return b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + data


# --- driver ----------------------------------------------------------------------------------

def exchange(port, data, rng, wait=0.3):
    """Send `data` in random pieces; return the first bytes answered (b"" when closed at once, None when silent)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        i = 0
        while i < len(data):
            n = rng.randint(1, max(1, len(data) - i)) if rng.random() < 0.3 else len(data) - i
            try:
                s.sendall(data[i:i + n])
            except OSError:
                break
            i += n
        s.settimeout(wait)
        got = b""
        try:
            while len(got) < 65536:
                chunk = s.recv(65536)
                if not chunk:
                    return got
                got += chunk
        except socket.timeout:
            return got if got else None
        except OSError:
            return got
        return got
    finally:
        s.close()


def status_of(answer):
    if answer is None:
        return "silent"
    if not answer:
        return "closed"
    if answer.startswith(b"HTTP/1.1 "):
        return answer[9:12].decode(errors="replace")
    if len(answer) >= 9:
        return "h2-frames"
    return "other"


HEALTH_PATH = "/fast"


def healthy(port):
    try:
        request = b"GET " + HEALTH_PATH.encode() + b" HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
        answer = exchange(port, request, random.Random(0), wait=5)
    except OSError:
        return False
    return answer is not None and answer.startswith(b"HTTP/1.1 200")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--iterations", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--check-every", type=int, default=50)
    parser.add_argument("--protocol", choices=["h1", "h2", "both"], default="both")
    parser.add_argument("--health-path", default="/fast", help="a path that answers 200")
    args = parser.parse_args()
    global HEALTH_PATH
    HEALTH_PATH = args.health_path
    rng = random.Random(args.seed)
    outcomes, failures = {}, []
    down = False
    for probe in MUST_REJECT:
        status = status_of(exchange(args.port, probe, random.Random(1), wait=3))
        outcomes["probe:" + status] = outcomes.get("probe:" + status, 0) + 1
        if status.startswith("2") or status == "silent":
            failures.append({"probe": probe.decode("latin-1"), "status": status})
    deadline = time.time() + args.seconds
    done = 0
    while done < args.iterations and time.time() < deadline:
        proto = args.protocol if args.protocol != "both" else rng.choice(["h1", "h2"])
        if proto == "h1":
            data = mutate(rng, rng.choice([GOOD_H1, CHUNKED_H1]))
        else:
            data = h2_case(rng)
        try:
            status = status_of(exchange(args.port, data, rng, wait=0.05))
        except OSError as error:
            status = "connect-error"
            if not healthy(args.port):
                down = True
                failures.append({"case": done, "error": str(error), "input": data[:200].decode("latin-1")})
                break
        outcomes[proto + ":" + status] = outcomes.get(proto + ":" + status, 0) + 1
        done += 1
        if done % args.check_every == 0 and not healthy(args.port):
            down = True
            failures.append({"case": done, "error": "server down", "input": data[:200].decode("latin-1")})
            break
    if not down and not healthy(args.port):
        down = True
        failures.append({"case": done, "error": "server down at end"})
    print(json.dumps({"seed": args.seed, "executions": done, "probes": len(MUST_REJECT), "down": down,
                      "outcomes": outcomes, "failures": failures[:10]}), flush=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
