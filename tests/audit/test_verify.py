"""verify names the first record altered, removed or inserted, and a tail cut off
behind the last signed checkpoint."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit import AuditLog, Verification, verify
from audit.__main__ import main
from audit.chain import record_hash
from audit.checkpoint import Checkpointer, CheckpointFile, Signer, public_key_pem
from audit.problems import (
    AnchorMismatch,
    CheckpointInvalid,
    CheckpointMismatch,
    RecordAltered,
    RecordInserted,
    RecordsRemoved,
    TailTruncated,
)
from store.tables import audit_records
from tests.audit.conftest import Store, checkpointer, keys_of, make_record, stored_row

pytestmark = pytest.mark.anyio
RECORDS = 20


async def chain(store: Store) -> Checkpointer:
    """RECORDS records in two batches, and a checkpoint signed at the head on close."""
    checkpoints = checkpointer(store.tmp_path)
    log = AuditLog(store.engine, checkpointer=checkpoints, checkpoint_interval_seconds=3600)
    for start in (0, RECORDS // 2):
        await asyncio.gather(*(log.write(make_record(n)) for n in range(start, start + 10)))
    await log.close()
    return checkpoints


async def check(store: Store, checkpoints: Checkpointer | None = None) -> Verification:
    if checkpoints is None:
        return await verify(store.engine)
    return await verify(
        store.engine, checkpoint_file=checkpoints.file.path, public_keys=keys_of(checkpoints)
    )


async def request_id(store: Store, seq: int) -> str:
    return str(next(row["request_id"] for row in await store.rows() if row["seq"] == seq))


async def forge(store: Store, seq: int, prev_hash: str, chain_id: str | None = None) -> str:
    """Insert a well-formed record: right prev_hash, right record_hash."""
    row = stored_row(make_record(99, operator="forged"))
    row.update(chain_id=chain_id or (await store.rows())[0]["chain_id"], seq=seq)
    row.update(prev_hash=prev_hash, record_hash=record_hash(prev_hash, row))
    async with store.engine.begin() as connection:
        await connection.execute(audit_records.insert().values(**row))
    return str(row["request_id"])


async def hash_of(store: Store, seq: int) -> str:
    return str(next(row["record_hash"] for row in await store.rows() if row["seq"] == seq))


async def test_an_intact_chain_verifies_against_its_checkpoint(store: Store) -> None:
    checkpoints = await chain(store)
    result = await check(store, checkpoints)
    assert result.ok, str(result)
    assert (result.records, result.head.seq, result.checkpoints) == (RECORDS, RECORDS, 1)
    assert result.head.hash == await hash_of(store, RECORDS)
    assert "is intact: 20 records from genesis to record 20" in str(result)


async def test_an_altered_record_is_named(store: Store) -> None:
    await chain(store)
    await store.tamper("UPDATE audit_records SET operator = 'someone-else' WHERE seq = 7")
    result = await check(store)
    assert result.problem == RecordAltered(7, await request_id(store, 7), "content")
    assert (result.head.seq, result.records) == (6, 6)
    assert "record 7" in str(result) and "was altered" in str(result)


async def test_an_altered_record_with_its_hash_recomputed_is_named(store: Store) -> None:
    await chain(store)
    row = next(row for row in await store.rows() if row["seq"] == 7)
    row["purpose"] = "work_reference"
    await store.tamper(
        "UPDATE audit_records SET purpose = 'work_reference', record_hash = :hash WHERE seq = 7",
        hash=record_hash(row["prev_hash"], row),
    )
    assert (await check(store)).problem == RecordAltered(7, row["request_id"], "rehashed")


async def test_a_removed_record_is_named(store: Store) -> None:
    await chain(store)
    await store.tamper("DELETE FROM audit_records WHERE seq = 7")
    assert (await check(store)).problem == RecordsRemoved(7, 7)


async def test_removed_records_renumbered_over_are_still_found(store: Store) -> None:
    await chain(store)
    await store.tamper("DELETE FROM audit_records WHERE seq IN (7, 8)")
    for seq in range(9, RECORDS + 1):
        await store.tamper(
            "UPDATE audit_records SET seq = :new WHERE seq = :old", new=seq - 2, old=seq
        )
    assert (await check(store)).problem == RecordsRemoved(7, None)


async def test_the_first_record_removed_is_named(store: Store) -> None:
    await chain(store)
    await store.tamper("DELETE FROM audit_records WHERE seq = 1")
    assert (await check(store)).problem == RecordsRemoved(1, 1)


async def test_an_inserted_record_is_named(store: Store) -> None:
    """Room made by renumbering, and a forged record that hashes and links correctly."""
    await chain(store)
    for seq in range(RECORDS, 7, -1):
        await store.tamper(
            "UPDATE audit_records SET seq = :new WHERE seq = :old", new=seq + 1, old=seq
        )
    forged = await forge(store, 8, await hash_of(store, 7))
    assert (await check(store)).problem == RecordInserted(8, forged, "between")


async def test_a_record_of_another_chain_is_named(store: Store) -> None:
    await chain(store)
    forged = await forge(store, 3, await hash_of(store, 2), chain_id="another-chain")
    assert (await check(store)).problem == RecordInserted(3, forged, "foreign")


async def test_a_first_record_that_does_not_start_from_genesis_is_named(store: Store) -> None:
    await chain(store)
    row = next(row for row in await store.rows() if row["seq"] == 1)
    prev = "1" * 64
    await store.tamper(
        "UPDATE audit_records SET prev_hash = :prev, record_hash = :hash WHERE seq = 1",
        prev=prev,
        hash=record_hash(prev, row),
    )
    assert (await check(store)).problem == AnchorMismatch(1, 0)


async def test_a_cut_off_tail_is_found_only_against_the_checkpoint(store: Store) -> None:
    checkpoints = await chain(store)
    await store.tamper("DELETE FROM audit_records WHERE seq > 17")
    assert (await check(store)).ok  # the store alone cannot tell
    result = await check(store, checkpoints)
    time = result.latest_checkpoint.time if result.latest_checkpoint else ""
    assert result.problem == TailTruncated(RECORDS, time, 17)
    assert "3 records were cut off" in str(result)


async def test_a_rewritten_head_differs_from_the_checkpoint(store: Store) -> None:
    checkpoints = await chain(store)
    row = next(row for row in await store.rows() if row["seq"] == RECORDS)
    row["operator"] = "someone-else"
    await store.tamper(
        "UPDATE audit_records SET operator = 'someone-else', record_hash = :hash WHERE seq = :seq",
        hash=record_hash(row["prev_hash"], row),
        seq=RECORDS,
    )
    assert (await check(store)).ok
    result = await check(store, checkpoints)
    assert isinstance(result.problem, CheckpointMismatch) and result.problem.seq == RECORDS


async def test_checkpoints_count_only_when_signed_by_the_auditors_key(store: Store) -> None:
    checkpoints = await chain(store)
    chain_id = (await store.rows())[0]["chain_id"]
    stranger = Signer(Ed25519PrivateKey.generate())
    checkpoints.file.append(stranger.sign(chain_id, RECORDS + 5, "f" * 64, RECORDS + 5))
    assert (await check(store, checkpoints)).problem == CheckpointInvalid(2, "unsigned")

    other = CheckpointFile(store.tmp_path / "other.jsonl")
    other.append(checkpoints.signer.sign("another-chain", 3, "f" * 64, 3))
    result = await verify(
        store.engine, checkpoint_file=other.path, public_keys=keys_of(checkpoints)
    )
    assert result.problem == CheckpointInvalid(1, "other_chain")

    other.path.write_text("{not json\n")
    result = await verify(
        store.engine, checkpoint_file=other.path, public_keys=keys_of(checkpoints)
    )
    assert result.problem == CheckpointInvalid(1, "unreadable")
    assert not (await verify(store.engine, checkpoint_file=checkpoints.file.path)).ok


async def test_the_verify_command(
    store: Store, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOV_SHARE_DATA_DIR", str(store.tmp_path))
    checkpoints = await chain(store)
    key = store.tmp_path / "auditor.pem"
    key.write_text(public_key_pem(checkpoints.signer.public_key))
    arguments = ["verify", "--store-url", store.url, "--checkpoints", str(checkpoints.file.path)]

    assert await run(*arguments, "--public-key", str(key)) == 0
    assert "is intact: 20 records" in capsys.readouterr().out

    await store.tamper("DELETE FROM audit_records WHERE seq > 18")
    assert await run(*arguments, "--public-key", str(key)) == 1
    out = capsys.readouterr().out
    assert "NOT intact" in out and "2 records were cut off" in out

    assert await run(*arguments) == 2  # signed checkpoints, but no key to check them with
    assert "--public-key" in capsys.readouterr().err

    missing = ["--checkpoints", str(store.tmp_path / "gone.jsonl"), "--public-key", str(key)]
    assert await run("verify", "--store-url", store.url, *missing) == 2
    assert "gone.jsonl" in capsys.readouterr().err


async def test_the_verify_command_on_a_store_without_the_chain(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run("verify", "--store-url", f"sqlite+aiosqlite:///{tmp_path / 'x.db'}") == 2
    assert "is it migrated" in capsys.readouterr().err


def test_the_public_key_command(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    private = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    monkeypatch.setenv("GOV_SHARE_AUDIT_SIGNING_KEY", bytes(range(32)).hex())
    assert main(["public-key"]) == 0
    assert capsys.readouterr().out == public_key_pem(private.public_key())

    monkeypatch.delenv("GOV_SHARE_AUDIT_SIGNING_KEY")
    monkeypatch.delenv("GOV_SHARE_DEMO", raising=False)
    assert main(["public-key"]) == 2
    assert "GOV_SHARE_AUDIT_SIGNING_KEY" in capsys.readouterr().err


async def run(*arguments: Any) -> int:
    return await asyncio.to_thread(main, [str(argument) for argument in arguments])


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("", "empty"),
        ("\n", "empty"),
        ("ab" * 31, "neither PEM nor 64 hex digits"),
        (
            "-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----\n",
            "not a PEM public key",
        ),
    ],
)
def test_a_public_key_file_that_holds_no_key_is_named_with_what_was_expected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, what: str
) -> None:
    key = tmp_path / "auditors.pub"
    key.write_text(text)
    url = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    assert main(["verify", "--store-url", url, "--public-key", str(key)]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"audit: the public key file {key} is {what}: expected the PEM that "
        "`python -m audit public-key` prints (-----BEGIN PUBLIC KEY-----), or 64 hex digits\n"
    )
    assert main(["verify-export", str(tmp_path / "none.jsonl.gz"), "--public-key", str(key)]) == 2
    assert f"the public key file {key} is {what}" in capsys.readouterr().err
