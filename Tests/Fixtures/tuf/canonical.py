#!/usr/bin/env python3
"""canonical.py [--signed] FILE...: prints, one line per file, the hex of securesystemslib's canonical JSON of the
file's document (or of its "signed" member with --signed), or ERROR when securesystemslib refuses it."""
import json
import sys

from securesystemslib.formats import encode_canonical

args = sys.argv[1:]
signed = args[:1] == ["--signed"]
for path in args[1:] if signed else args:
    with open(path, "rb") as f:
        doc = json.loads(f.read())
    try:
        print(encode_canonical(doc["signed"] if signed else doc).encode("utf-8").hex())
    except Exception:
        print("ERROR")
