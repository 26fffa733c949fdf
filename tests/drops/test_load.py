"""A delivered file loaded into its resource's staging table, on SQLite, PostgreSQL and
MariaDB: every record as the file holds it, typed as the catalog declares; a bad row
refuses the whole file, named by row and column, and the records before it are served
as they were; a reader during a load sees the old records or the new, whole."""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from catalog import Catalog, load_catalog
from connectors import SOURCE_KINDS, Page, Read, ReadContext, SqliteConnector
from drops import Refused, Staging, load_file
from drops.__main__ import drop_options
from errors import ConfigurationError
from settings import Settings
from tests.drops.files import (
    CHINESE,
    CONTRIBUTION_HEADER,
    REGISTRATION_HEADER,
    contribution,
    contributions,
    registration,
    write_csv,
    write_xlsx,
)
from tests.engines import ENGINES, engine_database, source_rows

pytestmark = pytest.mark.anyio
CONTRIBUTIONS = "insurance_contribution"


@pytest.fixture
def catalog(catalog_dir: Path) -> Catalog:
    """The demo catalog, civil affairs declaring how its XLSX export names the date."""
    path = catalog_dir / "civil_affairs.yaml"
    department = yaml.safe_load(path.read_text(encoding="utf-8"))
    [registrations] = department["resources"]
    registrations["drop"] = {
        "headers": {"registered_on": "登记日期（年月日）"},
        "sheet": "登记记录",
    }
    path.write_text(yaml.safe_dump(department, allow_unicode=True, sort_keys=False), "utf-8")
    return load_catalog(catalog_dir)


@pytest.fixture(params=ENGINES)
async def staging_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    async for url in engine_database(request.param, str(tmp_path / "staging.db")):
        yield url


@pytest.fixture
async def staging(staging_url: str) -> AsyncIterator[Staging]:
    staging = Staging(staging_url)
    await staging.prepare()
    yield staging
    await staging.close()


async def stored(url: str) -> list[dict[str, Any]]:
    """The staging table's records, amounts as decimals (SQLite's text SQL gives floats)."""
    rows = await source_rows(url, f"SELECT * FROM {CONTRIBUTIONS} ORDER BY record_number")
    for row in rows:
        for amount in ("contribution_base", "personal_contribution"):
            row[amount] = Decimal(str(row[amount]))
    return rows


def as_stored(row: tuple[str, ...]) -> dict[str, Any]:
    """A contribution as the staging table holds it: amounts as decimals, and no
    monthly wage, which the catalog shares with no one."""
    record: dict[str, Any] = dict(zip(CONTRIBUTION_HEADER, row, strict=True))
    record["contribution_base"] = Decimal(record["contribution_base"])
    record["personal_contribution"] = Decimal(record["personal_contribution"])
    record["monthly_wage"] = None
    return record


async def test_a_csv_is_loaded_typed_and_stamped(
    staging: Staging, staging_url: str, catalog: Catalog, tmp_path: Path
) -> None:
    rows = contributions(1500)  # more than one batch
    path = write_csv(tmp_path / "参保缴费-2026-11.csv", rows, header=CHINESE)
    before = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    stamp = await load_file(staging, catalog, CONTRIBUTIONS, path)
    after = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    assert await stored(staging_url) == [as_stored(row) for row in rows]
    [kept] = await source_rows(staging_url, "SELECT * FROM _loads")
    assert kept["resource"] == CONTRIBUTIONS and kept["file_name"] == "参保缴费-2026-11.csv"
    assert kept["record_count"] == 1500 == stamp.record_count
    assert kept["digest"] == stamp.digest and len(stamp.digest) == 64
    assert before <= datetime.datetime.fromisoformat(str(kept["loaded_at"])) <= after  # UTC
    assert await staging.stamps() == [stamp]


async def test_an_xlsx_is_read_from_its_sheet_by_the_catalogs_headers(
    staging: Staging, staging_url: str, catalog: Catalog, tmp_path: Path
) -> None:
    rows = [registration(number) for number in range(1, 41)]
    path = write_xlsx(tmp_path / "婚姻登记.xlsx", rows, REGISTRATION_HEADER, sheet="登记记录")
    await load_file(staging, catalog, "marriage_registration", path)
    kept = await source_rows(
        staging_url,
        "SELECT registration_number, registered_on, party_b_name FROM marriage_registration "
        "ORDER BY registration_number",
    )
    for row in kept:  # SQLite's text SQL gives dates as text
        row["registered_on"] = datetime.date.fromisoformat(str(row["registered_on"]))
    assert kept == [
        {"registration_number": row[0], "registered_on": row[2].date(), "party_b_name": row[7]}
        for row in rows
    ]


async def test_a_gb18030_csv_is_read_as_such(
    staging: Staging, staging_url: str, catalog: Catalog, tmp_path: Path
) -> None:
    """As Chinese Excel saves "CSV (逗号分隔)": GBK, no byte-order mark; 㐀 is outside GBK."""
    rows = [(*contribution(1)[:2], "王㐀", *contribution(1)[3:]), *contributions(5)[1:]]
    path = write_csv(tmp_path / "缴费.csv", rows, header=CHINESE, encoding="gb18030")
    with pytest.raises(UnicodeDecodeError):
        path.read_text(encoding="utf-8")
    await load_file(staging, catalog, CONTRIBUTIONS, path)
    assert await stored(staging_url) == [as_stored(row) for row in rows]


def with_cell(
    rows: list[tuple[str, ...]], row: int, column: str, value: str
) -> list[tuple[str, ...]]:
    changed = list(rows[row])
    changed[CONTRIBUTION_HEADER.index(column)] = value
    return [*rows[:row], tuple(changed), *rows[row + 1 :]]


GOOD = contributions(30)


@pytest.mark.parametrize(
    ("rows", "problem"),
    [
        (
            with_cell(GOOD, 21, "contribution_base", "五千"),
            "row 23, column G (contribution_base): not a number",
        ),
        (
            with_cell(GOOD, 4, "person_id_number", "41058119900307000123"),
            "row 6, column B (person_id_number): longer than the item's length (18 characters)",
        ),
        (
            with_cell(GOOD, 9, "personal_contribution", "320.125"),
            "row 11, column H (personal_contribution): an amount with more than two decimal places",
        ),
        (
            with_cell(GOOD, 29, "record_number", ""),
            "row 31, column A (record_number): the key is empty",
        ),
        (
            with_cell(GOOD, 12, "record_number", GOOD[2][0]),
            "row 14, column A (record_number): the same key as row 4",
        ),
        ([*GOOD[:7], GOOD[7][:9], *GOOD[8:]], "row 9: 9 cells where the header has 10"),
    ],
    ids=["not a number", "too long", "fen", "no key", "key twice", "short row"],
)
async def test_a_bad_row_refuses_the_file_and_the_last_one_stays_served(
    staging: Staging,
    staging_url: str,
    catalog: Catalog,
    tmp_path: Path,
    rows: list[tuple[str, ...]],
    problem: str,
) -> None:
    before = contributions(3, status="上月")
    await load_file(staging, catalog, CONTRIBUTIONS, write_csv(tmp_path / "10.csv", before))
    bad = write_csv(tmp_path / "11.csv", rows)
    with pytest.raises(Refused) as refused:
        await load_file(staging, catalog, CONTRIBUTIONS, bad)
    assert str(refused.value) == problem
    assert await stored(staging_url) == [as_stored(row) for row in before]
    assert [stamp.file_name for stamp in await staging.stamps()] == ["10.csv"]
    async with staging.engine.connect() as connection:
        names = await connection.run_sync(lambda sync: sa.inspect(sync).get_table_names())
    assert sorted(names) == ["_loads", CONTRIBUTIONS]  # nothing of the refused file left


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        (CONTRIBUTION_HEADER[:-1], "row 1: no column for payment_status (缴费状态)"),
        (
            (*CONTRIBUTION_HEADER[:3], "姓名", *CONTRIBUTION_HEADER[4:]),
            "row 1, column D: the header is not an item of insurance_contribution "
            "(its column, its Chinese name, or the catalog's drop.headers)",
        ),
        (
            (*CONTRIBUTION_HEADER[:4], "参保人姓名", *CONTRIBUTION_HEADER[5:]),
            "row 1, columns C and E: both are person_name",
        ),
    ],
    ids=["missing", "unknown", "twice"],
)
async def test_a_header_that_does_not_match_the_items_refuses_the_file(
    catalog: Catalog, tmp_path: Path, header: tuple[str, ...], problem: str
) -> None:
    staging = Staging(f"sqlite+aiosqlite:///{tmp_path / 'staging.db'}")
    await staging.prepare()
    rows = [row[: len(header)] for row in contributions(2)]
    try:
        with pytest.raises(Refused) as refused:
            await load_file(
                staging, catalog, CONTRIBUTIONS, write_csv(tmp_path / "x.csv", rows, header)
            )
    finally:
        await staging.close()
    assert str(refused.value) == problem


async def test_a_number_excel_rounded_is_refused_where_text_is_declared(
    catalog: Catalog, tmp_path: Path
) -> None:
    """An identity number typed as a number: Excel kept 15 of its 18 digits."""
    staging = Staging(f"sqlite+aiosqlite:///{tmp_path / 'staging.db'}")
    await staging.prepare()
    rows = [registration(1), registration(2)]
    rows[1][4] = 410581199201020000
    path = write_xlsx(tmp_path / "婚姻登记.xlsx", rows, REGISTRATION_HEADER, sheet="登记记录")
    try:
        with pytest.raises(Refused) as refused:
            await load_file(staging, catalog, "marriage_registration", path)
    finally:
        await staging.close()
    assert str(refused.value) == (
        "row 3, column E (party_a_id_number): a number of more than 15 digits, which Excel "
        "has rounded: format the column as text in the spreadsheet"
    )


async def test_a_reader_during_loads_sees_the_old_records_or_the_new_never_a_mix(
    staging: Staging, staging_url: str, catalog: Catalog, tmp_path: Path
) -> None:
    """The server's own connector reads while files of 200 and 300 records replace each
    other: every read is one file's records, all of them."""
    files = {
        status: write_csv(tmp_path / f"{status}.csv", contributions(count, status))
        for status, count in (("甲", 200), ("乙", 300))
    }
    await load_file(staging, catalog, CONTRIBUTIONS, files["甲"])
    setting = {"url": f"file://{tmp_path}", "staging_url": staging_url}
    connector = SOURCE_KINDS.open("human_resources", setting, timeout_seconds=5)
    read = Read(
        CONTRIBUTIONS,
        ("record_number", "payment_status"),
        "record_number",
        page=Page(first=1000, probe=False),
    )
    seen: list[tuple[int, frozenset[str]]] = []
    loading = True

    async def loads() -> None:
        nonlocal loading
        for status in ("乙", "甲", "乙", "甲", "乙"):
            await asyncio.to_thread(_load_in_thread, staging_url, catalog, files[status])
        loading = False

    async def reads() -> None:
        while loading:
            [rows] = await connector.read(read, ReadContext())
            seen.append((len(rows), frozenset(row["payment_status"] for row in rows)))
            await asyncio.sleep(0)

    try:
        await asyncio.gather(loads(), reads(), reads())
    finally:
        await connector.close()
    assert set(seen) <= {(200, frozenset({"甲"})), (300, frozenset({"乙"}))}
    assert len(seen) > 10
    assert await source_rows(staging_url, f"SELECT count(*) AS n FROM {CONTRIBUTIONS}") == [
        {"n": 300}
    ]


def _load_in_thread(url: str, catalog: Catalog, path: Path) -> None:
    """A load as the watcher runs it: its own thread, event loop and connections."""

    async def load() -> None:
        staging = Staging(url)
        try:
            await load_file(staging, catalog, CONTRIBUTIONS, path)
        finally:
            await staging.close()

    asyncio.run(load())


async def test_the_server_reads_a_sqlite_staging_database_read_only(tmp_path: Path) -> None:
    staging = Staging(f"sqlite+aiosqlite:///{tmp_path / 'staging.db'}")
    await staging.prepare()
    await staging.close()
    setting = {"url": f"file://{tmp_path}/drops", "staging_url": str(staging.engine.url)}
    connector = SOURCE_KINDS.open("human_resources", setting, timeout_seconds=5).source
    assert isinstance(connector, SqliteConnector)
    with (
        connector.sync_engine.connect() as connection,
        pytest.raises(sa.exc.OperationalError) as refused,
    ):
        connection.exec_driver_sql("DELETE FROM _loads")
    assert "readonly" in str(refused.value)
    await connector.close()


def test_a_drop_folder_is_staged_under_the_data_directory_unless_set(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        sources={
            "human_resources": "file:///srv/drops/human_resources",
            "civil_affairs": {
                "url": "file:///srv/drops/civil_affairs",
                "staging_url": "postgresql+asyncpg://loader@db/staging",
            },
        },
    )
    hr = drop_options(settings, "human_resources")
    assert hr.folder == Path("/srv/drops/human_resources")
    assert hr.staging_url.get_secret_value() == (
        f"sqlite+aiosqlite:///{tmp_path / 'staging' / 'human_resources.db'}"
    )
    civil = drop_options(settings, "civil_affairs")
    assert civil.reading_url() == "postgresql+asyncpg://loader@db/staging"


@pytest.mark.parametrize(
    ("setting", "problem"),
    [
        ("file://fileserver/drops", "url: Value error, not a folder URL: file:///absolute/path"),
        (
            {"url": "file:///srv/drops", "staging_url": "mongodb://db/staging"},
            "staging_url: Value error, not a SQLAlchemy database URL",
        ),
        (
            {"url": "file:///srv/drops", "settle": 1},
            "unknown option 'settle': this kind of source takes url, timeout_seconds, "
            "circuit, retries, staging_url, pool_size, settle_seconds, check_seconds",
        ),
    ],
    ids=["host", "staging", "option"],
)
def test_a_drop_setting_that_does_not_hold_stops_start_up(
    tmp_path: Path, setting: str | dict[str, Any], problem: str
) -> None:
    settings = Settings(data_dir=tmp_path, sources={"human_resources": setting})
    with pytest.raises(ConfigurationError) as refused:
        drop_options(settings, "human_resources")
    assert refused.value.where == "GOV_SHARE_SOURCES (human_resources)"
    assert refused.value.problem.startswith(problem)
