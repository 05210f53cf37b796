"""Ed25519 keys and signatures of the audit trail's checkpoints.

The private key lives in a file named by ``AUDIT_SIGNING_KEY_FILE`` (PKCS#8 PEM, mode 0600), never in
the database and never in an event. Verifiers need only the public key: ``AUDIT_VERIFY_KEY_FILE``
(one or more PEM public keys, for rotation), or the one derived from the signing key. The signed bytes
are defined in docs/audit.md so anyone can check a checkpoint without Signet.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

CHECKPOINT_FORMAT = "signet-audit-checkpoint-1"
SIGNED_FIELDS = ("seq", "head_hash", "signed_at", "key_id")
_PEM_END = b"-----END PUBLIC KEY-----"


class AuditKeyError(ImproperlyConfigured):
    """A key file is missing, unreadable, too open or not an Ed25519 key."""


def key_id(public_key: Ed25519PublicKey) -> str:
    """Return the key's id: the first 16 hex digits of SHA-256 over its 32 raw bytes."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def signed_bytes(checkpoint: Mapping[str, Any]) -> bytes:
    """Return the bytes a checkpoint's signature covers: canonical JSON of its signed fields."""
    payload = {name: checkpoint[name] for name in SIGNED_FIELDS}
    payload["format"] = CHECKPOINT_FORMAT
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sign(private_key: Ed25519PrivateKey, checkpoint: Mapping[str, Any]) -> str:
    """Return the hex Ed25519 signature of ``checkpoint``'s signed fields."""
    return private_key.sign(signed_bytes(checkpoint)).hex()


def signature_problem(checkpoint: Mapping[str, Any], public_keys: Mapping[str, Ed25519PublicKey]) -> str | None:
    """Return why ``checkpoint``'s signature does not hold with ``public_keys``, or None when it does."""
    key = public_keys.get(str(checkpoint["key_id"]))
    if key is None:
        known = ", ".join(sorted(public_keys)) or "none"
        return (
            f"it names key {checkpoint['key_id']}, which is not a verification key (known: {known}):"
            " it was forged or signed with another key"
        )
    try:
        key.verify(bytes.fromhex(str(checkpoint["signature"])), signed_bytes(checkpoint))
    except (InvalidSignature, ValueError):
        return "its signature does not verify: the checkpoint was forged or altered"
    return None


def _read_key_file(path: Path, *, private: bool) -> bytes:
    try:
        info = path.stat()
        data = path.read_bytes()
    except OSError as exc:
        raise AuditKeyError(f"cannot read the audit key file {path}: {exc.strerror or exc}") from exc
    if private and info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise AuditKeyError(
            f"the audit signing key {path} is readable by others (mode {stat.S_IMODE(info.st_mode):o}):"
            " make it 0600 (chmod 600)"
        )
    return data


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """Load an unencrypted PKCS#8 PEM Ed25519 private key; refuse a file others may read."""
    try:
        key = serialization.load_pem_private_key(_read_key_file(path, private=True), password=None)
    except (ValueError, TypeError) as exc:
        raise AuditKeyError(f"{path} is not an unencrypted PEM private key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise AuditKeyError(f"{path} holds a {type(key).__name__}, not an Ed25519 key")
    return key


def load_public_keys(path: Path) -> dict[str, Ed25519PublicKey]:
    """Load one or more PEM Ed25519 public keys from one file, by key id."""
    data = _read_key_file(path, private=False)
    keys: dict[str, Ed25519PublicKey] = {}
    for block in data.split(_PEM_END)[:-1]:
        try:
            key = serialization.load_pem_public_key(block + _PEM_END)
        except ValueError as exc:
            raise AuditKeyError(f"{path} holds something that is not a PEM public key: {exc}") from exc
        if not isinstance(key, Ed25519PublicKey):
            raise AuditKeyError(f"{path} holds a {type(key).__name__}, not an Ed25519 public key")
        keys[key_id(key)] = key
    if not keys:
        raise AuditKeyError(f"{path} holds no PEM public key")
    return keys


def configured_signing_key() -> Ed25519PrivateKey | None:
    """Return the key of ``AUDIT_SIGNING_KEY_FILE``, or None when it is not set."""
    path = settings.AUDIT_SIGNING_KEY_FILE
    return load_private_key(Path(path)) if path else None


def configured_verify_keys() -> dict[str, Ed25519PublicKey] | None:
    """Return the keys of ``AUDIT_VERIFY_KEY_FILE``, else the signing key's public half, else None."""
    if settings.AUDIT_VERIFY_KEY_FILE:
        return load_public_keys(Path(settings.AUDIT_VERIFY_KEY_FILE))
    private = configured_signing_key()
    if private is None:
        return None
    return {key_id(private.public_key()): private.public_key()}


def generate_key_pair(private_path: Path, public_path: Path) -> str:
    """Write a new Ed25519 key pair (private 0600, created exclusively) and return its key id."""
    for path in (private_path, public_path):
        if path.exists():
            raise FileExistsError(f"{path} already exists: keep it, or choose another path")
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # O_EXCL: never overwrite a key that may already have signed checkpoints; 0600 from the first byte.
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(private_pem)
    os.chmod(private_path, 0o600)  # whatever the umask
    with public_path.open("xb") as handle:
        handle.write(public_pem)
    return key_id(key.public_key())
