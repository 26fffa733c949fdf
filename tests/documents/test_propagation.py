"""Two server processes on one platform store see a system's mode change and a manifest
registered with `python -m documents` on another: on PostgreSQL with Redis announcing
them (the periodic check set to an hour, so only the messages can bring them), and on
SQLite alone, by polling. Nothing here times the propagation."""

from __future__ import annotations

import hashlib
import json

import httpx
import pytest

from auth import demo_key
from tests.conftest import SEED
from tests.grants.test_propagation import (
    Platform,
    eventually,
    files,
    on_postgres_and_redis,
    on_sqlite_alone,
)

pytestmark = [pytest.mark.slow, pytest.mark.anyio]
__all__ = ["files", "on_postgres_and_redis", "on_sqlite_alone"]  # fixtures

SYSTEM = "11410581005000006G/marriage-registry"
TEXT = "query Names { enterprises(first: 1) { edges { node { name } } } }"
ACCOUNTABLE = ("--operator", "gs-admin", "--reason", "go-live")


async def sent(base: str, body: dict[str, str]) -> httpx.Response:
    headers = {
        "Authorization": f"Bearer {demo_key(SEED, 'marriage-registry')}",
        "X-Purpose": "administrative_basis",
    }
    async with httpx.AsyncClient() as client:
        return await client.post(f"{base}/graphql", json=body, headers=headers)


async def on_both(bases: tuple[str, str], body: dict[str, str], status: int) -> None:
    async def there() -> bool:
        return all([(await sent(base, body)).status_code == status for base in bases])

    await eventually(there)


async def a_mode_and_a_registration(platform: Platform) -> None:
    manifest = platform.tmp_path / "manifest.json"
    identifier = hashlib.sha256(TEXT.encode()).hexdigest()
    operation = {"id": identifier, "name": "Names", "type": "query", "body": TEXT}
    manifest.write_text(
        json.dumps(
            {"format": "apollo-persisted-query-manifest", "version": 1, "operations": [operation]}
        )
    )
    with platform.two_servers() as bases:
        await on_both(bases, {"query": TEXT}, 200)
        mode = ("-m", "documents", "mode", "--system", SYSTEM, "--mode", "persisted-only")
        await platform.policies(*mode, *ACCOUNTABLE)
        await on_both(bases, {"query": TEXT}, 400)
        for base in bases:
            refused = (await sent(base, {"query": TEXT})).json()
            assert refused["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_REQUIRED"
        register = ("-m", "documents", "register", "--system", SYSTEM, "--manifest", str(manifest))
        await platform.policies(*register, *ACCOUNTABLE)
        for base in bases:  # by id at once: a miss by id is never remembered
            assert (await sent(base, {"documentId": f"sha256:{identifier}"})).status_code == 200
        await on_both(bases, {"query": TEXT.replace(" ", "\n")}, 200)


async def test_two_servers_on_postgresql_follow_through_redis(
    on_postgres_and_redis: Platform,
) -> None:
    await a_mode_and_a_registration(on_postgres_and_redis)


async def test_two_servers_on_sqlite_follow_by_polling(on_sqlite_alone: Platform) -> None:
    await a_mode_and_a_registration(on_sqlite_alone)
