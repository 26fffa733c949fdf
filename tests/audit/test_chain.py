"""The chain's format, and appends that never fork under concurrency."""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import event
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite

import audit.log
from audit import AuditLog, DownloadAccount, verify
from audit.chain import (
    GENESIS,
    HASHED,
    HASHED_WHEN_PRESENT,
    UNHASHED,
    Head,
    canonical,
    content,
    link_prepared,
    prepare,
    record_hash,
)
from errors import AuditUnavailable
from store.migrate import MIGRATIONS
from store.tables import audit_records
from tests.audit.conftest import Store, make_record, stored_row, write_records

pytestmark = pytest.mark.anyio


def test_every_column_is_hashed_or_declared_unhashed() -> None:
    """A column added to audit_records must be classified: an unhashed column is one an
    attacker may change without trace, so it should be a decision, not an accident."""
    assert set(audit_records.c.keys()) == set(HASHED) | set(HASHED_WHEN_PRESENT) | set(UNHASHED)


def test_record_hash_is_sm3_of_prev_hash_and_canonical_json() -> None:
    record = make_record(occurred_at=datetime.datetime(2026, 11, 25, 15, 30, tzinfo=_CST))
    values = record.as_row() | {"chain_id": "c", "seq": 1}
    text = json.dumps(
        {name: values[name] for name in HASHED} | {"occurred_at": "2026-11-25T07:30:00.000000Z"},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    assert "林民登字" in text  # UTF-8, not \u-escaped
    expected = hashlib.new("sm3", GENESIS.encode() + text.encode()).hexdigest()

    entry = prepare(record)
    assert entry.canonical("c", 1) == text.encode()  # as the writer hashes it
    assert link_prepared(Head(0, GENESIS), "c", [entry]) == Head(1, expected)
    assert entry.row["record_hash"] == expected
    stored = stored_row(record) | {"chain_id": "c", "seq": 1}
    assert canonical(stored) == text.encode()  # as verify hashes it
    assert record_hash(GENESIS, stored) == expected


def test_a_stored_time_hashes_like_the_written_one() -> None:
    """SQLite gives back a naive UTC time, PostgreSQL an aware one, an export a string."""
    row = stored_row(
        make_record(occurred_at=datetime.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=_CST))
    )
    row.update(chain_id="c", seq=1)
    naive = {**row, "occurred_at": datetime.datetime(2026, 1, 1, 19, 4, 5, 6)}
    text = {**row, "occurred_at": "2026-01-01T19:04:05.000006Z"}
    assert canonical(row) == canonical(naive) == canonical(text)
    assert content(row)["duration_ms"] == row["duration_ms"]


async def test_a_record_without_canonical_form_fails_alone(store: Store) -> None:
    log = AuditLog(store.engine)
    naive = make_record(occurred_at=datetime.datetime(2026, 1, 1))
    results = await asyncio.gather(
        log.write(make_record(1)),
        log.write(naive),
        log.write(make_record(2)),
        return_exceptions=True,
    )
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], AuditUnavailable)
    assert [row["seq"] for row in await store.rows()] == [1, 2]


async def test_200_concurrent_writes_group_commit_into_one_unforked_chain(store: Store) -> None:
    batches = _count_inserts(store.engine)
    log = AuditLog(store.engine)
    records = await write_records(log, 200)

    rows = await store.rows()
    assert [row["seq"] for row in rows] == list(range(1, 201))
    assert {row["request_id"] for row in rows} == {record.request_id for record in records}
    assert rows[0]["prev_hash"] == GENESIS
    assert all(
        row["prev_hash"] == before["record_hash"] for before, row in itertools.pairwise(rows)
    )
    assert 1 <= batches[0] < 20, "concurrent writes should share statements"
    result = await verify(store.engine)
    assert result.ok, str(result)
    assert (result.records, result.head.seq) == (200, 200)


async def test_batches_close_at_batch_size(store: Store) -> None:
    batches = _count_inserts(store.engine)
    await write_records(AuditLog(store.engine, batch_size=10), 35)
    assert batches[0] == 4
    assert (await verify(store.engine)).ok


async def test_after_its_first_batch_a_lone_log_appends_in_one_statement(store: Store) -> None:
    """The head the log committed is still the head: no lock, no read, no transaction
    of several statements; the INSERT itself checks the head."""
    statements: list[str] = []

    @event.listens_for(store.engine.sync_engine, "before_cursor_execute")
    def _statement(_connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    log = AuditLog(store.engine)
    await write_records(log, 1)
    assert any("audit_records.seq" in statement for statement in statements)  # head read
    statements.clear()
    for _ in range(3):
        await write_records(log, 4)
    assert len(statements) == 3
    assert all(statement.startswith(_INSERTS) for statement in statements)
    assert [row["seq"] for row in await store.rows()] == list(range(1, 14))
    assert (await verify(store.engine)).ok


async def test_a_log_whose_head_moved_links_its_batch_again(store: Store) -> None:
    """Another log appended since: the one-statement INSERT inserts nothing, and the batch
    is linked after the new head under the lock: no fork, no failure."""
    first, second = AuditLog(store.engine), AuditLog(store.another_engine())
    await write_records(first, 2)
    await write_records(second, 2)
    records = await write_records(first, 3)
    rows = await store.rows()
    assert [row["seq"] for row in rows] == list(range(1, 8))
    assert [row["request_id"] for row in rows[4:]] == [record.request_id for record in records]
    assert (await verify(store.engine)).ok


async def test_a_batch_past_sqlites_parameter_limit_is_inserted_in_parts(
    sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A row takes every column but the id, and its facets; a statement 5 more at most.
    columns = len(audit_records.c)
    limit = 3 * columns + 5
    monkeypatch.setattr(SQLiteDialect_pysqlite, "insertmanyvalues_max_parameters", limit)
    commits = _count_commits(sqlite_store.engine)
    inserts: list[str] = []

    @event.listens_for(sqlite_store.engine.sync_engine, "before_cursor_execute")
    def _statement(_connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith(_INSERTS):
            inserts.append(statement)

    await write_records(AuditLog(sqlite_store.engine), 10)
    assert (commits[0], len(inserts)) == (1, 4)  # one batch: 3 + 3 + 3 + 1 rows
    assert [row["seq"] for row in await sqlite_store.rows()] == list(range(1, 11))
    assert (await verify(sqlite_store.engine)).ok


async def test_two_logs_on_one_store_do_not_fork(store: Store) -> None:
    """Two server processes: separate engines, one chain, appends serialised by the store."""
    first, second = AuditLog(store.another_engine()), AuditLog(store.another_engine())
    await asyncio.gather(*((first if n % 2 else second).write(make_record(n)) for n in range(120)))
    assert [row["seq"] for row in await store.rows()] == list(range(1, 121))
    result = await verify(store.engine)
    assert result.ok and result.records == 120, str(result)


async def test_a_locked_append_that_lost_a_race_links_again(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL another process's one-statement append does not wait for the lock:
    it can take the seq a locked append has just linked to. The unique (chain_id, seq)
    refuses the locked one, which reads the head again and goes through."""
    await write_records(AuditLog(store.engine), 2)
    first = (await store.rows())[0]
    stale = [Head(first["seq"], first["record_hash"])]  # as read just before the race
    real = audit.log.read_head

    def read_head(connection: sa.Connection, chain_id: str) -> Head:
        return stale.pop() if stale else real(connection, chain_id)

    monkeypatch.setattr(audit.log, "read_head", read_head)
    [record] = await write_records(AuditLog(store.engine), 1)  # a fresh log: the lock
    rows = await store.rows()
    assert [row["seq"] for row in rows] == [1, 2, 3]
    assert rows[2]["request_id"] == record.request_id
    assert (await verify(store.engine)).ok


async def test_a_log_reads_the_head_again_only_after_another_connection_wrote(
    sqlite_store: Store,
) -> None:
    """The head a log committed is reused while PRAGMA data_version says no other
    connection has written; once another one has, the head is read again, not forked."""
    reads: list[str] = []

    @event.listens_for(sqlite_store.engine.sync_engine, "before_cursor_execute")
    def _statement(_connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("SELECT audit_records.seq"):
            reads.append(statement)

    first, second = AuditLog(sqlite_store.engine), AuditLog(sqlite_store.another_engine())
    await write_records(first, 1)
    await write_records(first, 1)
    assert len(reads) == 1
    await write_records(second, 1)  # second's own engine: not counted here
    await write_records(first, 1)
    assert len(reads) == 2
    await first.close()
    await second.close()
    assert [row["seq"] for row in await sqlite_store.rows()] == [1, 2, 3, 4]
    assert (await verify(sqlite_store.engine)).ok


async def test_what_was_written_is_what_verifies(store: Store) -> None:
    """A time in +08:00, floats, nested JSON, Chinese text: read back, it hashes the same."""
    record = make_record(
        7,
        occurred_at=datetime.datetime(2026, 11, 25, 8, 0, 0, 123456, tzinfo=_CST),
        duration_ms=3,
        records={"person": {"keys": ["a", "b"], "subjects": []}, "空": {}},
    )
    log = AuditLog(store.engine)
    await log.write(record)
    stored = await log.find(record.request_id)
    assert stored is not None
    occurred = stored["occurred_at"]
    if occurred.tzinfo is None:
        occurred = occurred.replace(tzinfo=datetime.UTC)
    assert occurred == record.occurred_at
    assert stored["record_hash"] == record_hash(GENESIS, stored)
    assert (await verify(store.engine)).ok


async def test_the_migration_chains_records_written_before_it(store: Store) -> None:
    await asyncio.to_thread(_migrate, store.url, "0001")  # down through 0003 and 0002
    legacy = [make_record(n) for n in range(5)]
    async with store.engine.begin() as connection:
        columns = [name for name in HASHED if name not in ("chain_id", "seq")]
        table = sa.table("audit_records", *(sa.column(name) for name in columns))
        for record in legacy:
            row = stored_row(record)
            values = {name: row[name] for name in columns}
            for name in ("error_codes", "fields", "records"):
                values[name] = json.dumps(values[name])
            await connection.execute(table.insert().values(**values))
    await asyncio.to_thread(_migrate, store.url, "head")
    await AuditLog(store.engine).write(make_record(9))

    rows = await store.rows()
    assert [row["request_id"] for row in rows[:5]] == [record.request_id for record in legacy]
    result = await verify(store.engine)
    assert result.ok and result.records == 6, str(result)


_CST = datetime.timezone(datetime.timedelta(hours=8))


_INSERTS = (
    "INSERT INTO audit_records",
    "INSERT INTO audit_appends",
    "WITH appended AS (INSERT INTO audit_records",
)


def _count_inserts(engine: Any) -> list[int]:
    """Statements inserting audit records: one per batch (within the parameter limit).
    On SQLite through the view `audit_appends`, on PostgreSQL as a WITH that files the
    facets too (audit.insert)."""
    inserts = [0]

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _insert(_connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith(_INSERTS):
            inserts[0] += 1

    return inserts


def _count_commits(engine: Any) -> list[int]:
    commits = [0]

    @event.listens_for(engine.sync_engine, "commit")
    def _commit(_connection: Any) -> None:
        commits[0] += 1

    return commits


def _migrate(url: str, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(Path(MIGRATIONS)))
    config.attributes["url"] = url
    if revision == "head":
        command.upgrade(config, revision)
    else:
        command.downgrade(config, revision)


_TEXT = st.text(st.characters(codec="utf-8"), max_size=12)  # quotes, NULs, 汉字, surrogates out
_OPTIONAL = st.none() | _TEXT


@settings(max_examples=300, derandomize=True, deadline=None)
@given(
    texts=st.fixed_dictionaries(
        {
            name: _OPTIONAL
            for name in ("caller_department", "operator", "purpose_reference", "operation_name")
        }
    ),
    duration_ms=st.floats(allow_nan=False, allow_infinity=False),
    status=st.integers(100, 599),
    codes=st.lists(_TEXT, max_size=3),
    hashes=st.dictionaries(_TEXT, st.dictionaries(_TEXT, st.lists(_TEXT, max_size=2), max_size=2)),
    seq=st.integers(1, 2**62),
)
def test_the_writers_canonical_form_is_the_one_verify_recomputes(
    texts: dict[str, str | None],
    duration_ms: float,
    status: int,
    codes: list[str],
    hashes: dict[str, dict[str, list[str]]],
    seq: int,
) -> None:
    """The writer hashes a canonical form made in pieces when the record is prepared;
    verify hashes canonical() of the row read back. They must agree on every record."""
    record = make_record(
        duration_ms=duration_ms, http_status=status, error_codes=codes, records=hashes, **texts
    )
    entry = prepare(record)
    stored = stored_row(record) | {"chain_id": "chain", "seq": seq}
    assert entry.canonical("chain", seq) == canonical(stored)


def test_a_record_whose_hashes_are_not_keyed_by_text_has_no_canonical_form() -> None:
    """{1: ...} would be stored as {"1": ...}, which sorts differently: verify would
    call an intact record altered. It fails alone instead."""
    with pytest.raises(TypeError):
        prepare(make_record(records={"person": {1: ["a"]}}))  # type: ignore[dict-item]


LATER = [
    ("person", "zhangsan-0231", "lisi-0001"),
    ("document_id", "sha256:" + "a" * 64, "relay-1"),
    ("download_id", "5f0c8a9e-0d1b-4f43-9a57-0b6f4a1d2c3e", "6a1d9b0f-1e2c-4a54-8b68-1c7a5b2e3d4f"),
    ("download_digest", "b" * 64, "c" * 64),
]
"""Columns added to format 1 later (0009, 0011, 0012): a value, and another."""


@pytest.mark.parametrize(("column", "value", "other_value"), LATER)
def test_a_later_column_is_hashed_only_when_present(
    column: str, value: str, other_value: str
) -> None:
    """The verified person and the document id joined format 1 later: a record without
    one hashes exactly as records written before the column existed, a record with one
    covers it."""
    without, named = make_record(), make_record(**{column: value})
    for record in (without, named):
        stored = stored_row(record) | {"chain_id": "c", "seq": 1}
        assert prepare(record).canonical("c", 1) == canonical(stored)  # writer = verifier
    assert f'"{column}"'.encode() not in canonical(without.as_row() | {"chain_id": "c", "seq": 1})
    named_row = named.as_row() | {"chain_id": "c", "seq": 1}
    assert f'"{column}":"{value}"'.encode() in canonical(named_row)
    other = named_row | {column: other_value}
    assert record_hash(GENESIS, other) != record_hash(GENESIS, named_row)


@pytest.mark.parametrize(("column", "value", "_"), LATER)
async def test_a_later_column_on_record_verifies(
    store: Store, column: str, value: str, _: str
) -> None:
    log = AuditLog(store.engine)
    await log.write(make_record(1, **{column: value}))
    await log.write(make_record(2))
    await log.close()
    assert [row[column] for row in await store.rows()] == [value, None]
    assert (await verify(store.engine)).ok


async def test_a_download_page_on_record_verifies(store: Store) -> None:
    """A batch download's page: its id, its count (an integer) and its key digest, all
    three covered by the chain and read back as written, on either store."""
    log = AuditLog(store.engine)
    account = DownloadAccount("5f0c8a9e-0d1b-4f43-9a57-0b6f4a1d2c3e").after(["a" * 64, "b" * 64])
    page = {
        "download_id": account.download_id,
        "download_records": account.records,
        "download_digest": account.digest,
    }
    await log.write(make_record(1, **page))
    await log.write(make_record(2))
    await log.close()
    rows = await store.rows()
    assert [{name: row[name] for name in page} for row in rows] == [
        page,
        dict.fromkeys(page),
    ]
    assert (await verify(store.engine)).ok
    named = make_record(**page).as_row() | {"chain_id": "c", "seq": 1}
    assert b'"download_records":2' in canonical(named)
    assert record_hash(GENESIS, named) != record_hash(GENESIS, named | {"download_records": 3})
