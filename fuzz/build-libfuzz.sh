#!/usr/bin/env bash
# Builds the coverage-guided (libFuzzer + ASan) build of the parser targets into .build-libfuzz.
# Usage: fuzz/build-libfuzz.sh   then
#   SEALGATE_FUZZ_TARGET=policy .build-libfuzz/release/sealgate-libfuzz -max_total_time=600 CORPUS_DIR fuzz/corpus/policy
set -euo pipefail
cd "$(dirname "$0")/.."
fuzzer=$(dirname "$(dirname "$(readlink -f "$(command -v swift)")")")/lib/clang/*/lib/linux/libclang_rt.fuzzer_no_main-x86_64.a
swift build -c release --scratch-path .build-libfuzz --product sealgate-libfuzz \
  -Xswiftc -DFUZZING -Xswiftc -sanitize=address -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp \
  -Xlinker $fuzzer -Xlinker -lstdc++
echo .build-libfuzz/release/sealgate-libfuzz
