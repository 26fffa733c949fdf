"""One slow or dead department never stalls the rest: through the whole platform, a
source that is slow (a REST API that takes too long), stopped (a PostgreSQL database
that takes no connections) or hung (a MariaDB table another session holds locked)
fails its own fields with SOURCE_UNAVAILABLE while the other departments' fields
answer; its transient failures are retried within its budget, and a source that keeps
failing is not asked again (its circuit opens) until it answers a probe.

Calls are counted where the source is: by the department API, or by a TCP proxy in
front of PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sqlite3
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncmy
import asyncpg
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from catalog import load_catalog
from connectors import SOURCE_KINDS, CircuitOptions, RetryOptions
from demo import DemoScale, generate_demo_data
from settings import ROOT, Settings
from tests.conftest import SEED, Gateway, serving
from tests.department_api import TOKEN, DepartmentApi, person_records
from tests.department_api import serving as api_serving
from tests.engines import MARIADB, POSTGRES, mariadb_database, postgres_database
from tests.tcp_proxy import proxy
from tests.test_rest_source import SOURCE_SETTING, rest_catalog

pytestmark = pytest.mark.anyio

BOTH = (
    "{ persons(first: 2) { edges { node { name } } } "
    "enterprises(first: 2) { edges { node { creditCode name } } } }"
)
CATALOG = load_catalog(ROOT / "catalog" / "departments")
README = (ROOT / "README.md").read_text(encoding="utf-8")
SCALE = DemoScale(persons=60, enterprises=30)


def failed_fields(response: httpx.Response) -> dict[str, str]:
    """The top-level fields that failed, with their error codes; the others must answer."""
    assert response.status_code == 200, response.text
    body = response.json()
    failed = {e["path"][0]: e["extensions"]["code"] for e in body.get("errors", [])}
    for field, value in body["data"].items():
        assert (value is None) == (field in failed), body
        if value is not None:
            assert len(value["edges"]) == 2
    return failed


async def metric(gateway: Gateway, name: str, **labels: str) -> float:
    """One sample of /metrics, as the monitoring scrapes it."""
    text = (await gateway.client.get("/metrics")).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    raise AssertionError(f"no sample {name} {labels}")


async def circuit(gateway: Gateway, source: str) -> float:
    return await metric(gateway, "gov_share_source_circuit_state", source=source)


# A department API that is slow, busy or failing.


@pytest.fixture
def api(demo_dir: Path) -> Iterator[DepartmentApi]:
    with sqlite3.connect(demo_dir / "public_security.db") as connection:
        connection.row_factory = sqlite3.Row
        rows = connection.execute("SELECT * FROM person ORDER BY id_number").fetchall()
    with api_serving(DepartmentApi(person_records([dict(row) for row in rows]))) as running:
        yield running


@pytest.fixture
async def over_api(
    settings: Settings, catalog_dir: Path, api: DepartmentApi
) -> AsyncIterator[Callable[[dict[str, Any]], Awaitable[Gateway]]]:
    """Open the platform with persons from the API, set with the test's source options."""
    async with contextlib.AsyncExitStack() as stack:

        async def opened(options: dict[str, Any]) -> Gateway:
            setting = {**SOURCE_SETTING, "url": api.url, "token": TOKEN, **options}
            changed = settings.model_copy(
                update={
                    "sources": {**settings.sources, "public_security": setting},
                    "catalog_dir": rest_catalog(catalog_dir),
                }
            )
            return await stack.enter_async_context(serving(changed))

        yield opened


OverApi = Callable[[dict[str, Any]], Awaitable[Gateway]]


async def test_a_slow_api_fails_its_own_fields_and_the_rest_answer(
    over_api: OverApi, api: DepartmentApi
) -> None:
    gateway = await over_api({"timeout_seconds": 0.3})
    api.delay_seconds = 3
    response = await gateway.query(BOTH)
    assert failed_fields(response) == {"persons": "SOURCE_UNAVAILABLE"}
    assert len(api.seen) == 1  # a timeout used the read's time: never retried
    assert (
        await metric(
            gateway, "gov_share_source_failures_total", source="public_security", failure="timeout"
        )
        == 1
    )
    assert (
        await metric(gateway, "gov_share_source_read_seconds_count", source="market_regulation")
        >= 1
    )


async def test_a_busy_api_is_asked_again_and_answers(over_api: OverApi, api: DepartmentApi) -> None:
    gateway = await over_api({"retries": {"backoff_seconds": 0}})
    api.busy = 1
    assert failed_fields(await gateway.query(BOTH)) == {}
    assert len(api.seen) == 2
    assert await metric(gateway, "gov_share_source_retries_total", source="public_security") == 1


async def test_retries_of_a_failing_api_stay_within_its_budget(
    over_api: OverApi, api: DepartmentApi
) -> None:
    gateway = await over_api(
        {
            "retries": {"most": 2, "budget": 0.5, "reserve": 0, "backoff_seconds": 0},
            "circuit": {"failures": 1000},
        }
    )
    api.busy = 1_000_000
    for _ in range(10):
        assert failed_fields(await gateway.query(BOTH)) == {"persons": "SOURCE_UNAVAILABLE"}
    # Ten reads, and retries of at most half as many: not the 20 that `most` would allow.
    assert len(api.seen) == 15
    assert await metric(gateway, "gov_share_source_retries_total", source="public_security") == 5
    assert await metric(gateway, "gov_share_source_calls_total", source="public_security") == 15


async def test_an_open_circuit_fails_fast_without_asking_the_api(
    over_api: OverApi, api: DepartmentApi
) -> None:
    gateway = await over_api(
        {"circuit": {"failures": 3, "cool_down_seconds": 60}, "retries": {"most": 0}}
    )
    api.busy = 1_000_000
    for _ in range(3):
        assert failed_fields(await gateway.query(BOTH)) == {"persons": "SOURCE_UNAVAILABLE"}
    assert len(api.seen) == 3 and await circuit(gateway, "public_security") == 2
    response = await gateway.query(BOTH)
    assert failed_fields(response) == {"persons": "SOURCE_UNAVAILABLE"}
    assert "not asked again for a while" in response.text
    assert len(api.seen) == 3  # the API was not called
    assert (
        await metric(
            gateway,
            "gov_share_source_failures_total",
            source="public_security",
            failure="circuit_open",
        )
        == 1
    )
    ready = (await gateway.client.get("/readyz")).json()
    assert ready["status"] == "degraded" and ready["sources"]["public_security"] == "unavailable"
    assert any("public_security" in p and "circuit is open" in p for p in ready["problems"])
    assert len(api.seen) == 3  # nor by readiness


# Department databases that stop or hang.


async def load(urls: dict[str, str]) -> None:
    departments = [d for d in CATALOG.departments if d.source in urls]
    await asyncio.to_thread(generate_demo_data, departments, urls, seed=SEED, scale=SCALE)


@pytest.mark.slow
async def test_a_stopped_postgresql_source_opens_its_circuit_and_closes_when_back(
    settings: Settings,
) -> None:
    async for url in postgres_database():
        await load({"public_security": url})
        database = urllib.parse.urlsplit(url).path.lstrip("/")
        async with proxy(POSTGRES["host"], POSTGRES["port"]) as through:
            proxied = url.replace(f":{POSTGRES['port']}/", f":{through.port}/")
            setting = {
                "url": proxied,
                "timeout_seconds": 2,
                "circuit": {"failures": 2, "cool_down_seconds": 1},
            }
            sources = {**settings.sources, "public_security": setting}
            async with serving(settings.model_copy(update={"sources": sources})) as gateway:
                assert failed_fields(await gateway.query(BOTH)) == {}
                await _allow_connections(database, allowed=False)

                for _ in range(2):
                    failed = failed_fields(await gateway.query(BOTH))
                    assert failed == {"persons": "SOURCE_UNAVAILABLE"}
                assert await circuit(gateway, "public_security") == 2
                calls = through.connections
                failed = failed_fields(await gateway.query(BOTH))
                assert failed == {"persons": "SOURCE_UNAVAILABLE"}
                assert through.connections == calls  # failed fast: no connection tried

                await _allow_connections(database, allowed=True)
                await asyncio.sleep(1.2)  # the cool-down
                assert await circuit(gateway, "public_security") == 1
                assert failed_fields(await gateway.query(BOTH)) == {}  # the probe answers
                assert await circuit(gateway, "public_security") == 0
                assert through.connections > calls

                # A network that stops carrying packets: connecting and reading hang,
                # and the read gives up at its timeout.
                through.hang()
                failed = failed_fields(await gateway.query(BOTH))
                assert failed == {"persons": "SOURCE_UNAVAILABLE"}
                timeouts = await metric(
                    gateway,
                    "gov_share_source_failures_total",
                    source="public_security",
                    failure="timeout",
                )
                assert timeouts == 1


async def _allow_connections(database: str, *, allowed: bool) -> None:
    """Stop (or start again) one database of the shared server: it refuses new
    connections, and its sessions are ended."""
    admin = await asyncpg.connect(**POSTGRES)  # type: ignore[arg-type]
    try:
        await admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS {str(allowed).lower()}')
        if not allowed:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
                database,
            )
    finally:
        await admin.close()


@pytest.mark.slow
async def test_a_hung_mariadb_source_times_out_and_the_rest_answer(settings: Settings) -> None:
    async for url in mariadb_database():
        await load({"market_regulation": url})
        database = urllib.parse.urlsplit(url).path.lstrip("/")
        setting = {"url": url, "timeout_seconds": 1}
        sources = {**settings.sources, "market_regulation": setting}
        async with serving(settings.model_copy(update={"sources": sources})) as gateway:
            assert failed_fields(await gateway.query(BOTH)) == {}
            locker = await asyncmy.connect(**MARIADB, database=database)
            try:
                async with locker.cursor() as cursor:
                    await cursor.execute("LOCK TABLES enterprise WRITE")
                response = await gateway.query(BOTH)
                assert failed_fields(response) == {"enterprises": "SOURCE_UNAVAILABLE"}
                assert (
                    await metric(
                        gateway,
                        "gov_share_source_failures_total",
                        source="market_regulation",
                        failure="timeout",
                    )
                    == 1
                )
                async with locker.cursor() as cursor:
                    await cursor.execute("UNLOCK TABLES")
            finally:
                locker.close()
            assert failed_fields(await gateway.query(BOTH)) == {}
            assert await circuit(gateway, "market_regulation") == 0


def test_the_readme_shows_the_guards_options_with_their_defaults() -> None:
    """The options block of *When a source is slow or down* is valid, and shows what
    leaving an option out gives."""
    section = README.split("### When a source is slow or down")[1].split("\n## ")[0]
    shown = json.loads(re.search(r"```text\n(.*?)\n```", section, re.S)[1])["taxation"]  # type: ignore[index]
    _, options = SOURCE_KINDS.options("taxation", shown, timeout_seconds=5)
    _, defaults = SOURCE_KINDS.options("taxation", shown["url"], timeout_seconds=5)
    assert options == defaults
    assert options.retries == RetryOptions() and options.circuit == CircuitOptions()


async def test_a_refusal_is_not_asked_again(over_api: OverApi, api: DepartmentApi) -> None:
    gateway = await over_api({"token": "revoked", "retries": {"backoff_seconds": 0}})
    assert failed_fields(await gateway.query(BOTH)) == {"persons": "SOURCE_UNAVAILABLE"}
    assert len(api.seen) == 1  # 401: it would answer the same again
    assert (
        await metric(
            gateway, "gov_share_source_failures_total", source="public_security", failure="error"
        )
        == 1
    )
