"""Signed checkpoints of the chain's head, kept outside the store.

The chain proves that what is in the store links up; only something kept elsewhere
can prove that nothing was cut off its end. A checkpoint says "at `time` the chain
`chain_id` reached `seq` with `head_hash`, holding `count` records" and is signed with
Ed25519 (SM2 is not available in `cryptography`; Ed25519 is, and is deterministic).
Checkpoints go to a JSONL file opened with O_APPEND, one per line, fsynced; auditors
hold the public key (`python -m audit public-key`).
"""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy.ext.asyncio import AsyncEngine

from audit.reads import first_seq, read_chain_id, read_head
from errors import ConfigurationError
from settings import Settings


@dataclass(frozen=True)
class Checkpoint:
    """`count` is how many records the store held for the chain, from its first
    remaining record (after retention) to `seq`."""

    chain_id: str
    seq: int
    head_hash: str
    count: int
    time: str
    key_id: str
    signature: str

    def payload(self) -> bytes:
        """What is signed: every field but the signature, as canonical JSON."""
        fields = {name: value for name, value in asdict(self).items() if name != "signature"}
        return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()

    def line(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Raises ValueError for anything that is not a checkpoint line."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            raise ValueError("not a checkpoint: not JSON") from None
        return cls.from_mapping(data)

    @classmethod
    def from_mapping(cls, data: Any) -> Checkpoint:
        try:
            checkpoint = cls(**{name: data[name] for name in cls.__dataclass_fields__})
        except (KeyError, TypeError) as error:
            raise ValueError(f"not a checkpoint: {type(error).__name__}") from None
        texts = (checkpoint.chain_id, checkpoint.head_hash, checkpoint.time, checkpoint.key_id)
        numbers = (checkpoint.seq, checkpoint.count)
        if not all(isinstance(text, str) for text in (*texts, checkpoint.signature)) or not all(
            isinstance(number, int) and not isinstance(number, bool) for number in numbers
        ):
            raise ValueError("not a checkpoint: wrong field types")
        return checkpoint

    def signed_by(self, keys: Mapping[str, Ed25519PublicKey]) -> bool:
        key = keys.get(self.key_id)
        if key is None:
            return False
        try:
            key.verify(bytes.fromhex(self.signature), self.payload())
        except (InvalidSignature, ValueError):
            return False
        return True


class Signer:
    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._private_key = private_key
        self.public_key = private_key.public_key()
        self.key_id = key_id(self.public_key)

    def sign(self, chain_id: str, seq: int, head_hash: str, count: int) -> Checkpoint:
        now = datetime.datetime.now(datetime.UTC)
        unsigned = Checkpoint(
            chain_id=chain_id,
            seq=seq,
            head_hash=head_hash,
            count=count,
            time=now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            key_id=self.key_id,
            signature="",
        )
        signature = self._private_key.sign(unsigned.payload()).hex()
        return Checkpoint(**{**asdict(unsigned), "signature": signature})


class CheckpointFile:
    """The append-only JSONL of checkpoints. Blocking: call from a thread."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, checkpoint: Checkpoint) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(descriptor, (checkpoint.line() + "\n").encode())
            os.fsync(descriptor)
        finally:
            os.close(descriptor)

    def lines(self) -> list[str]:
        """Raises FileNotFoundError: a checkpoint file someone names must be there (an
        auditor's typo, or a deleted file, must not pass as "nothing to check")."""
        return self.path.read_text(encoding="utf-8").splitlines()


class Checkpointer:
    """Signs the store's current head and appends it to the checkpoint file."""

    def __init__(self, signer: Signer, file: CheckpointFile) -> None:
        self.signer = signer
        self.file = file

    @classmethod
    def from_settings(cls, settings: Settings) -> Checkpointer:
        return cls(Signer(signing_key(settings)), CheckpointFile(checkpoint_path(settings)))

    async def checkpoint(self, engine: AsyncEngine, *, unless_at: int = 0) -> Checkpoint | None:
        """None while the chain is empty, or still at seq `unless_at` (already signed)."""
        async with engine.connect() as connection:
            chain_id = await connection.run_sync(read_chain_id)
            head = await connection.run_sync(read_head, chain_id)
            first = await first_seq(connection, chain_id)
        if head.seq in (0, unless_at):
            return None
        count = head.seq - first + 1 if first is not None else 0
        checkpoint = self.signer.sign(chain_id, head.seq, head.hash, count)
        await asyncio.to_thread(self.file.append, checkpoint)
        return checkpoint


def checkpoint_path(settings: Settings) -> Path:
    return settings.audit_checkpoint_path or settings.data_dir / "audit-checkpoints.jsonl"


def signing_key(settings: Settings) -> Ed25519PrivateKey:
    """From settings (64 hex digits or PKCS#8 PEM); derived from the seed in demo mode."""
    if settings.audit_signing_key is not None:
        return _parse_private_key(settings.audit_signing_key.get_secret_value())
    if settings.demo:
        seed = f"gov-share-demo:{settings.seed}:audit-signing".encode()
        return Ed25519PrivateKey.from_private_bytes(hashlib.new("sm3", seed).digest())
    raise ConfigurationError(
        "settings",
        "GOV_SHARE_AUDIT_SIGNING_KEY",
        "an Ed25519 key to sign audit checkpoints is required outside demo mode",
    )


def _parse_private_key(text: str) -> Ed25519PrivateKey:
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_private_key(text.encode(), password=None)
        else:
            key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(text))
    except ValueError:
        key = None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigurationError(
            "settings",
            "GOV_SHARE_AUDIT_SIGNING_KEY",
            "must be an Ed25519 private key: 64 hex digits or PKCS#8 PEM",
        )
    return key


PUBLIC_KEY_FORMS = (
    "the PEM that `python -m audit public-key` prints (-----BEGIN PUBLIC KEY-----), "
    "or 64 hex digits"
)


def parse_public_key(text: str) -> Ed25519PublicKey:
    """PEM (SubjectPublicKeyInfo) or 64 hex digits; raises ValueError saying what the
    text is instead (an auditor's empty or mistaken file, not a key length)."""
    text = text.strip()
    if not text:
        raise ValueError("empty")
    if text.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_public_key(text.encode())
        except (ValueError, UnsupportedAlgorithm):
            raise ValueError("not a PEM public key") from None
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("a public key, but not an Ed25519 one")
        return key
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise ValueError("neither PEM nor 64 hex digits")
    return Ed25519PublicKey.from_public_bytes(raw)


def public_key_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def key_id(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.new("sm3", raw).hexdigest()[:16]
