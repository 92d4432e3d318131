#!/usr/bin/env python3
"""One-byte mutants of every real-world case that verifies must be rejected.

usage: realworld_mutants.py SEALGATE REALWORLD_DIR

For each `pass` line of REALWORLD_DIR/cases.tsv, every mutation kind that applies to the case is made
in a temporary copy (one byte changed in the artifact, the signature, the certificate, an inclusion-proof
hash, the SET, the checkpoint, the DSSE payload, the logged body, the message digest; the integrated time
or log index moved by one) and the same command is run on it: it must exit 1. A case with fewer than
6 applicable kinds is itself a failure. Ends with 'N passed, M failed'.
"""
import base64, concurrent.futures, json, os, pathlib, shlex, subprocess, sys, tempfile

MIN_KINDS = 6


def flip_b64(s):
    raw = bytearray(base64.b64decode(s))
    raw[len(raw) // 2] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


def entry(b):
    return (b.get("verificationMaterial", {}).get("tlogEntries") or [{}])[0]


def cert_holder(b):
    vm = b["verificationMaterial"]
    if vm.get("certificate"):
        return vm["certificate"]
    chain = (vm.get("x509CertificateChain") or {}).get("certificates") or []
    return chain[0] if chain else None


def flip_checkpoint(text):
    body, sep, sigs = text.partition("\n\n")
    lines = sigs.split("\n")
    dash, name, blob = lines[0].split(" ")
    raw = bytearray(base64.b64decode(blob))
    raw[-1] ^= 0x01  # a byte of the signature, past the 4-byte key hint
    lines[0] = " ".join([dash, name, base64.b64encode(bytes(raw)).decode()])
    return body + sep + "\n".join(lines)


def proof(b):
    return entry(b).get("inclusionProof") or None


# kind -> (applies(bundle), mutate(bundle) in place)
BUNDLE_KINDS = {
    "signature": (lambda b: "messageSignature" in b or "dsseEnvelope" in b,
                  lambda b: b["messageSignature"].__setitem__("signature", flip_b64(b["messageSignature"]["signature"]))
                  if "messageSignature" in b else
                  b["dsseEnvelope"]["signatures"][0].__setitem__("sig", flip_b64(b["dsseEnvelope"]["signatures"][0]["sig"]))),
    "certificate": (lambda b: cert_holder(b) is not None,
                    lambda b: cert_holder(b).__setitem__("rawBytes", flip_b64(cert_holder(b)["rawBytes"]))),
    "dsse-payload": (lambda b: "dsseEnvelope" in b,
                     lambda b: b["dsseEnvelope"].__setitem__("payload", flip_b64(b["dsseEnvelope"]["payload"]))),
    "message-digest": (lambda b: "messageDigest" in b.get("messageSignature", {}),
                       lambda b: b["messageSignature"]["messageDigest"].__setitem__(
                           "digest", flip_b64(b["messageSignature"]["messageDigest"]["digest"]))),
    "set": (lambda b: bool(entry(b).get("inclusionPromise")),
            lambda b: entry(b)["inclusionPromise"].__setitem__("signedEntryTimestamp",
                                                               flip_b64(entry(b)["inclusionPromise"]["signedEntryTimestamp"]))),
    "integrated-time": (lambda b: bool(entry(b).get("inclusionPromise")),
                        lambda b: entry(b).__setitem__("integratedTime", str(int(entry(b)["integratedTime"]) + 1))),
    "log-index": (lambda b: bool(entry(b).get("inclusionPromise")),
                  lambda b: entry(b).__setitem__("logIndex", str(int(entry(b)["logIndex"]) + 1))),
    "inclusion-proof-hash": (lambda b: bool(proof(b) and proof(b).get("hashes")),
                             lambda b: proof(b)["hashes"].__setitem__(0, flip_b64(proof(b)["hashes"][0]))),
    "checkpoint": (lambda b: bool(proof(b) and proof(b).get("checkpoint")),
                   lambda b: proof(b)["checkpoint"].__setitem__("envelope", flip_checkpoint(proof(b)["checkpoint"]["envelope"]))),
    "logged-body": (lambda b: bool(entry(b).get("canonicalizedBody")),
                    lambda b: entry(b).__setitem__("canonicalizedBody", flip_b64(entry(b)["canonicalizedBody"]))),
}

BUNDLE_FLAGS = ("--bundle", "--provenance-path")


def load_items(path):
    """A bundle file, or .intoto.jsonl with one bundle per line."""
    text = path.read_text().strip()
    try:
        return [json.loads(text)], False
    except json.JSONDecodeError:
        return [json.loads(l) for l in text.splitlines() if l.strip()], True


def mutants(args, data, tmp):
    """Yields (kind, new args) for every kind that applies."""
    bundle_at = next((i + 1 for i, a in enumerate(args) if a in BUNDLE_FLAGS), None)
    if bundle_at is not None:
        items, jsonl = load_items(data / args[bundle_at])
        for kind, (applies, mutate) in BUNDLE_KINDS.items():
            if not all(applies(b) for b in items):
                continue
            copies = json.loads(json.dumps(items))
            for b in copies:  # every line: .intoto.jsonl passes when any line does
                mutate(b)
            out = tmp / f"{kind}.json"
            out.write_text("\n".join(json.dumps(b) for b in copies) if jsonl else json.dumps(copies[0]))
            yield kind, args[:bundle_at] + [str(out)] + args[bundle_at + 1:]
    # The artifact: the last argument, a file or sha256:<hex> (verify-tlog takes none).
    last = args[-1]
    if len(args) > 1 and args[-2].startswith("--"):
        return  # the last word is an option's value: no artifact
    if last.startswith("sha256:"):
        hexd = last[7:]
        yield "artifact", args[:-1] + ["sha256:" + hexd[:10] + ("0" if hexd[10] != "0" else "1") + hexd[11:]]
    elif not last.startswith("-") and (data / last).is_file():
        raw = bytearray((data / last).read_bytes())
        if raw:
            raw[len(raw) // 2] ^= 0x01
        else:
            raw.append(0)  # an empty artifact gains a byte
        out = tmp / "artifact"
        out.write_bytes(bytes(raw))
        yield "artifact", args[:-1] + [str(out)]


def run(cmd, cwd):
    p = subprocess.run(cmd, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
    return p.returncode, p.stderr.decode(errors="replace").strip().splitlines()[:1]


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sealgate, data = os.path.abspath(sys.argv[1]), pathlib.Path(sys.argv[2]).resolve()
    jobs, failed_cases = [], []
    with tempfile.TemporaryDirectory() as top:
        for n, line in enumerate((data / "cases.tsv").read_text().splitlines()):
            if not line.strip() or line.startswith("#"):
                continue
            cid, sub, argtext, expected, _ = line.split("\t")
            if expected != "pass":
                continue
            tmp = pathlib.Path(top) / cid
            tmp.mkdir()
            made = list(mutants(shlex.split(argtext), data, tmp))
            if len(made) < MIN_KINDS:
                failed_cases.append(f"FEW {cid}: only {len(made)} mutation kinds apply ({', '.join(k for k, _ in made)})")
            jobs += [(cid, kind, [sealgate, sub] + a) for kind, a in made]
        passed = failed = 0
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            results = pool.map(lambda j: (j, run(j[2], data)), jobs)
            for (cid, kind, _), (rc, err) in results:
                if rc == 1:
                    passed += 1
                else:
                    failed += 1
                    print(f"ACCEPTED {cid} [{kind}]: exit {rc} {' '.join(err)}")
    for f in failed_cases:
        print(f)
    kinds = {k for _, k, _ in jobs}
    print(f"{len(jobs)} mutants of {len({c for c, _, _ in jobs})} cases, kinds: {', '.join(sorted(kinds))}")
    print(f"{passed} passed, {failed + len(failed_cases)} failed")
    sys.exit(0 if failed == 0 and not failed_cases else 1)


if __name__ == "__main__":
    main()
