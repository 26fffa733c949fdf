"""The SQL connector answers a Read in one statement, in the database, and nothing more;
the in-memory connector answers the same reads the same way."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from connectors import (
    SOURCE_KINDS,
    Capabilities,
    MemoryConnector,
    Page,
    Pagination,
    Read,
    ReadContext,
    SqliteConnector,
)
from errors import PushdownRefused, SourceUnavailable

pytestmark = pytest.mark.anyio

CONTEXT = ReadContext("test-request", purpose="administrative_basis")

COLUMNS = ("licence_number", "holder_id_number", "licence_type")


@pytest.fixture
async def licences(demo_dir: Path) -> AsyncIterator[SqliteConnector]:
    url = f"sqlite+aiosqlite:///file:{demo_dir / 'licence_office.db'}?mode=ro&uri=true"
    connector = SqliteConnector("licence_office", url)
    yield connector
    await connector.close()


def _holders(demo_dir: Path, count: int) -> list[str]:
    with sqlite3.connect(demo_dir / "licence_office.db") as db:
        rows = db.execute(
            "SELECT holder_id_number FROM licence GROUP BY holder_id_number HAVING count(*) > 1 "
            "ORDER BY holder_id_number LIMIT ?",
            (count,),
        )
        return [row[0] for row in rows]


def _memory_copy(demo_dir: Path) -> MemoryConnector:
    with sqlite3.connect(demo_dir / "licence_office.db") as db:
        db.row_factory = sqlite3.Row
        rows = [dict(row) for row in db.execute("SELECT * FROM licence")]
    return MemoryConnector("licence_office", {"licence": rows})


async def test_only_the_projection_is_read(licences: SqliteConnector) -> None:
    [rows] = await licences.read(
        Read("licence", ("licence_number",), "licence_number", page=Page(3)), CONTEXT
    )
    assert [set(row) for row in rows] == [{"licence_number"}] * 4  # first + 1, to tell hasNextPage
    assert rows == sorted(rows, key=lambda row: row["licence_number"])


async def test_keys_answer_one_row_set_each_in_order(
    licences: SqliteConnector, demo_dir: Path
) -> None:
    holders = _holders(demo_dir, 5)
    keys = (holders[3], "000000000000000000", holders[0])
    answer = await licences.read(
        Read("licence", COLUMNS, "licence_number", "holder_id_number", keys), CONTEXT
    )
    assert len(answer) == 3
    assert answer[1] == []
    assert {row["holder_id_number"] for row in answer[0]} == {holders[3]}
    assert {row["holder_id_number"] for row in answer[2]} == {holders[0]}


async def test_first_applies_per_parent_cut_from_one_read_or_by_a_window(
    licences: SqliteConnector, demo_dir: Path
) -> None:
    """Pages are cut from one ordered read of all the parents' rows while those fit in
    the pages; a read that comes back full is read again with the window function, and
    its shape by the window alone from then on."""
    holders = tuple(_holders(demo_dir, 20))
    memory = _memory_copy(demo_dir)
    statements: list[str] = []
    from sqlalchemy import event

    event.listen(licences.sync_engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    await licences.read(
        Read("licence", COLUMNS, "licence_number", page=Page(1)), CONTEXT
    )  # reflect first
    statements.clear()
    few, many = (
        Read("licence", COLUMNS, "licence_number", "holder_id_number", holders, Page(first))
        for first in (9, 1)  # 10 rows a holder fit; 2 each do not (each has 2 or more)
    )
    answers = [await licences.read(read, CONTEXT) for read in (few, many, many)]
    assert ["row_number" in sql.lower() for sql in statements] == [False, False, True, True]
    assert answers[0] == await memory.read(few, CONTEXT)
    assert answers[1] == answers[2] == await memory.read(many, CONTEXT)
    assert [len(rows) for rows in answers[1]] == [2] * len(holders)  # first + 1 each


async def test_keyset_after_continues_where_the_page_ended(licences: SqliteConnector) -> None:
    [first] = await licences.read(Read("licence", COLUMNS, "licence_number", page=Page(5)), CONTEXT)
    [second] = await licences.read(
        Read("licence", COLUMNS, "licence_number", page=Page(5, (first[4]["licence_number"],))),
        CONTEXT,
    )
    [both] = await licences.read(Read("licence", COLUMNS, "licence_number", page=Page(10)), CONTEXT)
    assert first[:5] + second[:5] == both[:10]


async def test_memory_connector_answers_like_the_database(
    licences: SqliteConnector, demo_dir: Path
) -> None:
    memory = _memory_copy(demo_dir)
    holders = tuple(_holders(demo_dir, 7))
    reads = [
        Read("licence", COLUMNS, "licence_number", page=Page(7)),
        Read("licence", COLUMNS, "licence_number", "holder_id_number", holders),
        Read("licence", COLUMNS, "licence_number", "holder_id_number", holders, Page(1)),
    ]
    for read in reads:
        expected = await licences.read(read, CONTEXT)
        actual = await memory.read(read, CONTEXT)
        assert [sorted(rows, key=str) for rows in actual] == [
            sorted(rows, key=str) for rows in expected
        ]


async def test_a_read_the_source_cannot_push_down_is_refused(demo_dir: Path) -> None:
    memory = _memory_copy(demo_dir)
    memory.capabilities = Capabilities(pagination=Pagination(per_parent=None))
    with pytest.raises(PushdownRefused, match="per parent pagination"):
        await memory.read(
            Read("licence", COLUMNS, "licence_number", "holder_id_number", ("x",), Page(1)), CONTEXT
        )
    assert memory.reads == []  # refused before anything was read


async def test_a_missing_database_is_unavailable_without_leaking_its_path(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///file:{tmp_path / 'gone.db'}?mode=ro&uri=true"
    connector = SOURCE_KINDS.open("civil_affairs", url, timeout_seconds=5)
    try:
        with pytest.raises(SourceUnavailable) as raised:
            await connector.read(Read("licence", COLUMNS, "licence_number", page=Page(1)), CONTEXT)
        assert "gone.db" not in str(raised.value)
        assert raised.value.extensions == {"source": "civil_affairs"}
        with pytest.raises(SourceUnavailable):
            await connector.ping()
    finally:
        await connector.close()


async def test_a_statement_past_its_timeout_is_unavailable(tmp_path: Path) -> None:
    """A source whose `licence` is a view that takes far longer than the timeout."""
    with sqlite3.connect(tmp_path / "slow.db") as db:
        db.execute(
            "CREATE VIEW licence AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
            "WHERE i < 100000000) SELECT i AS licence_number FROM n WHERE i % 99999989 = 0"
        )
    connector = SOURCE_KINDS.open(
        "slow", f"sqlite+aiosqlite:///{tmp_path / 'slow.db'}", timeout_seconds=0.2
    )
    try:
        with pytest.raises(SourceUnavailable):
            await connector.read(
                Read("licence", ("licence_number",), "licence_number", page=Page(5)), CONTEXT
            )
        connector.timeout_seconds = 30
        await connector.ping()  # the pooled connection is usable again
    finally:
        await connector.close()
