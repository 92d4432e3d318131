#!/usr/bin/env python3
"""reaper.py CMD [ARGS...]: runs CMD as a child and ends it when the test process that started us exits
(even by a crash), so no server or registry outlives its test. SIGTERM/SIGINT/SIGHUP/SIGUSR1/SIGUSR2 are forwarded; the exit
status is the child's (128+N if a signal N ended it)."""
import os, signal, subprocess, sys, time

parent = os.getppid()
# The test runner may start us with signals blocked; unblock so forwarding works.
FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2)
signal.pthread_sigmask(signal.SIG_UNBLOCK, set(FORWARDED))
child = subprocess.Popen(sys.argv[1:])
for sig in FORWARDED:
    signal.signal(sig, lambda n, _f: child.send_signal(n))
while True:
    try:
        code = child.wait(timeout=0.5)
        sys.exit(code if code >= 0 else 128 - code)
    except subprocess.TimeoutExpired:
        if os.getppid() != parent:
            child.terminate()
            try:
                child.wait(timeout=5)
            except subprocess.TimeoutExpired:
                child.kill()
            sys.exit(1)
