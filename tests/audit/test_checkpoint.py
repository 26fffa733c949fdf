"""Checkpoints: Ed25519-signed, appended to a file, keys from settings."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import SecretStr, ValidationError

from audit.checkpoint import (
    Checkpoint,
    CheckpointFile,
    Signer,
    checkpoint_path,
    key_id,
    parse_public_key,
    public_key_pem,
    signing_key,
)
from errors import ConfigurationError
from settings import Settings


def test_a_checkpoint_verifies_only_unchanged_and_with_its_key() -> None:
    signer = Signer(Ed25519PrivateKey.generate())
    keys = {signer.key_id: signer.public_key}
    checkpoint = signer.sign("chain", 42, "ab" * 32, 42)
    assert checkpoint.time.endswith("Z")
    assert Checkpoint.parse(checkpoint.line()) == checkpoint
    assert checkpoint.signed_by(keys)
    assert not dataclasses.replace(checkpoint, seq=41).signed_by(keys)
    assert not dataclasses.replace(checkpoint, head_hash="cd" * 32).signed_by(keys)
    assert not checkpoint.signed_by({})
    stranger = Signer(Ed25519PrivateKey.generate())
    assert not checkpoint.signed_by({signer.key_id: stranger.public_key})


@pytest.mark.parametrize(
    "line",
    [
        "",
        "[]",
        '{"seq": 1}',
        '{"chain_id": 1, "seq": "x", "head_hash": "", "count": 1, "time": "", "key_id": "", "signature": ""}',
    ],
)
def test_what_is_not_a_checkpoint_is_refused(line: str) -> None:
    with pytest.raises(ValueError, match="not a checkpoint"):
        Checkpoint.parse(line)


def test_the_file_is_only_ever_appended_to(tmp_path: Path) -> None:
    signer = Signer(Ed25519PrivateKey.generate())
    file = CheckpointFile(tmp_path / "deep" / "checkpoints.jsonl")
    with pytest.raises(FileNotFoundError):
        file.lines()
    first, second = signer.sign("c", 1, "a" * 64, 1), signer.sign("c", 2, "b" * 64, 2)
    file.append(first)
    file.append(second)
    assert [Checkpoint.parse(line) for line in file.lines()] == [first, second]


def test_the_demo_key_is_derived_from_the_seed(tmp_path: Path) -> None:
    one = signing_key(Settings(demo=True, seed=1, data_dir=tmp_path))
    again = signing_key(Settings(demo=True, seed=1, data_dir=tmp_path))
    other = signing_key(Settings(demo=True, seed=2, data_dir=tmp_path))
    assert key_id(one.public_key()) == key_id(again.public_key()) != key_id(other.public_key())


def test_the_key_is_required_outside_demo_mode(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="GOV_SHARE_AUDIT_SIGNING_KEY"):
        signing_key(Settings(demo=False, data_dir=tmp_path))


def test_the_key_is_hex_or_pem(tmp_path: Path) -> None:
    private = Ed25519PrivateKey.generate()
    raw = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    expected = key_id(private.public_key())
    for text in (raw.hex(), pem):
        loaded = signing_key(Settings(data_dir=tmp_path, audit_signing_key=SecretStr(text)))
        assert key_id(loaded.public_key()) == expected
    for bad in ("abcd", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"):
        with pytest.raises(ConfigurationError, match="Ed25519 private key") as raised:
            signing_key(Settings(data_dir=tmp_path, audit_signing_key=SecretStr(bad)))
        assert bad not in str(raised.value)  # a secret never reaches a message
    public = private.public_key()
    assert key_id(parse_public_key(public_key_pem(public))) == expected
    raw_public = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert key_id(parse_public_key(raw_public.hex())) == expected


def test_checkpoint_path_defaults_into_the_data_dir(tmp_path: Path) -> None:
    assert checkpoint_path(Settings(data_dir=tmp_path)) == tmp_path / "audit-checkpoints.jsonl"
    chosen = tmp_path / "elsewhere.jsonl"
    assert checkpoint_path(Settings(data_dir=tmp_path, audit_checkpoint_path=chosen)) == chosen


def test_retention_below_180_days_is_refused(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path).audit_retention_days == 183
    assert Settings(data_dir=tmp_path, audit_retention_days=180).audit_retention_days == 180
    with pytest.raises(ValidationError, match="audit_retention_days"):
        Settings(data_dir=tmp_path, audit_retention_days=179)
