"""Retention: records past it are exported, then removed, and what remains verifies."""

from __future__ import annotations

import asyncio
import datetime
import gzip
import hashlib
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.ext.asyncio import AsyncEngine

from audit import AuditLog, Checkpoint, Checkpointer, retain, verify
from audit.__main__ import main
from audit.chain import GENESIS
from audit.checkpoint import Signer
from audit.export import BrokenSegment, verify_export
from audit.problems import AnchorUnverified, ExportIncomplete, RecordAltered
from store.tables import audit_exports
from tests.audit.conftest import NOW, Store, checkpointer, keys_of, make_record

pytestmark = pytest.mark.anyio
OLD, YOUNG = 30, 10


async def history(store: Store, checkpoints: Checkpointer | None = None) -> None:
    """OLD records from about 400 days ago, then YOUNG ones from today."""
    log = AuditLog(store.engine, checkpointer=checkpoints, checkpoint_interval_seconds=3600)
    long_ago = NOW - datetime.timedelta(days=400)
    await asyncio.gather(
        *(
            log.write(make_record(n, occurred_at=long_ago + datetime.timedelta(minutes=n)))
            for n in range(OLD)
        )
    )
    await asyncio.gather(*(log.write(make_record(n)) for n in range(YOUNG)))
    await log.close()


def retention_engine(store: Store) -> AsyncEngine:
    """On PostgreSQL, retention runs as the retention role: removal only by the function."""
    return store.engine_as("retention") if store.dialect == "postgresql" else store.engine


async def test_retention_exports_removes_and_what_remains_verifies(store: Store) -> None:
    checkpoints = checkpointer(store.tmp_path)
    keys = keys_of(checkpoints)
    await history(store, checkpoints)
    exports = store.tmp_path / "audit-export"

    retained = await retain(
        retention_engine(store), checkpointer=checkpoints, export_dir=exports, retention_days=183
    )
    assert retained is not None
    segment = retained.segment
    assert (segment.from_seq, segment.to_seq, segment.count) == (1, OLD, OLD)
    assert segment.path == exports / "000000000001_000000000030.jsonl.gz"
    assert [row["seq"] for row in await store.rows()] == list(range(OLD + 1, OLD + YOUNG + 1))

    result = await verify(store.engine, checkpoint_file=checkpoints.file.path, public_keys=keys)
    assert result.ok, str(result)
    assert (result.anchor.seq, result.records, result.head.seq) == (OLD, YOUNG, OLD + YOUNG)
    assert "from the export ending at 30" in str(result)
    assert verify_export(segment.path, keys).ok
    assert _chain_of_export_lines(segment.path, checkpoints) == OLD

    log = AuditLog(store.engine)
    await log.write(make_record())
    assert (await store.rows())[-1]["seq"] == OLD + YOUNG + 1
    assert (await verify(store.engine, checkpoint_file=checkpoints.file.path, public_keys=keys)).ok


async def test_retention_of_everything_then_the_chain_goes_on(store: Store) -> None:
    """Two exports, the second anchored on the first, leave no record; the next append
    continues from the last exported hash. (The store's own clock decides what is past
    180 days, so every record here is old; `now` moves back, never forward.)"""
    checkpoints = checkpointer(store.tmp_path)
    keys = keys_of(checkpoints)
    log = AuditLog(store.engine)
    for days, count in ((400, 20), (250, 10)):
        when = NOW - datetime.timedelta(days=days)
        await asyncio.gather(*(log.write(make_record(n, occurred_at=when)) for n in range(count)))
    exports = store.tmp_path / "audit-export"
    engine = retention_engine(store)
    earlier = NOW - datetime.timedelta(days=100)
    first = await retain(
        engine, checkpointer=checkpoints, export_dir=exports, retention_days=183, now=earlier
    )
    second = await retain(engine, checkpointer=checkpoints, export_dir=exports, retention_days=183)
    assert first is not None and second is not None
    assert (first.segment.from_seq, first.segment.to_seq) == (1, 20)
    assert (second.segment.from_seq, second.segment.to_seq) == (21, 30)
    assert second.segment.prev_hash == first.segment.last_hash
    assert await store.rows() == []
    result = await verify(store.engine, checkpoint_file=checkpoints.file.path, public_keys=keys)
    assert result.ok and (result.records, result.head.seq) == (0, 30), str(result)
    assert verify_export(second.segment.path, keys).ok

    await log.write(make_record())  # continues from the anchor
    [row] = await store.rows()
    assert (row["seq"], row["prev_hash"]) == (31, second.segment.last_hash)
    assert (await verify(store.engine, checkpoint_file=checkpoints.file.path, public_keys=keys)).ok
    assert (
        await retain(engine, checkpointer=checkpoints, export_dir=exports, retention_days=183)
        is None
    )


async def test_records_that_do_not_verify_are_never_removed(store: Store) -> None:
    checkpoints = checkpointer(store.tmp_path)
    await history(store)
    await store.tamper("UPDATE audit_records SET operator = 'x' WHERE seq = 12")
    exports = store.tmp_path / "audit-export"
    with pytest.raises(BrokenSegment) as refused:
        await retain(
            retention_engine(store),
            checkpointer=checkpoints,
            export_dir=exports,
            retention_days=183,
        )
    assert isinstance(refused.value.problem, RecordAltered) and refused.value.problem.seq == 12
    assert len(await store.rows()) == OLD + YOUNG
    assert list(exports.iterdir()) == []


async def test_the_store_removes_only_exported_records_past_180_days(store: Store) -> None:
    await history(store)
    rows = await store.rows()
    engine = retention_engine(store)
    delete = "DELETE FROM audit_records WHERE seq = 1"
    with pytest.raises(sa.exc.DBAPIError, match=r"append-only|permission denied"):
        async with engine.begin() as connection:
            await connection.execute(sa.text(delete))

    young = rows[OLD:]  # a marker naming young records, with the right hashes
    marker = {
        "chain_id": rows[0]["chain_id"],
        "from_seq": 1,
        "to_seq": young[-1]["seq"],
        "prev_hash": GENESIS,
        "last_hash": young[-1]["record_hash"],
        "record_count": len(rows),
        "cutoff": NOW,
        "file_name": "x",
        "file_sm3": "0" * 64,
        "checkpoint": "{}",
        "exported_at": NOW,
    }
    with pytest.raises(sa.exc.DBAPIError, match=r"younger than 180 days|only exported records"):
        async with engine.begin() as connection:
            result = await connection.execute(audit_exports.insert().values(**marker))
            assert result.inserted_primary_key is not None
            if store.dialect == "postgresql":
                await connection.execute(
                    sa.select(sa.func.audit_remove_exported(result.inserted_primary_key[0]))
                )
            else:
                await connection.execute(sa.text("DELETE FROM audit_records WHERE seq = 35"))
    assert len(await store.rows()) == OLD + YOUNG


async def test_a_forged_anchor_is_caught(store: Store) -> None:
    checkpoints = checkpointer(store.tmp_path)
    keys = keys_of(checkpoints)
    await history(store)
    rows = await store.rows()
    await store.tamper("DELETE FROM audit_records WHERE seq <= 30")
    forger = Signer(Ed25519PrivateKey.generate())
    forged = forger.sign(rows[0]["chain_id"], OLD, rows[OLD - 1]["record_hash"], OLD)
    async with store.engine.begin() as connection:
        await connection.execute(
            audit_exports.insert().values(
                chain_id=rows[0]["chain_id"],
                from_seq=1,
                to_seq=OLD,
                prev_hash=GENESIS,
                last_hash=rows[OLD - 1]["record_hash"],
                record_count=OLD,
                cutoff=NOW,
                file_name="never-written",
                file_sm3="0" * 64,
                checkpoint=forged.line(),
                exported_at=NOW,
            )
        )
    assert (await verify(store.engine)).ok  # without the auditor's key, a marker is believed
    result = await verify(store.engine, public_keys=keys)
    assert result.problem == AnchorUnverified(OLD, "unsigned")


async def test_retention_below_the_floor_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="180"):
        await retain(
            store.engine,
            checkpointer=checkpointer(store.tmp_path),
            export_dir=store.tmp_path,
            retention_days=179,
        )


async def test_the_retain_command(
    store: Store, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOV_SHARE_DATA_DIR", str(store.tmp_path))
    monkeypatch.setenv("GOV_SHARE_DEMO", "true")
    await history(store)
    assert await asyncio.to_thread(main, ["retain", "--store-url", store.url]) == 0
    out = capsys.readouterr().out
    assert "exported records 1 to 30 (30)" in out
    export = store.tmp_path / "audit-export" / "000000000001_000000000030.jsonl.gz"
    assert await asyncio.to_thread(main, ["verify", "--store-url", store.url]) == 0
    assert "intact: 10 records from the export ending at 30" in capsys.readouterr().out
    assert await asyncio.to_thread(main, ["verify-export", str(export)]) == 0
    assert "intact: 30 records from genesis" in capsys.readouterr().out
    assert await asyncio.to_thread(main, ["retain", "--store-url", store.url]) == 0
    assert "nothing is older than 183 days" in capsys.readouterr().out


def _chain_of_export_lines(path: Path, checkpoints: Checkpointer) -> int:
    """Check an export the way an auditor without this code would: SM3 and JSON."""
    with gzip.open(path, "rt", encoding="utf-8") as file:
        header, *records, trailer = (json.loads(line) for line in file)
    assert header["kind"] == "segment" and trailer["kind"] == "checkpoint"
    prev = header["prev_hash"]
    assert prev == GENESIS
    for line in records:
        text = json.dumps(line["record"], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        assert line["prev_hash"] == prev
        assert hashlib.new("sm3", (prev + text).encode()).hexdigest() == line["record_hash"]
        prev = line["record_hash"]
    checkpoint = Checkpoint.from_mapping(trailer)
    assert checkpoint.head_hash == prev and checkpoint.seq == header["to_seq"]
    assert checkpoint.signed_by(keys_of(checkpoints))
    return len(records)


async def test_an_altered_export_is_caught(store: Store) -> None:
    checkpoints = checkpointer(store.tmp_path)
    keys = keys_of(checkpoints)
    await history(store)
    exports = store.tmp_path / "audit-export"
    retained = await retain(
        retention_engine(store), checkpointer=checkpoints, export_dir=exports, retention_days=183
    )
    assert retained is not None
    path = retained.segment.path
    with gzip.open(path, "rt", encoding="utf-8") as file:
        lines = [json.loads(line) for line in file]

    def rewrite(entries: list[dict[str, object]]) -> None:
        with gzip.open(path, "wt", encoding="utf-8") as file:
            file.writelines(json.dumps(entry, ensure_ascii=False) + "\n" for entry in entries)

    altered = json.loads(json.dumps(lines))
    altered[5]["record"]["operator"] = "someone-else"
    rewrite(altered)
    problem = verify_export(path, keys).problem
    assert isinstance(problem, RecordAltered) and problem.seq == 5

    rewrite(lines[:-1])  # the signed checkpoint dropped
    assert verify_export(path, keys).problem == ExportIncomplete("checkpoint")
    rewrite(lines[:-3] + lines[-1:])  # the last records dropped
    assert verify_export(path, keys).problem == ExportIncomplete("records")
    path.write_bytes(b"not gzip")
    assert verify_export(path, keys).problem == ExportIncomplete("unreadable")


async def test_verify_export_without_a_file_checks_every_export(
    sqlite_store: Store, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = sqlite_store
    monkeypatch.setenv("GOV_SHARE_DATA_DIR", str(store.tmp_path))
    monkeypatch.setenv("GOV_SHARE_DEMO", "true")
    exports = store.tmp_path / "audit-export"
    assert await asyncio.to_thread(main, ["verify-export"]) == 0
    assert capsys.readouterr().out == (
        f"no exported segments in {exports} yet: `python -m audit retain` exports records "
        "older than 183 days\n"
    )
    await history(store)
    assert await asyncio.to_thread(main, ["retain", "--store-url", store.url]) == 0
    capsys.readouterr()
    assert await asyncio.to_thread(main, ["verify-export"]) == 0
    [line] = capsys.readouterr().out.splitlines()
    first = exports / "000000000001_000000000030.jsonl.gz"
    assert line.startswith(f"{first}: audit chain ") and "intact: 30 records" in line

    second = exports / "000000000031_000000000040.jsonl.gz"
    second.write_bytes(b"not gzip")
    assert await asyncio.to_thread(main, ["verify-export"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(": ")[0] for line in lines] == [str(first), str(second)]
    assert "NOT intact" in lines[1]
