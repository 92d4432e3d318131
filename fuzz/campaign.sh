#!/usr/bin/env bash
# 10-minute seeded fuzz campaign against `sealgate serve --plaintext` (loopback only).
# Usage: fuzz/campaign.sh [seconds] [seed]   (needs: python3 with h2, a built .build-harden/debug/sealgate)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TOTAL=${1:-600}
SEED=${2:-20261123}
BIN=${SEALGATE:-.build-harden/debug/sealgate}
PORT=${PORT:-18480}
LOG=$(mktemp)
"$BIN" serve --plaintext --address 127.0.0.1:$PORT --read-timeout 2 >"$LOG" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -s -o /dev/null http://127.0.0.1:$PORT/healthz && break; sleep 0.1; done
python3 Tests/Fixtures/hardening/fuzz.py --port $PORT --seed "$SEED" --iterations 100000000 --seconds "$SECONDS_TOTAL" --check-every 200 --health-path /healthz
STATUS=$?
kill -0 $SERVER 2>/dev/null || { echo "server process died"; tail -20 "$LOG"; exit 1; }
exit $STATUS
