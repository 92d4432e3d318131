#!/usr/bin/env python3
"""A TUF repository on disk, built and re-signed with python-tuf's Metadata API, for sealgate's TUF client tests.

    repo.py DIR OP [ARGS] [+ OP [ARGS] ...]

DIR holds keys/ (private keys, test only), state/ (current signed roles), archive/ (every signed version)
and the published tree the client reads: metadata/ and targets/, named as the repository's root says
(N.root.json always; V.snapshot.json, V.targets.json and HASH.file under consistent snapshots).

Ops change roles in memory; at the end of a run every changed role is bumped (unless its version was set),
signed and published, and the change cascades the honest way: changed targets roles into a new snapshot,
a new snapshot into a new timestamp. Attack ops (replay, serve-as, tamper-target, pad, mutate, sign) publish
what an attacker or a broken mirror would, without cascading where that is the point.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import sys

from cryptography.hazmat.primitives.serialization import load_pem_private_key
from securesystemslib.signer import CryptoSigner, SSlibKey
from tuf.api.metadata import (DelegatedRole, Delegations, Metadata, MetaFile, Root, Snapshot, TargetFile, Targets,
                              Timestamp)
from tuf.api.serialization.json import JSONSerializer

TOP = ("root", "timestamp", "snapshot", "targets")


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


class Repo:
    def __init__(self, d: str):
        self.d = d
        self.dirty: set[str] = set()
        self.versioned: set[str] = set()       # roles whose version an op set explicitly
        self.signing: dict[str, tuple[int | None, int]] = {}  # role -> (valid signatures, bogus signatures)
        self.no_cascade: set[str] = set()
        self.settings: dict = {}
        self.signers: dict[str, CryptoSigner] = {}
        self.roles: dict[str, Metadata] = {}

    # ---- persistence -------------------------------------------------------------------------------------
    def path(self, *p: str) -> str:
        return os.path.join(self.d, *p)

    def load(self) -> None:
        with open(self.path("settings.json")) as f:
            self.settings = json.load(f)
        with open(self.path("keys", "keys.json")) as f:
            for keyid, k in json.load(f).items():
                pub = SSlibKey.from_dict(keyid, dict(k["public"]))
                self.signers[keyid] = CryptoSigner(load_pem_private_key(k["private"].encode(), None), pub)
        for name in os.listdir(self.path("state")):
            with open(self.path("state", name), "rb") as f:
                self.roles[name[:-5]] = Metadata.from_bytes(f.read())

    def save(self) -> None:
        os.makedirs(self.path("keys"), exist_ok=True)
        keys = {kid: {"private": s.private_bytes.decode(), "public": s.public_key.to_dict()} for kid, s in self.signers.items()}
        with open(self.path("keys", "keys.json"), "w") as f:
            json.dump(keys, f)
        with open(self.path("settings.json"), "w") as f:
            json.dump(self.settings, f)

    def new_signer(self) -> CryptoSigner:
        kt = self.settings["keytype"]
        s = {"ecdsa": CryptoSigner.generate_ecdsa, "ed25519": CryptoSigner.generate_ed25519,
             "rsa": lambda: CryptoSigner.generate_rsa(scheme="rsassa-pss-sha256", size=2048)}[kt]()
        self.signers[s.public_key.keyid] = s
        return s

    # ---- roles ---------------------------------------------------------------------------------------------
    @property
    def root(self) -> Root:
        return self.roles["root"].signed

    def delegator_of(self, role: str) -> tuple[dict, list[str], int]:
        """(keys, authorized keyids, threshold) for a role."""
        if role in TOP:
            r = self.root.roles[role]
            return self.root.keys, r.keyids, r.threshold
        for md in self.roles.values():
            t = md.signed
            if isinstance(t, Targets) and t.delegations and t.delegations.roles and role in t.delegations.roles:
                dr = t.delegations.roles[role]
                return t.delegations.keys, dr.keyids, dr.threshold
        raise SystemExit(f"no delegator for {role}")

    def sign(self, role: str) -> None:
        md = self.roles[role]
        _, keyids, _ = self.delegator_of(role)
        valid, bogus = self.signing.get(role, (None, 0))
        md.signatures.clear()
        for kid in keyids[: len(keyids) if valid is None else valid]:
            md.sign(self.signers[kid], append=True)
        for _ in range(bogus):
            # A signature by a key the role does not authorize, listed under an authorized key ID.
            rogue = CryptoSigner.generate_ecdsa()
            sig = rogue.sign(md.signed_bytes)
            spare = [k for k in keyids if k not in md.signatures]
            sig.keyid = spare[0] if spare else rogue.public_key.keyid
            md.signatures[sig.keyid] = sig

    def meta_for(self, role: str) -> MetaFile:
        data = self.roles[role].to_bytes(JSONSerializer(compact=False))
        if self.settings.get("meta_hashes"):
            return MetaFile.from_data(self.roles[role].signed.version, data, ["sha256"])
        return MetaFile(version=self.roles[role].signed.version)

    def file_name(self, role: str, version: int) -> str:
        if role == "root":
            return f"{version}.root.json"
        if role == "timestamp":
            return "timestamp.json"
        return f"{version}.{role}.json" if self.root.consistent_snapshot else f"{role}.json"

    def publish(self, role: str) -> None:
        md = self.roles[role]
        data = md.to_bytes(JSONSerializer(compact=False))
        for sub in ("state", "metadata", os.path.join("archive", role)):
            os.makedirs(self.path(sub), exist_ok=True)
        with open(self.path("state", f"{role}.json"), "wb") as f:
            f.write(data)
        with open(self.path("archive", role, f"{md.signed.version}.json"), "wb") as f:
            f.write(data)
        with open(self.path("metadata", self.file_name(role, md.signed.version)), "wb") as f:
            f.write(data)
        if role == "root":
            with open(self.path("metadata", "root.json"), "wb") as f:
                f.write(data)

    def commit(self) -> None:
        targets_roles = [r for r in self.dirty if r not in ("root", "timestamp", "snapshot")]
        if targets_roles and "snapshot" not in self.no_cascade:
            self.dirty.add("snapshot")
        if "snapshot" in self.dirty and "timestamp" not in self.no_cascade:
            self.dirty.add("timestamp")
        order = ["root"] + sorted(targets_roles) + ["snapshot", "timestamp"]
        for role in order:
            if role not in self.dirty:
                continue
            md = self.roles[role]
            if role not in self.versioned:
                md.signed.version += 1
            if role == "snapshot":
                for t in targets_roles:
                    if t not in self.no_cascade:
                        md.signed.meta[f"{t}.json"] = self.meta_for(t)
            if role == "timestamp" and "snapshot" in self.dirty and "snapshot" not in self.no_cascade:
                md.signed.snapshot_meta = self.meta_for("snapshot")
            self.sign(role)
            self.publish(role)

    # ---- ops -----------------------------------------------------------------------------------------------
    def op_init(self, a) -> None:
        self.settings = {"keytype": a.keytype, "meta_hashes": a.meta_hashes}
        exp = now() + datetime.timedelta(days=365)
        root = Root(expires=exp, consistent_snapshot=bool(a.consistent))
        counts = {"root": (a.root_keys, a.root_threshold), "targets": (a.targets_keys, a.targets_threshold)}
        for role in TOP:
            n, t = counts.get(role, (1, 1))
            for _ in range(n):
                root.add_key(self.new_signer().public_key, role)
            root.roles[role].threshold = t
        self.roles["root"] = Metadata(root)
        self.roles["targets"] = Metadata(Targets(expires=exp))
        snap = Snapshot(expires=exp)
        self.roles["snapshot"] = Metadata(snap)
        self.roles["timestamp"] = Metadata(Timestamp(expires=exp))
        os.makedirs(self.path("targets"), exist_ok=True)
        snap.meta["targets.json"] = self.meta_for("targets")
        for role in ("root", "targets", "snapshot"):
            self.sign(role)
            self.publish(role)
        self.roles["timestamp"].signed.snapshot_meta = self.meta_for("snapshot")
        self.sign("timestamp")
        self.publish("timestamp")

    def op_add_target(self, a) -> None:
        data = open(a.content[1:], "rb").read() if a.content.startswith("@") else a.content.encode()  # @FILE: its bytes
        t = self.roles[a.role].signed
        t.targets[a.path] = TargetFile.from_data(a.path, data, ["sha256", "sha512"])
        self.write_target(a.path, data, t.targets[a.path])
        self.dirty.add(a.role)

    def write_target(self, path: str, data: bytes, info: TargetFile) -> None:
        head, _, name = path.rpartition("/")
        if self.root.consistent_snapshot:
            name = f"{info.hashes['sha256']}.{name}"
        out = self.path("targets", head, name)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with open(out, "wb") as f:
            f.write(data)

    def op_tamper_target(self, a) -> None:
        """Replace a published target's bytes; metadata is left alone (arbitrary software, endless data)."""
        info = self.roles[a.role].signed.targets[a.path]
        self.write_target(a.path, a.content.encode(), info)

    def op_bump(self, a) -> None:
        self.dirty.add(a.role)

    def op_set_version(self, a) -> None:
        self.roles[a.role].signed.version = a.version
        self.versioned.add(a.role)
        self.dirty.add(a.role)

    def op_expire(self, a) -> None:
        self.roles[a.role].signed.expires = now() - datetime.timedelta(days=1)
        self.dirty.add(a.role)

    def op_renew(self, a) -> None:
        self.roles[a.role].signed.expires = now() + datetime.timedelta(days=365)
        self.dirty.add(a.role)

    def op_set_meta(self, a) -> None:
        """A snapshot or timestamp naming whatever version of a file the attacker likes."""
        self.no_cascade.add(a.file[:-5])
        signed = self.roles[a.role].signed
        if a.role == "timestamp":
            signed.snapshot_meta = MetaFile(version=a.version)
        else:
            signed.meta[a.file] = MetaFile(version=a.version)
        self.dirty.add(a.role)

    def op_sign(self, a) -> None:
        """Sign a role with only the first VALID authorized keys, plus BOGUS signatures by unauthorized keys."""
        self.signing[a.role] = (a.valid, a.bogus)
        self.dirty.add(a.role)

    def op_mutate(self, a) -> None:
        """Re-sign a role with the same version but different content, published without telling its parent."""
        md = self.roles[a.role]
        md.signed.expires = md.signed.expires + datetime.timedelta(seconds=1)
        self.versioned.add(a.role)
        self.no_cascade.add(a.role)
        self.dirty.add(a.role)

    def op_replay(self, a) -> None:
        """Publish an archived signed version under the role's current name (rollback, mix-and-match)."""
        src = self.path("archive", a.role, f"{a.version}.json")
        name = a.name or self.file_name(a.role, self.roles[a.role].signed.version)
        shutil.copyfile(src, self.path("metadata", name))

    def op_pad(self, a) -> None:
        """Grow a published metadata file with trailing whitespace: still valid JSON, just endless."""
        with open(self.path("metadata", a.name), "ab") as f:
            f.write(b" " * a.bytes)

    def op_remove(self, a) -> None:
        os.remove(self.path("metadata", a.name))

    def op_rotate(self, a) -> None:
        """A new root giving ROLE fresh keys and threshold; for root itself signed by old and new keys."""
        root = self.root
        old = list(root.roles[a.role].keyids)
        for kid in old:
            root.revoke_key(kid, a.role)
        new = [self.new_signer().public_key for _ in range(a.keys)]
        for k in new:
            root.add_key(k, a.role)
        root.roles[a.role].threshold = a.threshold
        if a.role == "root":
            self.old_root_keys = old
            old_n = len(old) if a.sign_old is None else a.sign_old
            new_n = len(new) if a.sign_new is None else a.sign_new
            self.root_signers = old[:old_n] + [k.keyid for k in new[:new_n]]
        self.dirty.add("root")
        if a.role != "root":
            self.dirty.add(a.role)

    def op_alias_key(self, a) -> None:
        """List a role's first key a second time under another key ID and ask for threshold 2: one private key
        then signs twice. python-tuf counts key IDs; a client must count keys."""
        root = self.root
        kid = root.roles[a.role].keyids[0]
        pub = root.keys[kid]
        alias = SSlibKey("a1a5" + kid[4:], pub.keytype, pub.scheme, dict(pub.keyval))
        root.add_key(alias, a.role)
        root.roles[a.role].threshold = 2
        self.signers[alias.keyid] = CryptoSigner(load_pem_private_key(self.signers[kid].private_bytes, None), alias)
        self.dirty.update({"root", a.role})

    def op_delegate(self, a) -> None:
        parent = self.roles[a.parent].signed
        if parent.delegations is None:
            parent.delegations = Delegations(keys={}, roles={})
        existing = a.name in self.roles
        if existing:
            # A second delegation to an existing role (cycles, diamonds) trusts the keys it already has.
            all_keys, keyids, _ = self.delegator_of(a.name)
            keys = [all_keys[k] for k in keyids]
        else:
            keys = [self.new_signer().public_key for _ in range(a.keys)]
        role = DelegatedRole(a.name, [k.keyid for k in keys], a.threshold, a.terminating,
                             paths=a.paths.split(",") if a.paths is not None else None,
                             path_hash_prefixes=a.hash_prefixes.split(",") if a.hash_prefixes is not None else None)
        parent.delegations.roles[a.name] = role
        for k in keys:
            parent.delegations.keys[k.keyid] = k
        if not existing:
            self.roles[a.name] = Metadata(Targets(expires=now() + datetime.timedelta(days=365), version=1))
            self.versioned.add(a.name)
            self.dirty.add(a.name)
        self.dirty.add(a.parent)


def root_sign_override(repo: Repo) -> None:
    """Root rotations are signed by the chosen old and new root keys, not just the current ones."""
    signers = getattr(repo, "root_signers", None)
    if signers is None:
        return
    original = repo.sign

    def sign(role: str) -> None:
        if role != "root":
            return original(role)
        md = repo.roles["root"]
        md.signatures.clear()
        for kid in signers:
            md.sign(repo.signers[kid], append=True)
    repo.sign = sign


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="repo.py")
    sub = p.add_subparsers(dest="op", required=True)
    s = sub.add_parser("init")
    s.add_argument("--consistent", type=int, default=1)
    s.add_argument("--keytype", default="ecdsa", choices=["ecdsa", "ed25519", "rsa"])
    s.add_argument("--root-keys", type=int, default=1)
    s.add_argument("--root-threshold", type=int, default=1)
    s.add_argument("--targets-keys", type=int, default=1)
    s.add_argument("--targets-threshold", type=int, default=1)
    s.add_argument("--meta-hashes", type=int, default=0)
    for name, args in {
        "add-target": [("path",), ("content",), ("--role", {"default": "targets"})],
        "tamper-target": [("path",), ("content",), ("--role", {"default": "targets"})],
        "bump": [("role",)],
        "set-version": [("role",), ("version", {"type": int})],
        "expire": [("role",)],
        "renew": [("role",)],
        "set-meta": [("role",), ("file",), ("version", {"type": int})],
        "sign": [("role",), ("--valid", {"type": int}), ("--bogus", {"type": int, "default": 0})],
        "mutate": [("role",)],
        "replay": [("role",), ("version", {"type": int}), ("--name", {})],
        "pad": [("name",), ("bytes", {"type": int})],
        "remove": [("name",)],
        "rotate": [("role",), ("--keys", {"type": int, "default": 1}), ("--threshold", {"type": int, "default": 1}),
                   ("--sign-old", {"type": int}), ("--sign-new", {"type": int})],
        "alias-key": [("role",)],
        "delegate": [("parent",), ("name",), ("--paths", {}), ("--hash-prefixes", {}),
                     ("--terminating", {"action": "store_true"}), ("--keys", {"type": int, "default": 1}),
                     ("--threshold", {"type": int, "default": 1})],
    }.items():
        s = sub.add_parser(name)
        for arg in args:
            s.add_argument(arg[0], **(arg[1] if len(arg) > 1 else {}))
    return p


def main(argv: list[str]) -> None:
    d, rest = argv[0], argv[1:]
    groups, cur = [], []
    for w in rest:
        if w == "+":
            groups.append(cur)
            cur = []
        else:
            cur.append(w)
    groups.append(cur)
    repo = Repo(d)
    ops = [parser().parse_args(g) for g in groups if g]
    if ops and ops[0].op == "init":
        os.makedirs(d, exist_ok=True)
        repo.op_init(ops[0])
        ops = ops[1:]
    else:
        repo.load()
    for a in ops:
        getattr(repo, "op_" + a.op.replace("-", "_"))(a)
    root_sign_override(repo)
    repo.commit()
    repo.save()


if __name__ == "__main__":
    main(sys.argv[1:])
