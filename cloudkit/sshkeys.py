"""SSH public key helpers: validation, fingerprints and local key-pair generation.

Key generation uses ``cryptography`` (always installed with paramiko) and is imported
only when a key is generated.
"""

from __future__ import annotations

import base64
import binascii
import struct

from cloudkit.errors import ValidationError

__all__ = ["KEY_TYPES", "fingerprint_md5", "fingerprint_sha256", "generate_key_pair", "parse_public_key"]

KEY_TYPES = frozenset({
    "ssh-rsa", "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com", "ssh-dss",
})


def parse_public_key(public_key: str) -> tuple[str, bytes, str]:
    """Split an OpenSSH public key line into (type, blob, comment).

    Raises ``ValidationError`` (before anything is sent) for text that is not a public
    key: a private key pasted by mistake, a truncated blob, an unknown type.
    """
    if not isinstance(public_key, str) or not public_key.strip():
        raise ValidationError("public key is empty")
    text = public_key.strip()
    if "PRIVATE KEY" in text:
        raise ValidationError("this is a private key; pass the public half (the .pub file)")
    parts = text.split(None, 2)
    if len(parts) < 2:
        raise ValidationError("public key must look like 'ssh-ed25519 AAAA... comment'")
    kind, b64 = parts[0], parts[1]
    if kind not in KEY_TYPES:
        raise ValidationError(f"unknown public key type {kind[:40]!r}")
    try:
        blob = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError("public key data is not valid base64") from None
    fields = _blob_fields(blob)
    if not fields:
        raise ValidationError("public key data is truncated or corrupt")
    try:
        inner = fields[0].decode("ascii")
    except UnicodeDecodeError:
        raise ValidationError("public key data is truncated or corrupt") from None
    if inner != kind:
        raise ValidationError(f"public key says {kind!r} but its data is {inner[:40]!r}")
    if len(fields) < 2 or (kind == "ssh-ed25519" and len(fields[1]) != 32):
        raise ValidationError("public key data is truncated or corrupt (no key material after the type)")
    return kind, blob, parts[2] if len(parts) > 2 else ""


def _blob_fields(blob: bytes) -> list[bytes] | None:
    """The length-prefixed fields of a key blob, or None when they do not fill it exactly."""
    fields: list[bytes] = []
    offset = 0
    while offset < len(blob):
        if len(blob) - offset < 4:
            return None
        (length,) = struct.unpack(">I", blob[offset:offset + 4])
        offset += 4
        if length > len(blob) - offset:
            return None
        fields.append(blob[offset:offset + length])
        offset += length
    return fields


def fingerprint_md5(public_key: str) -> str:
    """The colon-separated MD5 fingerprint (``aa:bb:...``) that DigitalOcean and others show."""
    import hashlib  # imported on first use: importing cloudkit stays quick

    _, blob, _ = parse_public_key(public_key)
    digest = hashlib.md5(blob, usedforsecurity=False).hexdigest()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def fingerprint_sha256(public_key: str) -> str:
    """The ``SHA256:...`` fingerprint OpenSSH shows."""
    import hashlib  # imported on first use: importing cloudkit stays quick

    _, blob, _ = parse_public_key(public_key)
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def generate_key_pair(kind: str = "ed25519", comment: str = "cloudkit") -> tuple[str, str]:
    """Generate a key pair locally: (private key in OpenSSH PEM text, public key line)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    private: ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey
    if kind == "ed25519":
        private = ed25519.Ed25519PrivateKey.generate()
    elif kind == "rsa":
        private = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    else:
        raise ValidationError(f"key kind must be 'ed25519' or 'rsa', not {kind!r}")
    private_text = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    ).decode("ascii")
    public_line = private.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode("ascii")
    return private_text, f"{public_line} {comment}".strip()
