#!/usr/bin/env python3
"""Reads h2load --log-file output (start time, status, request duration in µs per line) and prints
JSON {"count", "ok", "p50_ms", "p99_ms", "p999_ms"}."""
import json, sys

durations, ok = [], 0
with open(sys.argv[1]) as f:
    for line in f:
        parts = line.split()
        if len(parts) < 3:
            continue
        status, micros = int(parts[1]), int(parts[2])
        durations.append(micros)
        ok += 200 <= status < 300
durations.sort()

def pct(p):
    if not durations:
        return None
    return round(durations[min(len(durations) - 1, int(p * len(durations)))] / 1000.0, 3)

print(json.dumps({"count": len(durations), "ok": ok, "p50_ms": pct(0.50), "p99_ms": pct(0.99), "p999_ms": pct(0.999)}))
