"""The demo's file-drop department: in demo mode the human resources bureau delivers its
insurance contributions as a CSV file, made from the demo seed into the data directory
and loaded at start, so a newcomer meets a source that is not a database. It holds the
same records the demo generator writes to a database (the one synthetic city), without
the not_shared items, and the SQL sources stay as `generate_demo_data` makes them."""

from __future__ import annotations

import contextlib
import csv
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from catalog import ShareType, load_catalog
from demo import generate_demo_data
from drops import Staging
from settings import ROOT, Settings
from tests.conftest import SEED, SOURCES, serving

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

CATALOG = load_catalog(ROOT / "catalog" / "departments")
CONTRIBUTIONS = CATALOG.resource("insurance_contribution")
QUERY = "{ insuranceContributions(first: 5) { totalCount edges { node { recordNumber personName contributionBase } } } }"


def _rows(database: Path, sql: str) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(database)) as connection:
        return connection.execute(sql).fetchall()


async def test_the_demo_serves_human_resources_from_its_delivered_file(tmp_path: Path) -> None:
    elsewhere = tmp_path / "made-by-the-generator"
    elsewhere.mkdir()
    urls = {name: f"sqlite:///{elsewhere / name}.db" for name in SOURCES}
    generate_demo_data(CATALOG.departments, urls, seed=SEED)
    settings = Settings(demo=True, seed=SEED, data_dir=tmp_path / "var")
    assert settings.demo_delivered("human_resources")
    assert not settings.demo_delivered("taxation")

    async with serving(settings) as gateway:
        response = await gateway.query(QUERY, system="tax-admin")
        body = response.json()
    staging = Staging(f"sqlite+aiosqlite:///{tmp_path / 'var' / 'staging' / 'human_resources.db'}")
    stamps = await staging.stamps()
    await staging.close()

    folder = tmp_path / "var" / "drops" / "human_resources" / "insurance_contribution"
    [delivered] = sorted((folder / "processed").glob("*_insurance_contribution.csv"))
    assert not list(folder.glob("*.csv")), "loaded at start, and moved aside"
    [stamp] = stamps
    assert stamp.file_name == "insurance_contribution.csv"

    shared = [i for i in CONTRIBUTIONS.items if i.share_type is not ShareType.NOT_SHARED]
    with delivered.open(encoding="utf-8-sig", newline="") as file:
        header, *records = list(csv.reader(file))
    assert header == [item.name_zh for item in shared]  # the department's own headers
    assert "月工资收入（元）" not in header  # a not_shared item is not delivered
    columns = ", ".join(item.column for item in shared)
    made = _rows(
        elsewhere / "human_resources.db",
        f"SELECT {columns} FROM insurance_contribution ORDER BY record_number",
    )
    loaded = _rows(
        tmp_path / "var" / "staging" / "human_resources.db",
        f"SELECT {columns} FROM insurance_contribution ORDER BY record_number",
    )
    assert len(records) == len(made) == len(loaded) == stamp.record_count > 1000
    assert loaded == made, "the same city, delivered as a file"

    assert "errors" not in body, body
    served = body["data"]["insuranceContributions"]
    assert served["totalCount"] == len(made)
    assert [
        (n["node"]["recordNumber"], n["node"]["personName"], Decimal(n["node"]["contributionBase"]))
        for n in served["edges"]
    ] == [(row[0], row[2], Decimal(str(row[6]))) for row in made[:5]]
    # The SQL sources are the generator's, as before.
    for source, table in (("taxation", "tax_registration"), ("market_regulation", "enterprise")):
        query = f"SELECT * FROM {table} ORDER BY 1"
        assert _rows(tmp_path / "var" / "sources" / f"{source}.db", query) == _rows(
            elsewhere / f"{source}.db", query
        )
    assert not (tmp_path / "var" / "sources" / "human_resources.db").exists()
