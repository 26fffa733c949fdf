"""The SQLite connector compiles each shape of read once, reads small shapes on the event
loop and everything else in a worker thread, and never waits for a lock on the loop."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import event

import connectors.sqlite
from connectors import Page, Read, ReadContext, SqliteConnector
from errors import SourceUnavailable

pytestmark = pytest.mark.anyio

CONTEXT = ReadContext("test-request", purpose="administrative_basis")

COLUMNS = ("licence_number", "holder_id_number", "licence_type")
ROWS = [(f"L{i:03}", f"H{i % 7}", "AB"[i % 2]) for i in range(60)]


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "licences.db"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE licence (licence_number TEXT PRIMARY KEY, holder_id_number TEXT,"
            " licence_type TEXT)"
        )
        db.executemany("INSERT INTO licence VALUES (?, ?, ?)", ROWS)
    return path


@pytest.fixture
async def licences(database: Path) -> AsyncIterator[SqliteConnector]:
    connector = SqliteConnector("licence_office", f"sqlite:///file:{database}?mode=ro&uri=true")
    await connector.count(Read("licence", COLUMNS, "licence_number"), CONTEXT)  # reflects the table
    yield connector
    await connector.close()


@pytest.fixture
def threads(licences: SqliteConnector) -> Iterator[list[bool]]:
    """For each statement sent, whether it ran on the event loop's thread."""
    seen: list[bool] = []

    def remember(*_args: object) -> None:
        seen.append(threading.current_thread() is threading.main_thread())

    event.listen(licences.sync_engine, "before_cursor_execute", remember)
    yield seen
    event.remove(licences.sync_engine, "before_cursor_execute", remember)


def _by_holder(holders: tuple[str, ...], first: int) -> Read:
    return Read("licence", COLUMNS, "licence_number", "holder_id_number", holders, Page(first))


def _expected(holders: tuple[str, ...], first: int) -> list[list[dict[str, str]]]:
    rows = sorted(ROWS)
    return [
        [dict(zip(COLUMNS, row, strict=True)) for row in rows if row[1] == holder][: first + 1]
        for holder in holders
    ]


async def test_one_shape_is_compiled_once_and_read_with_each_reads_values(
    licences: SqliteConnector, threads: list[bool]
) -> None:
    statements: list[str] = []
    event.listen(licences.sync_engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    for holders, first in [(("H1", "H2"), 9), (("H3", "H0"), 12), (("H6", "H5"), 10)]:
        assert await licences.read(_by_holder(holders, first), CONTEXT) == _expected(holders, first)
    assert len(set(statements)) == 1
    assert threads == [False, True, True]  # the first read proved the shape small


async def test_a_read_past_the_event_loops_limit_moves_to_a_worker_thread(
    licences: SqliteConnector, threads: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    holders = ("H1", "H2", "H3")
    await licences.read(_by_holder(holders, 9), CONTEXT)
    monkeypatch.setattr(connectors.sqlite, "STEP", 1)
    monkeypatch.setattr(connectors.sqlite, "INLINE_LIMIT", 0)
    assert await licences.read(_by_holder(holders, 9), CONTEXT) == _expected(holders, 9)
    assert await licences.read(_by_holder(holders, 9), CONTEXT) == _expected(holders, 9)
    assert threads == [False, True, False, False]  # stopped on the loop, run again, then kept


async def test_a_locked_source_is_waited_for_in_a_worker_thread(
    database: Path, licences: SqliteConnector, threads: list[bool]
) -> None:
    read = Read("licence", COLUMNS, "licence_number", page=Page(3))
    await licences.read(read, CONTEXT)
    writer = sqlite3.connect(database, isolation_level=None)
    writer.execute("BEGIN EXCLUSIVE")
    asyncio.get_running_loop().call_later(0.3, writer.execute, "COMMIT")  # the loop runs
    try:
        [rows] = await licences.read(read, CONTEXT)
    finally:
        writer.close()
    assert [row["licence_number"] for row in rows] == ["L000", "L001", "L002", "L003"]
    assert threads == [False, True, False]


async def test_a_lock_held_past_the_timeout_is_unavailable(
    database: Path, licences: SqliteConnector
) -> None:
    licences.timeout_seconds = 0.3
    writer = sqlite3.connect(database, isolation_level=None)
    writer.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(SourceUnavailable):
            await licences.read(Read("licence", COLUMNS, "licence_number", page=Page(3)), CONTEXT)
    finally:
        writer.close()
