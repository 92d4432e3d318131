#!/usr/bin/env python3
"""bench/run's reporter. report.py RESULTS.jsonl CONFIG SMOKE -> JSON summary;
report.py --markdown SUMMARY.json -> BENCHMARKS.md text."""
import json, os, platform, subprocess, sys

def summarize(path, config, smoke):
    rows, memory = [], None
    for line in open(path):
        item = json.loads(line)
        if "memory_kb" in item:
            memory = item["memory_kb"]
        else:
            rows.append(item)
    by = {(r["server"], r["protocol"], r["clients"], r["streams"]): r for r in rows}
    ratios = []
    for (server, proto, c, m), r in by.items():
        if server != "sealgate":
            continue
        go, ng = by.get(("go", proto, c, m)), by.get(("nghttpd", proto, c, m))
        ratios.append({"protocol": proto, "clients": c, "streams": m,
                       "vs_go": round(r["rps"] / go["rps"], 2) if go and go["rps"] else None,
                       "vs_nghttpd": round(r["rps"] / ng["rps"], 2) if ng and ng["rps"] else None})
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    return {"build": config, "smoke": smoke == "1", "machine": {"cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release()},
            "rows": rows, "ratios": ratios, "memory_kb": memory}

def markdown(summary):
    out = ["# Benchmarks", "",
           "Produced by `bench/run` (release build) on %s, %d cores, Linux %s. Each server pinned to CPU 0, h2load to CPU 1,"
           % (summary["machine"]["cpu"], summary["machine"]["cores"], summary["machine"]["kernel"]),
           "TLS, the same ~5 KiB Pod AdmissionReview body. sealgate runs with a `static: pass` policy (warm path: no registry call);",
           "the Go floor is stdlib net/http + encoding/json answering allowed; nghttpd returns a static body (transport ceiling).", "",
           "| server | protocol | connections × streams | req/s | p50 ms | p99 ms | p99.9 ms | failed |", "|---|---|---|---|---|---|---|---|"]
    for r in summary["rows"]:
        l = r["latency"]
        out.append("| %s | %s | %d × %d | %.0f | %s | %s | %s | %s |" % (r["server"], r["protocol"], r["clients"], r["streams"], r["rps"],
                                                                      l["p50_ms"], l["p99_ms"], l["p999_ms"], r["failed"]))
    out += ["", "| protocol | connections × streams | sealgate / Go | sealgate / nghttpd |", "|---|---|---|---|"]
    for r in summary["ratios"]:
        out.append("| %s | %d × %d | %s | %s |" % (r["protocol"], r["clients"], r["streams"], r["vs_go"], r["vs_nghttpd"]))
    m = summary.get("memory_kb")
    if m:
        out += ["", "Memory (RSS): idle %.1f MB, with 1,000 concurrent streams %.1f MB, after %d requests %.1f MB."
                % (m["idle"] / 1024, m["streams_1000"] / 1024, m["soak_requests"], m["after_soak"] / 1024)]
    out += ["", "Reproduce: `bench/run` (a few minutes; loopback only, every load bounded by request count)."]
    return "\n".join(out) + "\n"

if sys.argv[1] == "--markdown":
    print(markdown(json.load(open(sys.argv[2]))), end="")
else:
    print(json.dumps(summarize(sys.argv[1], sys.argv[2], sys.argv[3]), indent=1))
