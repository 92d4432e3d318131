#!/usr/bin/env bash
# valgrind memcheck on `sealgate serve` driven by curl, h2load, the abuse clients and the fuzzer.
# Usage: fuzz/memcheck.sh   (needs valgrind, h2load, curl, python3 with h2; a built .build-harden/debug/sealgate)
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${SEALGATE:-.build-harden/debug/sealgate}
PORT=${PORT:-18490}
LOG=${LOG:-.build-fuzz/memcheck.log}
mkdir -p "$(dirname "$LOG")"
# valgrind 3.19 cannot read the DWARF 5 that Swift 6 emits: check a copy without debug info.
objcopy --strip-debug "$BIN" .build-fuzz/sealgate-nodebug
BIN=.build-fuzz/sealgate-nodebug
valgrind --tool=memcheck --error-exitcode=99 --suppressions=fuzz/valgrind-swift.supp --leak-check=no --track-origins=no --log-file="$LOG" \
  "$BIN" serve --plaintext --address 127.0.0.1:$PORT --read-timeout 3 --workers 4 >"$LOG.out" 2>&1 &
VG=$!
for _ in $(seq 300); do curl -s -o /dev/null http://127.0.0.1:$PORT/healthz && break; sleep 0.2; done
URL=http://127.0.0.1:$PORT
REVIEW=Tests/Fixtures/admission/pod-review-v1.json
A=Tests/Fixtures/hardening/h2abuse.py
for flag in --http2-prior-knowledge --http1.1; do
  for _ in $(seq 5); do
    curl -s -o /dev/null -w "%{http_code} " $flag -H 'content-type: application/json' --data-binary @$REVIEW "$URL/validate?timeout=10s"
  done
done
echo
h2load -n 2000 -c 4 -m 10 -H 'content-type: application/json' -d $REVIEW "$URL/validate" | grep -E "^requests|^status"
python3 $A rapid-reset --port $PORT --path /validate --count 2000 --seconds 20
python3 $A continuation-flood --port $PORT --count 2000 --seconds 10
python3 $A hpack-bomb --port $PORT --count 50000 --seconds 10
python3 $A many-headers --port $PORT --count 4000 --seconds 10
python3 $A ping-flood --port $PORT --count 50000 --seconds 10
python3 $A settings-flood --port $PORT --count 50000 --seconds 10
python3 $A body-hoard --port $PORT --path /validate --streams 24 --count 901120 --seconds 30
python3 $A half-open --port $PORT --count 50 --seconds 10
python3 Tests/Fixtures/hardening/fuzz.py --port $PORT --seed 7 --iterations 300 --seconds 120 --health-path /healthz | cut -c1-400
curl -s -o /dev/null -w "after abuse: %{http_code}\n" --http2-prior-knowledge "$URL/healthz"
kill -TERM $VG
wait $VG
STATUS=$?
grep -E "ERROR SUMMARY|Invalid|uninitialised|Conditional" "$LOG" | sort | uniq -c | head -20
echo "valgrind exit status: $STATUS (99 = memcheck errors)"
exit $STATUS
