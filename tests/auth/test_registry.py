"""Authentication: a key checks out against the store, and a server trusts a key it
checked for `cache_seconds` only, so a revoked key stops working within that time."""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from auth import KeyRegistry
from auth.keys import hash_key
from auth.lifecycle import System, issue, listed
from auth.lifecycle import revoke as lifecycle_revoke
from errors import Unauthenticated
from store import api_keys, store_engine, upgrade

pytestmark = pytest.mark.anyio


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'platform.db'}"
    await asyncio.to_thread(upgrade, url)
    made = store_engine(url)
    yield made
    await made.dispose()


def lookups(engine: AsyncEngine) -> list[str]:
    seen: list[str] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _statement(_connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "FROM api_keys" in statement:
            seen.append(statement)

    return seen


async def register(registry: KeyRegistry) -> str:
    return await registry.register(
        "11410581005000006G", "林州市民政局", "marriage-registry", "婚姻登记系统",
        {"township": "开元街道"},
    )  # fmt: skip


async def revoke(engine: AsyncEngine, key: str) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            sa.update(api_keys)
            .where(api_keys.c.key_hash == hash_key(key))
            .values(revoked_at=datetime.datetime.now(datetime.UTC))
        )


async def test_a_checked_key_is_trusted_until_the_cache_time_runs_out(
    engine: AsyncEngine,
) -> None:
    clock = Clock()
    registry = KeyRegistry(engine, demo=False, cache_seconds=5, clock=clock)
    key = await register(registry)
    seen = lookups(engine)

    first = await registry.authenticate(f"Bearer {key}", "mz-0231")
    second = await registry.authenticate(f"Bearer {key}", "mz-0988")
    assert len(seen) == 1  # the second request did not go to the store
    assert (first.department, first.system, first.attributes) == (
        "11410581005000006G",
        "marriage-registry",
        (("township", "开元街道"),),
    )
    assert (first.operator, second.operator) == ("mz-0231", "mz-0988")  # per request

    await revoke(engine, key)
    clock.now += 4.9
    assert (await registry.authenticate(f"Bearer {key}", None)).system == "marriage-registry"
    clock.now += 0.1
    with pytest.raises(Unauthenticated):
        await registry.authenticate(f"Bearer {key}", None)
    assert len(seen) == 2


async def test_a_key_that_does_not_check_out_is_looked_up_every_time(
    engine: AsyncEngine,
) -> None:
    registry = KeyRegistry(engine, demo=False, cache_seconds=5, clock=Clock())
    seen = lookups(engine)
    for _ in range(3):
        with pytest.raises(Unauthenticated):
            await registry.authenticate("Bearer not-a-key", None)
    assert len(seen) == 3


async def test_without_a_cache_time_every_request_looks_its_key_up(
    engine: AsyncEngine,
) -> None:
    registry = KeyRegistry(engine, demo=False, cache_seconds=0, clock=Clock())
    key = await register(registry)
    seen = lookups(engine)
    await registry.authenticate(f"Bearer {key}", None)
    await revoke(engine, key)
    with pytest.raises(Unauthenticated):
        await registry.authenticate(f"Bearer {key}", None)
    assert len(seen) == 2


async def test_the_least_recently_used_key_is_forgotten_first(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("auth.registry.CACHED_KEYS", 2)
    registry = KeyRegistry(engine, demo=False, cache_seconds=60, clock=Clock())
    first, second, third = [await register(registry) for _ in range(3)]
    seen = lookups(engine)
    for key in (first, second, first, third):  # third pushes out second, not first
        await registry.authenticate(f"Bearer {key}", None)
    assert len(seen) == 3
    await registry.authenticate(f"Bearer {first}", None)
    assert len(seen) == 3
    await registry.authenticate(f"Bearer {second}", None)
    assert len(seen) == 4


async def test_a_remembered_key_stops_working_when_it_expires(engine: AsyncEngine) -> None:
    """However long the cache time, a key is trusted no longer than its expiry."""
    registry = KeyRegistry(engine, demo=False, cache_seconds=60)
    expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=1.5)
    system = System("11410581005000006G", "林州市民政局", "archive", "档案系统")
    issued = await issue(engine, system, operator="ops-li", expires_at=expires)
    seen = lookups(engine)
    for _ in range(2):
        await registry.authenticate(f"Bearer {issued.key}", None)
    assert len(seen) == 1  # remembered
    await asyncio.sleep((expires - datetime.datetime.now(datetime.UTC)).total_seconds())
    with pytest.raises(Unauthenticated):
        await registry.authenticate(f"Bearer {issued.key}", None)
    assert len(seen) == 2


async def test_a_revoked_key_stops_working_within_the_cache_time(engine: AsyncEngine) -> None:
    clock = Clock()
    registry = KeyRegistry(engine, demo=False, cache_seconds=5, clock=clock)
    key = await register(registry)
    await registry.authenticate(f"Bearer {key}", None)
    [listed_key] = await listed(engine)
    await lifecycle_revoke(engine, listed_key.id, reason="leaked", operator="ops-li")
    clock.now += 4.9
    assert (await registry.authenticate(f"Bearer {key}", None)).system == "marriage-registry"
    clock.now += 0.1
    with pytest.raises(Unauthenticated):
        await registry.authenticate(f"Bearer {key}", None)
