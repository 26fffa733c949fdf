"""One query across three engines: population on PostgreSQL, market regulation on
MariaDB, the rest on SQLite — the answer is the one the departments' data gives."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from catalog import load_catalog
from demo import DemoScale, generate_demo_data
from settings import ROOT, Settings
from tests.conftest import SEED, SOURCES, Gateway, serving
from tests.engines import mariadb_database, postgres_database

pytestmark = pytest.mark.anyio
SCALE = DemoScale(persons=400, enterprises=150)
CATALOG = load_catalog(ROOT / "catalog" / "departments")


async def load(urls: dict[str, str]) -> None:
    departments = [d for d in CATALOG.departments if d.source in urls]
    await asyncio.to_thread(generate_demo_data, departments, urls, seed=SEED, scale=SCALE)


@pytest.fixture
async def three_engines(tmp_path: Path) -> AsyncIterator[Gateway]:
    async for postgres in postgres_database():
        async for mariadb in mariadb_database():
            sqlite = {name: f"sqlite+aiosqlite:///{tmp_path / name}.db" for name in SOURCES}
            urls = {**sqlite, "public_security": postgres, "market_regulation": mariadb}
            await load(urls)
            async with serving(
                Settings(demo=True, data_dir=tmp_path / "var", sources=urls)
            ) as running:
                yield running


@pytest.fixture
async def sqlite_only(tmp_path: Path) -> AsyncIterator[Gateway]:
    urls = {name: f"sqlite+aiosqlite:///{tmp_path / name}.db" for name in SOURCES}
    await load(urls)
    async with serving(Settings(demo=True, data_dir=tmp_path / "var", sources=urls)) as running:
        yield running


WALK = """{ enterprises(first: 40, orderBy: [{registeredCapital: desc}], where: {status: {_in: ["存续", "在业"]}}) {
  totalCount
  edges { node { creditCode name registeredCapital establishedOn
    legalRepresentative { idNumber name birthDate
      licences(first: 2, orderBy: [{issuedOn: desc}]) { totalCount edges { node { licenceNumber issuedOn } } } }
    landParcels(first: 2) { edges { node { parcelCode area } } }
    taxRegistration { taxpayerName registeredOn } } } } }"""


async def test_one_query_crosses_postgresql_mariadb_and_sqlite(
    three_engines: Gateway, sqlite_only: Gateway
) -> None:
    engines = {
        name: guarded.source.dialect  # type: ignore[attr-defined]
        for name, guarded in three_engines.platform.sources.items()
    }
    assert engines["public_security"] == "postgresql" and engines["market_regulation"] == "mysql"
    assert engines["licence_office"] == "sqlite"
    crossed = (await three_engines.query(WALK)).json()
    reference = (await sqlite_only.query(WALK)).json()
    assert "errors" not in crossed, crossed.get("errors")
    assert crossed["data"] == reference["data"]
    edges = crossed["data"]["enterprises"]["edges"]
    assert len(edges) == 40 and all(edge["node"]["legalRepresentative"]["name"] for edge in edges)
