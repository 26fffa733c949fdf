"""An empty `_in` list matches no row and its negation every row, NULLs included, the
same on SQLite, PostgreSQL, MariaDB and in memory: for pages, per-parent pages, counts
and the conditions a source evaluates for flags and computed values (verification,
scopes)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from connectors import (
    SOURCE_KINDS,
    Comparison,
    Computed,
    Connector,
    Flag,
    MemoryConnector,
    Not,
    Operator,
    Page,
    Predicate,
    Read,
    ReadContext,
)
from tests.conftest import Gateway
from tests.engines import ENGINES, engine_database

pytestmark = pytest.mark.anyio

CONTEXT = ReadContext("test-request", purpose="administrative_basis")

ROWS = [
    {"licence_number": "L1", "holder": "H1", "licence_type": "A"},
    {"licence_number": "L2", "holder": "H1", "licence_type": None},
    {"licence_number": "L3", "holder": "H2", "licence_type": "B"},
    {"licence_number": "L4", "holder": "H2", "licence_type": None},
    {"licence_number": "L5", "holder": "H3", "licence_type": "A"},
]
COLUMNS = ("licence_number", "holder")
NONE_OF: Predicate = Comparison("licence_type", Operator.IN, ())
ALL_BUT_NONE_OF: Predicate = Not(NONE_OF)


async def _create(url: str) -> None:
    engine = create_async_engine(url)
    metadata = sa.MetaData()
    table = sa.Table(
        "licence",
        metadata,
        sa.Column("licence_number", sa.String(10), primary_key=True),
        sa.Column("holder", sa.String(10)),
        sa.Column("licence_type", sa.String(10), nullable=True),
    )
    try:
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
            await connection.execute(table.insert(), ROWS)
    finally:
        await engine.dispose()


@pytest.fixture(params=[*ENGINES, "memory"])
async def source(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Connector]:
    if request.param == "memory":
        yield MemoryConnector("licence_office", {"licence": ROWS})
        return
    async for url in engine_database(request.param, str(tmp_path / "licences.db")):
        await _create(url)
        connector = SOURCE_KINDS.open("licence_office", url, timeout_seconds=5)
        try:
            yield connector
        finally:
            await connector.close()


def numbers(rows: list[dict[str, Any]]) -> list[str]:
    return [row["licence_number"] for row in rows]


async def test_an_empty_list_matches_nothing_and_its_negation_everything(
    source: Connector,
) -> None:
    page = Page(10)
    [none] = await source.read(
        Read("licence", COLUMNS, "licence_number", page=page, predicate=NONE_OF), CONTEXT
    )
    [every] = await source.read(
        Read("licence", COLUMNS, "licence_number", page=page, predicate=ALL_BUT_NONE_OF), CONTEXT
    )
    assert none == []
    assert numbers(every) == ["L1", "L2", "L3", "L4", "L5"]  # NULL types included
    assert await source.count(
        Read("licence", COLUMNS, "licence_number", predicate=NONE_OF), CONTEXT
    ) == [0]
    assert await source.count(
        Read("licence", COLUMNS, "licence_number", predicate=ALL_BUT_NONE_OF), CONTEXT
    ) == [5]


async def test_per_parent_pages_and_counts_with_an_empty_list(source: Connector) -> None:
    keys = ("H1", "H2", "H9")
    for first in (1, 5):  # pages cut from one read, and pages by the window
        read = Read(
            "licence", COLUMNS, "licence_number", "holder", keys, Page(first), predicate=NONE_OF
        )
        assert await source.read(read, CONTEXT) == [[], [], []]
        read = Read(
            "licence",
            COLUMNS,
            "licence_number",
            "holder",
            keys,
            Page(first, probe=False),
            predicate=ALL_BUT_NONE_OF,
        )
        pages = [numbers(rows) for rows in await source.read(read, CONTEXT)]
        assert pages == [["L1", "L2"][:first], ["L3", "L4"][:first], []]
    for predicate, expected in ((NONE_OF, [0, 0, 0]), (ALL_BUT_NONE_OF, [2, 2, 0])):
        read = Read("licence", COLUMNS, "licence_number", "holder", keys, predicate=predicate)
        assert await source.count(read, CONTEXT) == expected


async def test_flags_and_computed_values_on_an_empty_list(source: Connector) -> None:
    """What a verification's `_matches` flag and a scoped value are computed from."""
    read = Read(
        "licence",
        COLUMNS,
        "licence_number",
        predicate=Comparison("licence_number", Operator.IN, ("L1", "L2")),
        page=Page(10, probe=False),
        computed=(Computed("_inside", "holder", condition=NONE_OF),),
        flags=(Flag("_none", NONE_OF), Flag("_all", ALL_BUT_NONE_OF)),
    )
    [rows] = await source.read(read, CONTEXT)
    assert [(row["_inside"], row["_none"], row["_all"]) for row in rows] == [(None, 0, 1)] * 2


async def test_an_empty_in_through_graphql_is_an_empty_page(gateway: Gateway) -> None:
    query = """query ($types: [String!]!) {
      none: enterprises(first: 5, where: {name: {_in: []}}) {
        totalCount edges { node { creditCode } } pageInfo { hasNextPage } }
      every: enterprises(first: 1, where: {_not: {name: {_in: []}}}) { totalCount }
      all: enterprises(first: 1) { totalCount }
      persons(first: 3) { edges { node {
        licences(first: 2, where: {licenceType: {_in: $types}}) { totalCount edges { node { licenceNumber } } }
      } } }
    }"""
    response = await gateway.query(query, variables={"types": []})
    body = response.json()
    assert "errors" not in body, body["errors"]
    data = body["data"]
    assert data["none"] == {"totalCount": 0, "edges": [], "pageInfo": {"hasNextPage": False}}
    assert data["every"]["totalCount"] == data["all"]["totalCount"] > 0
    licences = [edge["node"]["licences"] for edge in data["persons"]["edges"]]
    assert licences == [{"totalCount": 0, "edges": []}] * 3
    record = await gateway.audit(response)
    assert record["outcome"] == "served"
