#!/usr/bin/env python3
"""A TCP proxy that adds a fixed one-way delay in each direction, so a loopback registry answers as if it were a
round trip away. Stand-in for `tc netem`: this machine's kernel has no netem qdisc. A new connection's first bytes also
wait one round trip, as a TCP handshake would make them.
    delay_proxy.py LISTEN_PORT TARGET_PORT RTT_MS      (prints "ready" once listening; loopback only)
Prints "request T" (monotonic seconds) for each request it forwards; DELAY_PROXY_LOG=1 traces every chunk on stderr."""
import asyncio, os, sys, time

listen_port, target_port, rtt = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]) / 1000

async def pump(reader, writer, first_extra):
    queue = asyncio.Queue()

    async def deliver():
        while True:
            due, data = await queue.get()
            if data is None:
                break
            await asyncio.sleep(max(0, due - time.monotonic()))
            writer.write(data)
            await writer.drain()
        writer.close()

    sender = asyncio.create_task(deliver())
    extra = first_extra
    try:
        while data := await reader.read(65536):
            if LOG:
                print("%.3f %s %s" % (time.monotonic(), "up" if first_extra else "down", data[:60]), file=sys.stderr, flush=True)
            if first_extra and data.split(b" ", 1)[0] in METHODS:
                # For the benchmark's count of round-trip waves: when each request reached the proxy.
                print("request %.6f" % time.monotonic(), flush=True)
            queue.put_nowait((time.monotonic() + rtt / 2 + extra, data))
            extra = 0
    except ConnectionError:
        pass
    queue.put_nowait((0, None))
    await sender

LOG = os.environ.get("DELAY_PROXY_LOG")
METHODS = {b"GET", b"HEAD", b"POST", b"PUT", b"PATCH", b"DELETE"}

async def handle(client_reader, client_writer):
    if LOG:
        print("%.3f connect" % time.monotonic(), file=sys.stderr, flush=True)
    try:
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", target_port)
    except OSError:
        client_writer.close()
        return
    await asyncio.gather(pump(client_reader, upstream_writer, rtt), pump(upstream_reader, client_writer, 0), return_exceptions=True)

async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", listen_port)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()

asyncio.run(main())
