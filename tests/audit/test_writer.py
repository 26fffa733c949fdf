"""Group commit: a caller returns only once its record is committed, and every caller
of a batch that fails to commit gets AUDIT_UNAVAILABLE."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from audit import AuditLog, Checkpoint, verify
from errors import AuditUnavailable
from store import thread_engine
from tests.audit.conftest import Store, checkpointer, keys_of, make_record, write_records

pytestmark = pytest.mark.anyio

APPENDS = ("INSERT INTO audit_appends", "WITH appended AS (INSERT INTO audit_records")
"""The statement appending a batch: SQLite's through the view, PostgreSQL's WITH."""


async def test_a_failed_insert_fails_every_caller_of_the_batch(store: Store) -> None:
    """A batch after the first is one statement (it commits itself): that statement fails."""
    log = AuditLog(store.engine)
    await log.write(make_record())
    failing = [True]

    @event.listens_for(store.engine.sync_engine, "before_cursor_execute")
    def _insert_fails(_connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if failing[0] and statement.startswith(APPENDS):
            failing[0] = False
            raise sa.exc.OperationalError(statement, {}, Exception("disk I/O error"))

    await _every_caller_fails_then_the_log_recovers(store, log)


async def test_a_failed_commit_fails_every_caller_of_the_batch(store: Store) -> None:
    """The first batch, and any after another writer moved the head, is a transaction
    under the chain's lock: its COMMIT fails."""
    log = AuditLog(store.engine)
    await log.write(make_record())
    await AuditLog(store.another_engine()).write(make_record())  # the head moved
    failing = [True]

    @event.listens_for(store.engine.sync_engine, "commit")
    def _commit_fails(_connection: Any) -> None:
        if failing[0]:
            failing[0] = False
            raise sa.exc.OperationalError("COMMIT", {}, Exception("disk I/O error"))

    await _every_caller_fails_then_the_log_recovers(store, log, committed=2)
    assert not failing[0], "the batch went through a transaction"


async def _every_caller_fails_then_the_log_recovers(
    store: Store, log: AuditLog, committed: int = 1
) -> None:
    results = await asyncio.gather(
        *(log.write(make_record(n)) for n in range(40)), return_exceptions=True
    )
    assert all(isinstance(result, AuditUnavailable) for result in results)
    assert len({id(result) for result in results}) == 40  # one error per caller
    seqs = list(range(1, committed + 1))
    assert [row["seq"] for row in await store.rows()] == seqs  # nothing of the batch stayed

    await write_records(log, 3)  # the log recovers, and links to the committed head
    assert [row["seq"] for row in await store.rows()] == [
        *seqs,
        *(s + committed for s in (1, 2, 3)),
    ]
    assert (await verify(store.engine)).ok


async def test_a_store_that_refuses_writes_fails_the_callers(store: Store) -> None:
    if store.dialect == "sqlite":
        engine = store.another_engine()

        @event.listens_for(engine.sync_engine, "connect")
        def _read_only(connection: Any, _record: Any) -> None:
            connection.execute("PRAGMA query_only = ON")
    else:
        engine = store.engine_as("auditor")  # SELECT only
    results = await asyncio.gather(
        *(AuditLog(engine).write(make_record(n)) for n in range(3)), return_exceptions=True
    )
    assert all(isinstance(result, AuditUnavailable) for result in results)
    assert await store.rows() == []


async def test_close_commits_what_is_queued_and_signs_a_checkpoint(store: Store) -> None:
    checkpoints = checkpointer(store.tmp_path)
    log = AuditLog(store.engine, checkpointer=checkpoints, checkpoint_interval_seconds=3600)
    writes = [asyncio.create_task(log.write(make_record(n))) for n in range(25)]
    await asyncio.sleep(0)  # queued, not yet committed
    await log.close()
    assert all(write.done() and write.exception() is None for write in writes)

    [line] = checkpoints.file.lines()
    checkpoint = Checkpoint.parse(line)
    rows = await store.rows()
    assert (checkpoint.seq, checkpoint.head_hash, checkpoint.count) == (
        25,
        rows[-1]["record_hash"],
        25,
    )
    assert checkpoint.signed_by(keys_of(checkpoints))
    with pytest.raises(AuditUnavailable):
        await log.write(make_record())


async def test_checkpoints_are_signed_periodically(store: Store) -> None:
    checkpoints = checkpointer(store.tmp_path)
    log = AuditLog(store.engine, checkpointer=checkpoints, checkpoint_interval_seconds=0)
    await log.write(make_record(1))
    await log.write(make_record(2))
    await log.close()  # the head has not moved since: no new checkpoint
    seqs = [Checkpoint.parse(line).seq for line in checkpoints.file.lines()]
    assert seqs == [1, 2]


async def test_a_checkpoint_that_cannot_be_written_does_not_fail_writes(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    checkpoints = checkpointer(store.tmp_path)
    checkpoints.file.path = store.tmp_path  # a directory: the append fails
    log = AuditLog(store.engine, checkpointer=checkpoints, checkpoint_interval_seconds=0)
    with caplog.at_level(logging.ERROR, logger="gov_share.audit"):
        await log.write(make_record())
        await log.close()  # the writer signs after its callers return: wait for it
    assert [row["seq"] for row in await store.rows()] == [1]
    assert "audit checkpoint failed" in caplog.text


async def test_the_writers_sqlite_connections_are_the_store_engines(sqlite_store: Store) -> None:
    """The writer's own connections (pysqlite, one thread hop per batch) run the store
    engine's connect listeners, store_engine's (WAL, synchronous=FULL) and any added
    later, and the store engine's listeners see their commits."""
    engine = thread_engine(sqlite_store.engine)
    seen: list[str] = []
    store_events = sqlite_store.engine.sync_engine
    event.listen(store_events, "connect", lambda _connection, _record: seen.append("connect"))
    event.listen(store_events, "commit", lambda _connection: seen.append("commit"))
    try:
        with engine.begin() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    finally:
        engine.dispose()
    assert seen == ["connect", "commit"]
