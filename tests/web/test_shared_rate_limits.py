"""Rate limits shared through Redis: two servers spend from one budget, and a server
that loses Redis mid-run keeps serving on its own counts, says so in /readyz and
/metrics, and shares again once Redis is back.

The shared Redis on 6379 is only written under a key prefix of the test's own, and
cleaned of it; the outage is a Redis server of the test's own, killed and started again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as redis

from auth import demo_key
from settings import Settings
from tests.conftest import SEED, Gateway, serving, source_urls
from tests.processes import free_port, redis_server
from tests.processes import serving as serving_process

pytestmark = pytest.mark.anyio

CIVIL_AFFAIRS = "11410581005000006G"
RATE = {f"{CIVIL_AFFAIRS}/marriage-registry": "3/hour"}
NAMES = "{ enterprises(first: 1) { edges { node { name } } } }"
HEADERS = {
    "Authorization": f"Bearer {demo_key(SEED, 'marriage-registry')}",
    "X-Purpose": "administrative_basis",
}


async def status(client: httpx.AsyncClient, base: str = "") -> int:
    response = await client.post(f"{base}/graphql", json={"query": NAMES}, headers=HEADERS)
    return response.status_code


@contextlib.asynccontextmanager
async def own_prefix(url: str) -> AsyncIterator[str]:
    """A key prefix no one else writes under, and its keys deleted afterwards."""
    prefix = f"gov-share-test:{uuid.uuid4().hex}"
    try:
        yield prefix
    finally:
        client = redis.from_url(url)
        async with client:
            async for key in client.scan_iter(match=f"{prefix}*"):
                await client.delete(key)


@pytest.mark.slow
async def test_two_server_processes_spend_from_one_budget(
    tmp_path: Path, demo_dir: Path, redis_url: str
) -> None:
    async with own_prefix(redis_url) as prefix:
        env = {
            "GOV_SHARE_SOURCES": json.dumps(source_urls(demo_dir)),
            "GOV_SHARE_REDIS_URL": redis_url,
            "GOV_SHARE_REDIS_CHANNEL": prefix,
            "GOV_SHARE_RATE_LIMIT_PREFIX": prefix,
            "GOV_SHARE_RATE_LIMIT_OVERRIDES": json.dumps(RATE),
        }
        with contextlib.ExitStack() as servers:
            first, second = (
                servers.enter_context(
                    serving_process(
                        "--demo",
                        env={**env, "GOV_SHARE_DATA_DIR": str(tmp_path / name)},
                        log=tmp_path / f"{name}.log",
                    )
                )
                for name in ("first", "second")
            )
            async with httpx.AsyncClient() as client:
                for base in (first, second):
                    ready = (await client.get(f"{base}/readyz")).json()
                    assert ready["rate_limits"] == "shared", ready
                turns = [first, second, first, second, first]
                assert [await status(client, base) for base in turns] == [200, 200, 200, 429, 429]


async def eventually(check: Callable[[], Awaitable[bool]]) -> None:
    for _ in range(200):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("it never came to that")


async def readiness(gateway: Gateway) -> dict[str, Any]:
    return dict((await gateway.client.get("/readyz")).json())


async def shared_gauge(gateway: Gateway) -> str:
    scraped = (await gateway.client.get("/metrics")).text
    [line] = [line for line in scraped.splitlines() if line.startswith("gov_share_rate_limits_")]
    return line


async def test_redis_lost_mid_run_leaves_each_server_counting_alone(
    settings: Settings, tmp_path: Path
) -> None:
    port = free_port()
    shared = settings.model_copy(
        update={
            "redis_url": f"redis://127.0.0.1:{port}/0",
            "rate_limit_overrides": RATE,
            "policy_refresh_seconds": 0.2,  # the grant announcements come back as quickly
        }
    )
    other = shared.model_copy(update={"data_dir": tmp_path / "other"})
    with redis_server(port, tmp_path) as lost:
        async with serving(shared) as one, serving(other) as two:
            for gateway in (one, two):
                await eventually(lambda g=gateway: _counting(g, "shared"))
            assert await shared_gauge(one) == "gov_share_rate_limits_shared 1.0"
            assert [await status(one.client), await status(two.client)] == [200, 200]

            lost.kill()
            lost.wait()
            served = [await status(one.client) for _ in range(4)]
            assert served == [200, 200, 200, 429], "its own count, from nothing, to its rate"
            assert await status(two.client) == 200, "the other server counts alone too"
            ready = await readiness(one)
            assert ready["status"] == "degraded" and ready["rate_limits"] == "local_fallback"
            assert any(
                problem.startswith("rate limits are counted by this server alone (Redis: ")
                for problem in ready["problems"]
            ), ready
            assert await shared_gauge(one) == "gov_share_rate_limits_shared 0.0"
            assert "redis://" not in json.dumps(ready)

            with redis_server(port, tmp_path):  # back, and empty
                for gateway in (one, two):
                    await eventually(lambda g=gateway: _ready(g))
                assert await shared_gauge(one) == "gov_share_rate_limits_shared 1.0"
                turns = [one, two, one, two]
                assert [await status(g.client) for g in turns] == [200, 200, 200, 429]


async def _counting(gateway: Gateway, counting: str) -> bool:
    return (await readiness(gateway))["rate_limits"] == counting


async def _ready(gateway: Gateway) -> bool:
    ready = await readiness(gateway)
    return ready["status"] == "ready" and ready["rate_limits"] == "shared"
