#!/usr/bin/env python3
"""Parse Kubernetes manifests and validate them offline against the Kubernetes
JSON schemas bundled with kubernetes-validate (strict: unknown fields fail).

usage: validate_manifests.py [--versions 1.28,latest] PATH... ("-" reads stdin)

Directories are searched recursively for *.yaml / *.yml. Prints one JSON object:
  {"versions": [...], "documents": [{"source", "index", "object", "status", "reason"}]}
status is "valid", "skipped" (with the reason) or "invalid"/"unparsable" (with
the error). Exit status 0 when nothing is invalid or unparsable, 1 otherwise,
2 when kubernetes-validate or PyYAML is missing.

Objects whose kinds come from CustomResourceDefinitions have no built-in
schema and are skipped with that reason; so are kustomize build inputs.
"""
import json
import os
import sys

try:
    import yaml
except ImportError:
    print(json.dumps({"error": "PyYAML is not installed (pip install PyYAML)"}))
    sys.exit(2)
try:
    import kubernetes_validate
    from kubernetes_validate import utils as kv
except ImportError:
    print(json.dumps({"error": "kubernetes-validate is not installed (pip install kubernetes-validate)"}))
    sys.exit(2)

# API groups served by CRDs (not built into Kubernetes): no bundled schema.
CRD_GROUPS = {
    "cert-manager.io": "cert-manager CRD",
    "monitoring.coreos.com": "Prometheus Operator CRD",
    "policy.sigstore.dev": "sigstore policy-controller CRD (checked by `sealgate lint` instead)",
    "kyverno.io": "Kyverno CRD (checked by `sealgate lint` instead)",
}
KUSTOMIZE_GROUPS = {"kustomize.config.k8s.io"}


def files_under(path):
    if os.path.isdir(path):
        for root, _dirs, names in os.walk(path):
            for name in sorted(names):
                if name.endswith((".yaml", ".yml")):
                    yield os.path.join(root, name)
    else:
        yield path


def group_of(api_version):
    return api_version.split("/")[0] if "/" in api_version else ""


def main(argv):
    versions = ["1.28", "latest"]
    paths = []
    i = 0
    while i < len(argv):
        if argv[i] == "--versions":
            versions = argv[i + 1].split(",")
            i += 2
            continue
        paths.append(argv[i])
        i += 1
    latest = kv.latest_version()
    versions = [latest if v == "latest" else v for v in versions]

    results = []
    failed = False
    sources = []
    for p in paths:
        if p == "-":
            sources.append(("<stdin>", sys.stdin.read()))
        else:
            for f in files_under(p):
                with open(f, encoding="utf-8") as fh:
                    sources.append((f, fh.read()))
    for source, text in sources:
        try:
            docs = list(yaml.safe_load_all(text))
        except yaml.YAMLError as e:
            results.append({"source": source, "index": -1, "object": None, "status": "unparsable", "reason": str(e)})
            failed = True
            continue
        for index, doc in enumerate(docs):
            if doc is None:
                continue
            entry = {"source": source, "index": index, "object": doc}
            if not isinstance(doc, dict) or "apiVersion" not in doc or "kind" not in doc:
                entry.update(status="invalid", reason="not a Kubernetes object (apiVersion and kind are required)")
                failed = True
                results.append(entry)
                continue
            group = group_of(doc["apiVersion"])
            if group in KUSTOMIZE_GROUPS:
                entry.update(status="skipped", reason="kustomize build input, not an API object")
            elif group in CRD_GROUPS:
                entry.update(status="skipped", reason="custom resource: " + CRD_GROUPS[group] + ", no built-in schema")
            else:
                errors = []
                for v in versions:
                    try:
                        kv.validate(doc, v, strict=True)
                    except kv.ValidationError as e:
                        where = "/".join(str(x) for x in e.path)
                        errors.append("k8s %s: %s: %s" % (v, where or "<root>", e.message))
                    except kv.SchemaNotFoundError as e:
                        errors.append("k8s %s: %s" % (v, e.message))
                    except Exception as e:  # a broken schema is a failure, never a pass
                        errors.append("k8s %s: %s: %s" % (v, type(e).__name__, e))
                if errors:
                    entry.update(status="invalid", reason="; ".join(errors))
                    failed = True
                else:
                    entry.update(status="valid", reason="")
            results.append(entry)
    print(json.dumps({"versions": versions, "validator": kubernetes_validate.__version__ if hasattr(kubernetes_validate, "__version__") else "",
                      "documents": results}, default=str))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
