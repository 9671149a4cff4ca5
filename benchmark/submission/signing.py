"""Signed official results: Ed25519 signatures over results.json, and the keys that the
leaderboard trusts.

What is signed: the *canonical form* of the results, which is every field but `signature`,
serialized as

    json.dumps(results_without_signature, sort_keys=True, separators=(",", ":"),
               ensure_ascii=False, allow_nan=False).encode("utf-8")

(keys sorted at every depth, no whitespace, UTF-8; floats in Python's shortest round-trip
notation, so the file read back gives the same bytes). The signature block, the last field of
results.json, records

    "signature": {"algorithm": "ed25519", "key_id": "<16 hex digits>", "value": "<base64>"}

A key's id is the first 16 hex digits of the SHA-256 of its raw 32-byte public key, so an id
names one key and cannot be claimed by another. The results' `submission.content_hash` (taken
before any of the agent's code ran) is among the signed fields: a verified row also needs the
submission folder to hash the same today (`benchmark.submission.provenance`).

Trusted keys: one YAML file per key in the repository's `keys/` folder, `keys/<key_id>.yaml`:

    key_id: 1f2e3d4c5b6a7988
    algorithm: ed25519
    holder: Ada Lovelace (proxybench maintainers)
    created: '2026-12-07'
    public_key: <base64 of the raw 32-byte public key>

Private keys are PEM (PKCS#8, unencrypted) files of mode 0600, written by `generate_key` outside
the repository, and refused when group- or world-readable.
"""

from __future__ import annotations

import base64
import binascii
import copy
import datetime
import hashlib
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import yaml
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from benchmark.evaluation.results import same_results

ALGORITHM = "ed25519"
SIGNATURE = "signature"        # the results field holding the signature block
KEYS_DIR = "keys"              # the trusted public keys, in the repository
KEY_ID_DIGITS = 16
PUBLIC_FIELDS = ("key_id", "algorithm", "holder", "created", "public_key")


class SigningError(ValueError):
    """A key or signature that cannot be used; the message is one line and names the file."""


@dataclass(frozen=True)
class TrustedKey:
    key_id: str
    holder: str
    created: str
    public_key: Ed25519PublicKey
    path: Path


def canonical_bytes(results: dict) -> bytes:
    """The bytes a signature covers: every field of the results but `signature`."""
    unsigned = {k: v for k, v in results.items() if k != SIGNATURE}
    return json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def _raw_public(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public_key: Ed25519PublicKey) -> str:
    return hashlib.sha256(_raw_public(public_key)).hexdigest()[:KEY_ID_DIGITS]


def inside_repository(path: Path) -> Path | None:
    """The root of the git work tree holding `path` (a `.git` folder, or file in a worktree),
    or None."""
    path = Path(path).resolve()
    for folder in (path, *path.parents):
        if (folder / ".git").exists():
            return folder
    return None


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Create `path` with `mode` from the start (never a moment readable by others), refusing to
    overwrite an existing file."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.fchmod(fd, mode)   # whatever the umask
        os.write(fd, data)
    finally:
        os.close(fd)


def public_key_text(public_key: Ed25519PublicKey, holder: str, created: str) -> str:
    """The YAML file that makes the leaderboard trust a key, once in the repository's keys/."""
    record = {"key_id": key_id(public_key), "algorithm": ALGORITHM, "holder": holder, "created": created,
              "public_key": base64.b64encode(_raw_public(public_key)).decode("ascii")}
    return ("# A public key that the proxybench leaderboard trusts: results.json files signed by its\n"
            "# private half are verified rows. Remove this file to stop trusting it (docs/signing.md).\n"
            + yaml.safe_dump(record, sort_keys=False, allow_unicode=True))


def generate_key(out: str | Path, holder: str, *, allow_in_repository: bool = False,
                 created: str | None = None) -> tuple[Path, Path]:
    """A new Ed25519 key pair in folder `out`: (private key file `<id>.key`, mode 0600; public
    key file `<id>.yaml`, for the repository's keys/). A private key is refused inside a git
    work tree unless `allow_in_repository`: a key in a checkout is one `git add .` from public."""
    out = Path(out)
    if not holder.strip():
        raise SigningError("the key's holder is empty: name who holds it (--holder)")
    repo = inside_repository(out)
    if repo is not None and not allow_in_repository:
        raise SigningError(f"{out} is inside the git repository {repo}: a private key there is one commit away "
                           f"from public; choose a folder outside it, or pass --allow-in-repository")
    out.mkdir(parents=True, exist_ok=True)
    private = Ed25519PrivateKey.generate()
    public = private.public_key()
    kid = key_id(public)
    private_path, public_path = out / f"{kid}.key", out / f"{kid}.yaml"
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    _write_new(private_path, pem, 0o600)
    created = created or datetime.date.today().isoformat()
    _write_new(public_path, public_key_text(public, holder.strip(), created).encode("utf-8"), 0o644)
    return private_path, public_path


def load_private_key(path: str | Path) -> Ed25519PrivateKey:
    """A private key file written by `generate_key`; refused if others may read it."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
        data = path.read_bytes()
    except OSError as exc:
        raise SigningError(f"cannot read the key file {path}: {exc.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SigningError(f"the key file {path} is readable or writable by others (mode "
                           f"{stat.S_IMODE(mode):04o}); chmod 600 it")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise SigningError(f"the key file {path} is not an unencrypted PEM private key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningError(f"the key file {path} holds a {type(key).__name__}, not an Ed25519 key")
    return key


def sign_results(results: dict, private_key: Ed25519PrivateKey, previous: str | Path | None = None) -> dict:
    """A copy of `results` with its signature block (any previous one replaced). `previous`: the
    results.json these will replace. When its results differ from these in nothing but the
    scoring time, its time is kept: Ed25519 signatures are deterministic, so a rescoring that
    changes nothing signs the same bytes and `write_results` leaves the file untouched."""
    out = copy.deepcopy({k: v for k, v in results.items() if k != SIGNATURE})
    try:
        old = json.loads(Path(previous).read_text()) if previous is not None else None
    except (OSError, ValueError):
        old = None   # none yet, or unreadable: a new scoring time
    if isinstance(old, dict) and "scored_at" in old and "scored_at" in out:
        if same_results({k: v for k, v in old.items() if k != SIGNATURE}, out):
            out["scored_at"] = old["scored_at"]
    value = private_key.sign(canonical_bytes(out))
    out[SIGNATURE] = {"algorithm": ALGORITHM, "key_id": key_id(private_key.public_key()),
                      "value": base64.b64encode(value).decode("ascii")}
    return out


def signed_before(path: str | Path) -> bool:
    """Whether the results.json at `path` carries a signature (False if there is none)."""
    try:
        return SIGNATURE in json.loads(Path(path).read_text())
    except (OSError, ValueError, TypeError):
        return False


def load_trusted_keys(folder: str | Path) -> dict[str, TrustedKey]:
    """Key id -> trusted key, from every `*.yaml` in `folder` (none if it does not exist). A
    file that is malformed, or whose id is not its public key's, is an error naming it."""
    keys = {}
    for path in sorted(Path(folder).glob("*.yaml")):
        try:
            record = yaml.safe_load(path.read_text())
        except (OSError, yaml.YAMLError) as exc:
            raise SigningError(f"{path}: not a readable key file ({type(exc).__name__})") from None
        if not isinstance(record, dict):
            raise SigningError(f"{path}: a key file is a mapping of {', '.join(PUBLIC_FIELDS)}")
        for field in PUBLIC_FIELDS:
            if field not in record:
                raise SigningError(f"{path}: field '{field}': missing")
            if not isinstance(record[field], str) or not record[field].strip():
                raise SigningError(f"{path}: field '{field}': {record[field]!r} is not a non-empty string "
                                   f"(quote it in YAML)")
        if record["algorithm"] != ALGORITHM:
            raise SigningError(f"{path}: field 'algorithm': {record['algorithm']!r}, only {ALGORITHM} is supported")
        try:
            public = Ed25519PublicKey.from_public_bytes(base64.b64decode(record["public_key"], validate=True))
        except (ValueError, binascii.Error):
            raise SigningError(f"{path}: field 'public_key': not the base64 of a 32-byte Ed25519 public key") from None
        if record["key_id"] != key_id(public) or path.stem != record["key_id"]:
            raise SigningError(f"{path}: field 'key_id': the key's id is {key_id(public)} (the SHA-256 of its "
                               f"public key); the file must say so and be named {key_id(public)}.yaml")
        keys[record["key_id"]] = TrustedKey(record["key_id"], record["holder"].strip(), record["created"],
                                            public, path)
    return keys


def verify_signature(results: dict, trusted: dict[str, TrustedKey]) -> TrustedKey:
    """The trusted key whose signature `results` carries; SigningError (one line, no file
    name: the caller names it) when it carries none, names an unknown key, or does not verify."""
    block = results.get(SIGNATURE)
    if not isinstance(block, dict):
        raise SigningError(f"field '{SIGNATURE}': not a signature block")
    if block.get("algorithm") != ALGORITHM:
        raise SigningError(f"field '{SIGNATURE}.algorithm': {block.get('algorithm')!r}, only {ALGORITHM} is supported")
    kid = block.get("key_id")
    if kid not in trusted:
        raise SigningError(f"signed by key {kid!r}, which is not among the trusted keys in {KEYS_DIR}/; "
                           f"remove the signature to list the row as self-reported")
    key = trusted[kid]
    try:
        value = base64.b64decode(str(block.get("value")), validate=True)
        key.public_key.verify(value, canonical_bytes(results))
    except (binascii.Error, ValueError, InvalidSignature):
        raise SigningError(f"the signature by key {kid} ({key.holder}) does not verify: the results were "
                           f"changed after signing") from None
    return key
