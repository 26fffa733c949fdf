"""A record's subjects sealed for the auditor: the identifiers in clear, SM4-encrypted
beside their keyed hashes, that only the auditor's private key opens.

Hashes find a subject the auditor already knows; listing the subjects of a request
needs the identifiers. The server holds the auditor's X25519 *public* key only
(`GOV_SHARE_AUDIT_SEALING_KEY`), so what it seals it cannot open, nor can anyone who
takes the server's keys: per record an ephemeral X25519 agreement with the auditor's
key, an SM3 derivation of a 128-bit key, and SM4-GCM over the JSON map hash →
identifier. Sealed text: `v1.` + base64url(ephemeral public key ‖ nonce ‖ ciphertext ‖
tag). The auditor makes the key pair (`python -m audit sealing-key`) and keeps the
private half off the server.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import os
from collections.abc import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from errors import ConfigurationError

VERSION = "v1."
_CONTEXT = b"gov-share audit sealed subjects v1"
_NONCE = 12
_TAG = 16


class SealedUnreadable(ValueError):
    """Not sealed to this key, or altered."""


class SubjectSealer:
    def __init__(self, public_key: X25519PublicKey) -> None:
        self._public = public_key
        self._public_raw = public_key.public_bytes_raw()

    def seal(self, identifiers: Mapping[str, str]) -> str:
        """`identifiers`: keyed hash → identifier in clear."""
        ephemeral = X25519PrivateKey.generate()
        ephemeral_raw = ephemeral.public_key().public_bytes_raw()
        key = _derive(ephemeral.exchange(self._public), ephemeral_raw, self._public_raw)
        nonce = os.urandom(_NONCE)
        plain = json.dumps(dict(identifiers), sort_keys=True, ensure_ascii=False).encode()
        encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
        sealed = encryptor.update(plain) + encryptor.finalize() + encryptor.tag
        return VERSION + base64.urlsafe_b64encode(ephemeral_raw + nonce + sealed).decode()


def open_sealed(text: str, private_key: X25519PrivateKey) -> dict[str, str]:
    """The map hash → identifier a record's subjects were sealed as."""
    try:
        if not text.startswith(VERSION):
            raise ValueError
        raw = base64.urlsafe_b64decode(text[len(VERSION) :].encode())
        ephemeral_raw, nonce = raw[:32], raw[32 : 32 + _NONCE]
        sealed, tag = raw[32 + _NONCE : -_TAG], raw[-_TAG:]
        ephemeral = X25519PublicKey.from_public_bytes(ephemeral_raw)
        recipient = private_key.public_key().public_bytes_raw()
        key = _derive(private_key.exchange(ephemeral), ephemeral_raw, recipient)
        decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
        plain = decryptor.update(sealed) + decryptor.finalize()
        opened = json.loads(plain)
    except (ValueError, binascii.Error, InvalidTag) as error:
        raise SealedUnreadable("not sealed to this key, or altered") from error
    return {str(k): str(v) for k, v in opened.items()}


def _derive(shared: bytes, ephemeral: bytes, recipient: bytes) -> bytes:
    return hashlib.new("sm3", _CONTEXT + shared + ephemeral + recipient).digest()[:16]


@functools.lru_cache(maxsize=4)
def sealer_for(public_hex: str) -> SubjectSealer:
    """The sealer for the settings' key (64 hex digits), made once."""
    try:
        key = X25519PublicKey.from_public_bytes(bytes.fromhex(public_hex))
    except ValueError:
        raise ConfigurationError(
            "settings",
            "GOV_SHARE_AUDIT_SEALING_KEY",
            "must be the auditor's X25519 public key, 64 hex digits "
            "(`python -m audit sealing-key` makes a pair)",
        ) from None
    return SubjectSealer(key)


def private_key_from(text: str) -> X25519PrivateKey:
    """The auditor's private key file's content: 64 hex digits."""
    try:
        return X25519PrivateKey.from_private_bytes(bytes.fromhex(text.strip()))
    except ValueError:
        raise ValueError("not an X25519 private key of 64 hex digits") from None


def new_key_pair() -> tuple[str, str]:
    """(private, public) as hex: the auditor's, made where the auditor keeps it."""
    private = X25519PrivateKey.generate()
    return private.private_bytes_raw().hex(), private.public_key().public_bytes_raw().hex()
