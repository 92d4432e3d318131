#!/usr/bin/env python3
"""Validates PolicyReport/ClusterPolicyReport YAML documents (stdin) against the wgpolicyk8s.io v1alpha2 CRDs.

As the API server would: the version's openAPIV3Schema, plus structural pruning made strict (a field the
schema does not declare is an error, not silently dropped). Prints one line per problem; exit 1 if any."""
import os, sys, yaml, jsonschema

HERE = os.path.dirname(os.path.abspath(__file__))

def schema(kind):
    name = {"PolicyReport": "policyreports", "ClusterPolicyReport": "clusterpolicyreports"}[kind]
    with open(os.path.join(HERE, "crd", f"wgpolicyk8s.io_{name}.yaml")) as f:
        crd = yaml.safe_load(f)
    version = next(v for v in crd["spec"]["versions"] if v["name"] == "v1alpha2")
    return strict(version["schema"]["openAPIV3Schema"], top=True)

def strict(s, top=False):
    if isinstance(s, dict):
        s = {k: strict(v) for k, v in s.items()}
        if s.get("type") == "object" and "properties" in s and "additionalProperties" not in s \
                and not s.get("x-kubernetes-preserve-unknown-fields"):
            s["additionalProperties"] = False
    elif isinstance(s, list):
        s = [strict(v) for v in s]
    return s

problems = 0
docs = [d for d in yaml.safe_load_all(sys.stdin) if d is not None]
if not docs:
    print("no documents"); sys.exit(1)
for i, doc in enumerate(docs):
    if doc.get("apiVersion") != "wgpolicyk8s.io/v1alpha2" or doc.get("kind") not in ("PolicyReport", "ClusterPolicyReport"):
        print(f"document {i}: not a wgpolicyk8s.io/v1alpha2 PolicyReport/ClusterPolicyReport"); problems += 1; continue
    if doc["kind"] == "PolicyReport" and not doc.get("metadata", {}).get("namespace"):
        print(f"document {i}: PolicyReport without metadata.namespace"); problems += 1
    for e in jsonschema.Draft7Validator(schema(doc["kind"])).iter_errors(doc):
        print(f"document {i} ({doc['kind']}) {'/'.join(map(str, e.absolute_path))}: {e.message}"); problems += 1
print("ok" if problems == 0 else f"{problems} problem(s)")
sys.exit(1 if problems else 0)
