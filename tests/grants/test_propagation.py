"""Two server processes on one platform store follow the same changes to the same
policy version: a rule file edited, a grant made and a grant revoked with
`python -m policies`, as an admin does — on PostgreSQL with Redis announcing the
grants (the periodic check set to an hour, so only the watcher and the messages can
bring the changes), and on SQLite alone, by polling.

The waits are generous and nothing here times the propagation: bench/propagation.py
measures it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from auth import demo_key
from settings import ROOT
from tests.conftest import SEED, source_urls
from tests.engines import drop_audit_roles, postgres_database
from tests.processes import run, serving

# Slow: leave out with -m 'not slow' (README); CI runs it.
pytestmark = [pytest.mark.slow, pytest.mark.anyio]

EDUCATION = "11410581005000008N"
PHONES = "{ persons(first: 3) { edges { node { phone } } } }"
PHONE_RULE = f"p, {EDUCATION}, person.phone, read_clear, business_collaboration\n"
GRANT = (
    *("-m", "policies", "grant", "--consumer", EDUCATION, "--resource", "person"),
    *("--items", "phone", "--action", "read_clear", "--purpose", "business_collaboration"),
    *("--reference", "林公数〔2026〕12号", "--operator", "gs-admin", "--reason", "test"),
)


@dataclass
class Platform:
    """What the two servers share: the store, the files, and Redis if any."""

    env: dict[str, str]
    policy_dir: Path
    tmp_path: Path

    @contextlib.contextmanager
    def two_servers(self) -> Iterator[tuple[str, str]]:
        with contextlib.ExitStack() as servers:
            bases = [
                servers.enter_context(
                    serving(
                        "--demo",
                        env={**self.env, "GOV_SHARE_DATA_DIR": str(self.tmp_path / name)},
                        log=self.tmp_path / f"{name}.log",
                    )
                )
                for name in ("first", "second")
            ]
            yield bases[0], bases[1]

    async def policies(self, *arguments: str) -> str:
        """`python -m policies …` as an admin runs it, on the same store (and Redis)."""
        env = {**self.env, "GOV_SHARE_DATA_DIR": str(self.tmp_path / "first")}
        done = await asyncio.to_thread(run, *arguments, env=env)
        assert done.returncode == 0, done.stderr
        return done.stdout


@pytest.fixture
def files(tmp_path: Path, demo_dir: Path) -> dict[str, str]:
    """Copies of the rule files and the catalog both servers read, and the session's
    demo databases as their sources."""
    shutil.copytree(ROOT / "catalog" / "departments", tmp_path / "catalog")
    shutil.copytree(ROOT / "policies" / "rules", tmp_path / "policies" / "rules")
    shutil.copy(ROOT / "policies" / "model.conf", tmp_path / "policies" / "model.conf")
    return {
        "GOV_SHARE_CATALOG_DIR": str(tmp_path / "catalog"),
        "GOV_SHARE_POLICY_DIR": str(tmp_path / "policies"),
        "GOV_SHARE_SOURCES": json.dumps(source_urls(demo_dir)),
    }


@pytest.fixture
async def on_postgres_and_redis(
    files: dict[str, str], tmp_path: Path, redis_url: str
) -> AsyncIterator[Platform]:
    prefix = f"gs_t{uuid.uuid4().hex[:10]}_audit"
    try:
        async for url in postgres_database():
            env = {
                **files,
                "GOV_SHARE_PLATFORM_STORE_URL": url,
                "GOV_SHARE_AUDIT_ROLE_PREFIX": prefix,
                "GOV_SHARE_REDIS_URL": redis_url,
                "GOV_SHARE_REDIS_CHANNEL": f"gov-share-test:{uuid.uuid4().hex}",
                "GOV_SHARE_POLICY_REFRESH_SECONDS": "3600",
            }
            yield Platform(env, tmp_path / "policies", tmp_path)
    finally:
        await drop_audit_roles(prefix)


@pytest.fixture
def on_sqlite_alone(files: dict[str, str], tmp_path: Path) -> Platform:
    env = {
        **files,
        "GOV_SHARE_PLATFORM_STORE_URL": f"sqlite+aiosqlite:///{tmp_path / 'platform.db'}",
        "GOV_SHARE_POLICY_REFRESH_SECONDS": "0.5",
    }
    return Platform(env, tmp_path / "policies", tmp_path)


async def phones(base: str) -> list[str]:
    headers = {
        "Authorization": f"Bearer {demo_key(SEED, 'school-enrolment')}",
        "X-Purpose": "business_collaboration",
    }
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{base}/graphql", json={"query": PHONES}, headers=headers)
    assert response.status_code == 200, response.text
    return [edge["node"]["phone"] for edge in response.json()["data"]["persons"]["edges"]]


async def version(base: str) -> str:
    async with httpx.AsyncClient() as client:
        ready = (await client.get(f"{base}/readyz")).json()
    assert ready["status"] == "ready", ready
    return str(ready["policy"]["version"])


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 60.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "the change never reached both"
        await asyncio.sleep(0.1)


async def both(bases: tuple[str, ...], clear: bool) -> str:
    """Wait until both servers serve the phones clear (or masked) under one policy
    version; that version."""

    async def there() -> bool:
        for base in bases:
            served = await phones(base)
            if clear != all(re.fullmatch(r"1\d{10}", phone) for phone in served):
                return False
        return len({await version(base) for base in bases}) == 1

    await eventually(there)
    return await version(bases[0])


async def follow_a_rule_a_grant_and_a_revocation(platform: Platform) -> None:
    rules = platform.policy_dir / "rules" / "public_security.csv"
    good = rules.read_text(encoding="utf-8")
    with platform.two_servers() as bases:
        start = await both(bases, clear=False)

        rules.write_text(good + PHONE_RULE, encoding="utf-8")
        ruled = await both(bases, clear=True)
        rules.write_text(good, encoding="utf-8")
        assert await both(bases, clear=False) == start, "the same files, the same version"

        granted = await platform.policies(*GRANT)
        assert re.fullmatch(r"grant \d+ recorded\n", granted), granted
        made = await both(bases, clear=True)
        assert made not in {start, ruled}

        await platform.policies(
            "-m",
            "policies",
            "revoke",
            granted.split()[1],
            "--operator",
            "gs-admin",
            "--reason",
            "test",
        )
        revoked = await both(bases, clear=False)
        assert revoked not in {start, ruled, made}, "the store's sequence moved"


async def test_two_servers_on_postgresql_follow_through_redis(
    on_postgres_and_redis: Platform,
) -> None:
    await follow_a_rule_a_grant_and_a_revocation(on_postgres_and_redis)


async def test_two_servers_on_sqlite_follow_by_polling(on_sqlite_alone: Platform) -> None:
    await follow_a_rule_a_grant_and_a_revocation(on_sqlite_alone)
