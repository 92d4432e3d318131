#!/usr/bin/env bash
# Micro benchmark: release-mode `sealgate verify-bundle --repeat N` (µs per full bundle verification,
# parsing excluded) on conformance bundles, next to OpenSSL's raw ECDSA P-256 speed for scale.
# usage: bench/sigstore/run.sh [N]   (default N=2000)
set -euo pipefail
N="${1:-2000}"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
CASES="$ROOT/../shared/testdata/sigstore-conformance/bundle-verify"
SCRATCH="$ROOT/.build-sigstore"
ID="https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
ISS="https://token.actions.githubusercontent.com"

cd "$ROOT"
swift build -c release --scratch-path "$SCRATCH" --product sealgate >/dev/null
BIN="$SCRATCH/release/sealgate"

run() {  # name, extra args...
  local name="$1"; shift
  printf '%-34s ' "$name"
  "$BIN" verify-bundle --repeat "$N" --bundle "$CASES/$name/bundle.sigstore.json" "$@" | head -1
}
run happy-path-v0.3 --certificate-identity "$ID" --certificate-oidc-issuer "$ISS" "$CASES/a.txt"
run happy-path-intoto-in-dsse-v3 --certificate-identity "$ID" --certificate-oidc-issuer "$ISS" "$CASES/a.txt"
run rekor2-happy-path --certificate-identity "$ID" --certificate-oidc-issuer "$ISS" \
    --trusted-root "$CASES/rekor2-happy-path/trusted_root.json" "$CASES/a.txt"
run managed-key-happy-path --key "$CASES/managed-key-happy-path/key.pub" "$CASES/a.txt"

echo
echo "openssl speed -seconds 1 ecdsap256 (for scale):"
openssl speed -seconds 1 ecdsap256 2>/dev/null | tail -2
