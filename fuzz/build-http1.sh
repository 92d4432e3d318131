#!/usr/bin/env bash
# Builds the libFuzzer harness for the HTTP/1.1 parser from the server's own sources.
# Usage: fuzz/build-http1.sh [out]  then  ./fuzz-http1 -max_total_time=600 fuzz/corpus/http1
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-.build-fuzz/fuzz-http1}
mkdir -p "$(dirname "$OUT")"
S=Sources/HTTP2Server
swiftc -sanitize=fuzzer,address -parse-as-library -O -g -module-name SealgateFuzz \
  $S/Message.swift $S/Configuration.swift $S/ProtocolSession.swift $S/HTTP1Session.swift \
  fuzz/HTTP1FuzzStubs.swift fuzz/HTTP1Fuzz.swift -o "$OUT"
echo "$OUT"
