"""Shared fixtures: demo department databases generated once per session, and a
platform served in-process through its real ASGI app.

Before anything builds settings, the tests get a data directory of their own and lose
whatever `GOV_SHARE_*` the developer's shell holds: a test never reads or writes the
checkout's `var/` (a demo served there left a checkpoint file a test then read), and
the processes tests start inherit the same environment. A test that needs other
settings passes them itself (`Settings(...)`, monkeypatch, or a subprocess's `env`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as redis
from redis.exceptions import RedisError

from auth import demo_key
from catalog import load_catalog
from connectors import SOURCE_KINDS, SourceKinds
from demo import DemoScale, generate_demo_data
from platform_setup import Platform
from settings import ROOT, Settings
from tests.engines import unreachable
from web.app import create_app

SEED = 20201
REDIS_URL = "redis://127.0.0.1:6379/0"


def _isolated_data_dir() -> Path:
    for name in [name for name in os.environ if name.upper().startswith("GOV_SHARE_")]:
        del os.environ[name]
    directory = Path(tempfile.mkdtemp(prefix="gov-share-tests-"))
    os.environ["GOV_SHARE_DATA_DIR"] = str(directory)
    os.environ["GOV_SHARE_CALENDAR_DIR"] = str(_calendar_of_known_years(directory))
    return directory


def _calendar_of_known_years(directory: Path) -> Path:
    """A working-day calendar that knows the years after `chinese-calendar`'s (weekends
    only, no holidays), so that whether a server is ready does not depend on the day the
    tests run: from the last days of a year whose successor nobody has published, a real
    server says `degraded` (the calendar is provisional), and a test of something else
    would fail for it. The calendar's own tests give their files, or none."""
    calendar = directory / "calendar"
    calendar.mkdir()
    for year in range(2027, 2041):
        (calendar / f"{year}.json").write_text(f'{{"year": {year}, "days": []}}')
    return calendar


DATA_DIR = _isolated_data_dir()


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(DATA_DIR, ignore_errors=True)


SOURCES = (
    "civil_affairs",
    "human_resources",
    "licence_office",
    "market_regulation",
    "natural_resources",
    "public_security",
    "taxation",
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Path:
    """A copy of the real catalog for a test to break."""
    shutil.copytree(ROOT / "catalog" / "departments", tmp_path, dirs_exist_ok=True)
    return tmp_path


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("sources")
    catalog = load_catalog(ROOT / "catalog" / "departments")
    urls = {name: f"sqlite:///{directory / name}.db" for name in SOURCES}
    generate_demo_data(
        catalog.departments, urls, seed=SEED, scale=DemoScale(persons=3000, enterprises=1100)
    )
    return directory


def source_urls(demo_dir: Path) -> dict[str, str]:
    return {
        name: f"sqlite+aiosqlite:///file:{demo_dir / name}.db?mode=ro&uri=true" for name in SOURCES
    }


@pytest.fixture
def settings(tmp_path: Path, demo_dir: Path) -> Settings:
    return Settings(demo=True, seed=SEED, data_dir=tmp_path, sources=source_urls(demo_dir))


@dataclass
class Gateway:
    """A running platform and a client for it, for tests that act as a department would."""

    client: httpx.AsyncClient
    platform: Platform

    async def query(
        self,
        query: str,
        *,
        system: str | None = "marriage-registry",
        purpose: str | None = "administrative_basis",
        variables: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        sent = {"Accept": "application/graphql-response+json", **(headers or {})}
        if system is not None:
            sent["Authorization"] = f"Bearer {demo_key(SEED, system)}"
        if purpose is not None:
            sent["X-Purpose"] = purpose
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = variables
        return await self.client.post("/graphql", json=body, headers=sent)

    async def audit(self, response: httpx.Response) -> dict[str, Any]:
        record = await self.platform.audit.find(response.headers["x-request-id"])
        assert record is not None, "every request must leave an audit record"
        return record


@pytest.fixture
async def gateway(settings: Settings) -> AsyncIterator[Gateway]:
    async with serving(settings) as running:
        yield running


@contextlib.asynccontextmanager
async def serving(
    settings: Settings, kinds: SourceKinds = SOURCE_KINDS, *, peer: str = "10.1.2.3"
) -> AsyncIterator[Gateway]:
    """The real app, started through its lifespan, and a client that reaches it in process
    from the address `peer`; `kinds` may add a kind of source, such as the in-memory
    connector."""
    app = create_app(settings, kinds)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=(peer, 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://gov-share") as client:
            yield Gateway(client, app.state.platform)


@pytest.fixture
async def redis_url() -> str:
    """The Redis server (127.0.0.1:6379); with CI=true an unreachable one fails the test,
    elsewhere it is skipped. Tests that share it use channels of their own."""
    client = redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await client.ping()
    except (RedisError, OSError) as error:
        unreachable("Redis", error)
    finally:
        await client.aclose()
    return REDIS_URL


@pytest.fixture
def department_db(demo_dir: Path) -> Iterator[Any]:
    """Direct SQL on the department databases, to compare responses with the source."""
    connections: dict[str, sqlite3.Connection] = {}

    def query(source: str, sql: str, *params: Any) -> list[sqlite3.Row]:
        if source not in connections:
            connections[source] = sqlite3.connect(demo_dir / f"{source}.db")
            connections[source].row_factory = sqlite3.Row
        return connections[source].execute(sql, params).fetchall()

    yield query
    for connection in connections.values():
        connection.close()
