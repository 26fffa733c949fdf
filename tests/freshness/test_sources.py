"""Each kind of source tells when a resource was last updated, as the catalog declares
it: a column's greatest value (SQLite, PostgreSQL, MariaDB), an API's response header,
a file drop's load stamp — and the watch judges it against the update cycle, on a clock
the test sets."""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from sqlalchemy.ext.asyncio import create_async_engine

from catalog import Catalog, UpdateCycle, load_catalog
from connectors import SOURCE_KINDS, Connector, Dated, GuardedConnector, UpdateSign
from drops import Staging, load_file
from errors import SourceUnavailable
from freshness import FreshnessWatch, is_stale
from tests.department_api import TOKEN, DepartmentApi, person_records, serving
from tests.drops.files import CHINESE, contributions, write_csv
from tests.engines import ENGINES, engine_database

pytestmark = pytest.mark.anyio
UTC = datetime.UTC
LAST = datetime.datetime(2026, 11, 30, 8, 15, tzinfo=UTC)


@pytest.fixture(params=ENGINES)
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A department database whose `registrations` table keeps when each row changed."""
    async for url in engine_database(request.param, str(tmp_path / "department.db")):
        engine = create_async_engine(url)
        async with engine.begin() as connection:
            await connection.execute(sa.text("DROP TABLE IF EXISTS registrations"))
            await connection.execute(
                sa.text("CREATE TABLE registrations (id INTEGER PRIMARY KEY, updated_at TIMESTAMP)")
            )
            for number, updated in enumerate([LAST - datetime.timedelta(days=3), LAST, None]):
                value = updated.replace(tzinfo=None) if updated else None
                await connection.execute(
                    sa.text("INSERT INTO registrations VALUES (:id, :updated)"),
                    {"id": number, "updated": value},
                )
        await engine.dispose()
        yield url


def opened(name: str, setting: str | dict[str, str]) -> Connector:
    """The source as the platform opens it: its kind's connector behind its guard."""
    return SOURCE_KINDS.open(name, setting, timeout_seconds=5)


async def test_a_column_tells_the_last_update_as_its_greatest_value(database: str) -> None:
    connector = opened("civil_affairs", database)
    assert isinstance(connector, Dated)
    try:
        sign = UpdateSign("registrations", "updated_at")
        assert await connector.last_update(sign) == LAST
        assert await connector.last_update(UpdateSign("registrations")) is None
        with pytest.raises(SourceUnavailable):
            await connector.last_update(UpdateSign("registrations", "no_such_column"))
    finally:
        await connector.close()


@pytest.fixture
def api() -> Iterator[DepartmentApi]:
    with serving(DepartmentApi(person_records([]))) as running:
        yield running


async def test_an_api_tells_it_in_a_header_of_a_head_request(api: DepartmentApi) -> None:
    connector = opened("public_security", {"url": api.url, "token": TOKEN})
    sign = UpdateSign("persons", path="/persons", header="Last-Modified")
    try:
        assert await connector.last_update(sign) is None  # the API sends no such header
        api.last_modified = "Mon, 30 Nov 2026 08:15:00 GMT"
        assert await connector.last_update(sign) == LAST
        assert [seen.method for seen in api.seen] == ["HEAD", "HEAD"]  # never a record
        assert isinstance(connector, GuardedConnector)
        for _ in range(connector.circuit.options.failures):  # its reads keep failing
            connector.circuit.failed()
        with pytest.raises(SourceUnavailable):  # the open circuit answers, without a call
            await connector.last_update(sign)
        assert len(api.seen) == 2
    finally:
        await connector.close()


@pytest.mark.parametrize(
    ("cycle", "age", "stale"),
    [
        (UpdateCycle.DAILY, datetime.timedelta(hours=47), False),
        (UpdateCycle.DAILY, datetime.timedelta(days=3), True),
        (UpdateCycle.REAL_TIME, datetime.timedelta(hours=2), True),
        (UpdateCycle.MONTHLY, datetime.timedelta(days=30), False),
        (UpdateCycle.IRREGULAR, datetime.timedelta(days=3000), False),
    ],
)
def test_a_resource_is_stale_once_older_than_its_cycle_allows(
    cycle: UpdateCycle, age: datetime.timedelta, stale: bool
) -> None:
    assert is_stale(cycle, LAST, LAST + age) is stale
    assert not is_stale(cycle, None, LAST + age)  # unknown is not judged


@pytest.fixture
def catalog(catalog_dir: Path) -> Catalog:
    return load_catalog(catalog_dir)


async def test_a_file_drop_is_as_fresh_as_its_last_load(catalog: Catalog, tmp_path: Path) -> None:
    staging = Staging(f"sqlite+aiosqlite:///{tmp_path / 'staging.db'}")
    await staging.prepare()
    watch = FreshnessWatch(lambda: catalog, {}, {"human_resources": staging})
    try:
        resource = "insurance_contribution"
        before = await watch.check()
        assert before[resource].last_update is None and not before[resource].stale
        path = write_csv(tmp_path / "参保缴费-2026-11.csv", contributions(3), header=CHINESE)
        stamp = await load_file(staging, catalog, resource, path)
        loaded = stamp.loaded_at.replace(tzinfo=UTC)
        monthly = await watch.check(now=loaded + datetime.timedelta(days=20))
        assert monthly[resource].last_update == loaded
        assert monthly[resource].cycle is UpdateCycle.MONTHLY and not monthly[resource].stale
        late = await watch.check(now=loaded + datetime.timedelta(days=40))
        assert late[resource].stale and watch.stale() == [resource]
        assert late[resource].age_seconds == datetime.timedelta(days=40).total_seconds()
    finally:
        await watch.close()


async def test_a_source_that_stops_answering_keeps_what_it_told(
    catalog_dir: Path, tmp_path: Path
) -> None:
    path = catalog_dir / "civil_affairs.yaml"
    department = yaml.safe_load(path.read_text(encoding="utf-8"))
    department["resources"][0]["updated_column"] = "updated_at"
    department["resources"][0]["table"] = "registrations"
    path.write_text(yaml.safe_dump(department, allow_unicode=True, sort_keys=False), "utf-8")
    catalog = load_catalog(catalog_dir)
    url = f"sqlite+aiosqlite:///{tmp_path / 'civil.db'}"
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.execute(sa.text("CREATE TABLE registrations (updated_at TIMESTAMP)"))
        await connection.execute(
            sa.text("INSERT INTO registrations VALUES (:at)"), {"at": LAST.replace(tzinfo=None)}
        )
    await engine.dispose()
    source = opened("civil_affairs", url)
    watch = FreshnessWatch(lambda: catalog, {"civil_affairs": source}, {})
    resource = department["resources"][0]["id"]
    try:
        found = await watch.check(now=LAST + datetime.timedelta(days=1))
        assert found[resource].last_update == LAST and not found[resource].stale
        (tmp_path / "civil.db").unlink()
        await source.close()
        later = await watch.check(now=LAST + datetime.timedelta(days=5))
        assert later[resource].last_update == LAST and later[resource].stale
    finally:
        await watch.close()
        await source.close()
