#!/usr/bin/env python3
"""Independent cosign-format signer for interoperability tests (not sealgate code).

Creates an ECDSA P-256 key with the `cryptography` package, signs cosign's simple-signing payload for
IMAGE_DIGEST, and pushes the signature to REGISTRY (plain HTTP) with bare registry API calls (urllib):
blobs via POST+PUT uploads, then the manifest under the cosign tag `sha256-<hex>.sig`.

usage: cosign_sign.py REGISTRY REPOSITORY IMAGE_DIGEST PUBLIC_KEY_OUT [key=value ...]

Environment: SIGN_CURVE (P256 default, P384), SIGN_HASH (sha256 default, sha384, sha512).
"""
import os
import base64
import hashlib
import json
import sys
import urllib.request

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec


def request(method, url, body=None, headers=None):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return resp.status, dict(resp.headers), resp.read()


def push_blob(base, repo, data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    status, headers, _ = request("POST", f"{base}/v2/{repo}/blobs/uploads/")
    assert status == 202, status
    location = headers.get("Location") or headers.get("location")
    if location.startswith("/"):
        location = base + location
    sep = "&" if "?" in location else "?"
    status, _, _ = request("PUT", f"{location}{sep}digest={digest}", body=data,
                           headers={"Content-Type": "application/octet-stream"})
    assert status == 201, status
    return digest, len(data)


def main():
    registry, repo, image_digest, key_out = sys.argv[1:5]
    annotations = dict(a.split("=", 1) for a in sys.argv[5:])
    base = f"http://{registry}"

    curve = {"P256": ec.SECP256R1(), "P384": ec.SECP384R1()}[os.environ.get("SIGN_CURVE", "P256")]
    digest_alg = {"sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512()}[os.environ.get("SIGN_HASH", "sha256")]
    key = ec.generate_private_key(curve)
    with open(key_out, "wb") as f:
        f.write(key.public_key().public_bytes(serialization.Encoding.PEM,
                                              serialization.PublicFormat.SubjectPublicKeyInfo))

    payload = json.dumps({
        "critical": {
            "identity": {"docker-reference": f"{registry}/{repo}"},
            "image": {"docker-manifest-digest": image_digest},
            "type": "cosign container image signature",
        },
        "optional": annotations or None,
    }, separators=(",", ":")).encode()
    signature = key.sign(payload, ec.ECDSA(digest_alg))  # DER

    config = b"{}"
    config_digest, config_size = push_blob(base, repo, config)
    layer_digest, layer_size = push_blob(base, repo, payload)
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config_size},
        "layers": [{
            "mediaType": "application/vnd.dev.cosign.simplesigning.v1+json",
            "digest": layer_digest, "size": layer_size,
            "annotations": {"dev.cosignproject.cosign/signature": base64.b64encode(signature).decode()},
        }],
    }).encode()
    tag = image_digest.replace(":", "-") + ".sig"
    status, _, _ = request("PUT", f"{base}/v2/{repo}/manifests/{tag}", body=manifest,
                           headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
    assert status == 201, status
    print(tag)


if __name__ == "__main__":
    main()
