"""The inventory of sources (Art. 16) from real audit records: requests are served
(one source answers two systems, one fails, the rest are never asked), then the
inventory is taken — in process, and by the command the coordination office runs."""

from __future__ import annotations

import asyncio
import datetime
import json
from pathlib import Path

import httpx
import pytest

from inventory import take_inventory
from settings import Settings
from tests.conftest import Gateway, serving
from tests.processes import run

pytestmark = pytest.mark.anyio
ENTERPRISES = "{ enterprises(first: 2) { edges { node { name } } } }"
TAXES = "{ taxRegistrations(first: 2) { edges { node { creditCode } } } }"


@pytest.fixture
def gone_taxation(settings: Settings, tmp_path: Path) -> Settings:
    """The demo, its taxation database gone (a read-only SQLite file that is not there)."""
    missing = f"sqlite+aiosqlite:///file:{tmp_path / 'gone.db'}?mode=ro&uri=true"
    return settings.model_copy(update={"sources": {**settings.sources, "taxation": missing}})


async def served(gateway: Gateway) -> list[httpx.Response]:
    """Enterprises for two systems, and taxes (whose source is gone) for one: audited."""
    responses = [
        await gateway.query(ENTERPRISES, system="marriage-registry", purpose="work_reference"),
        await gateway.query(ENTERPRISES, system="tax-admin", purpose="work_reference"),
        await gateway.query(ENTERPRISES, system="tax-admin", purpose="work_reference"),
        await gateway.query(TAXES, system="tax-admin", purpose="work_reference"),
    ]
    for response in responses:
        await gateway.audit(response)
    return responses


async def test_the_inventory_counts_callers_errors_and_finds_zombies(
    gone_taxation: Settings,
) -> None:
    async with serving(gone_taxation) as gateway:
        responses = await served(gateway)
        codes = [e["extensions"]["code"] for e in responses[-1].json().get("errors", [])]
        assert codes == ["SOURCE_UNAVAILABLE"]
        platform = gateway.platform
        now = datetime.datetime.now(datetime.UTC)
        found = await take_inventory(
            platform.store, platform.catalog, platform.freshness.current, now=now, idle_days=90
        )
        # A year on, nothing was read within 90 days: every source is a candidate.
        later = now + datetime.timedelta(days=365)
        aged = await take_inventory(platform.store, platform.catalog, {}, now=later, idle_days=90)
    by_source = {source.source: source for source in found}
    assert sorted(by_source) == sorted({d.source for d in platform.catalog.departments})
    market = by_source["market_regulation"]
    assert (len(market.callers), market.requests, market.error_rate) == (2, 3, 0.0)
    assert market.last_read is not None and now - market.last_read < datetime.timedelta(minutes=5)
    assert market.retire_because == []
    taxation = by_source["taxation"]
    assert (len(taxation.callers), taxation.requests, taxation.error_rate) == (1, 1, 1.0)
    never = {name for name, source in by_source.items() if source.retire_because}
    assert never == set(by_source) - {"market_regulation", "taxation"}
    assert all(by_source[name].retire_because == ["not read in 90 days"] for name in never)
    assert all(source.retire_because == ["not read in 90 days"] for source in aged)


async def test_the_command_prints_the_inventory_as_json_and_as_a_table(
    settings: Settings,
) -> None:
    async with serving(settings) as gateway:
        await served(gateway)
    env = {"GOV_SHARE_DATA_DIR": str(settings.data_dir)}
    printed = await asyncio.to_thread(run, "-m", "inventory", "--json", env=env)
    assert printed.returncode == 0, printed.stderr
    by_source = {found["source"]: found for found in json.loads(printed.stdout)}
    assert by_source["market_regulation"]["callers_30_days"] == 2
    assert by_source["market_regulation"]["retirement_candidate"] is False
    assert by_source["human_resources"]["retire_because"] == ["not read in 90 days"]
    table = await asyncio.to_thread(run, "-m", "inventory", "--idle-days", "30", env=env)
    assert table.returncode == 0, table.stderr
    header, *rows = table.stdout.splitlines()
    assert header.split()[:3] == ["source", "last", "read"]
    market_row = next(row for row in rows if row.startswith("market_regulation "))
    assert market_row.endswith("  no")
    assert next(row for row in rows if row.startswith("human_resources ")).endswith(
        "not read in 30 days"
    )
