"""A running platform follows its files and the grants: a rule or catalog file saved is
watched and put in force without waiting for the periodic check; a catalog that does
not load or cannot be served keeps the last good one and degrades /readyz until it is
fixed; a grant announced on Redis reaches the server at once, and with Redis away the
server still starts, serves, says so, and follows by polling.

The periodic check is set to an hour where a test shows that something else brought
the change; the waits are generous, and no test asserts how fast a change arrives
(bench/propagation.py measures that).
"""

from __future__ import annotations

import asyncio
import re
import shutil
import socket
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from grants import Announcements, Grant, GrantStore
from policies.caller import Purpose
from policies.decision import Action
from settings import ROOT, Settings
from tests.conftest import Gateway, serving

pytestmark = pytest.mark.anyio

EDUCATION = "11410581005000008N"
PHONES = "{ persons(first: 3) { edges { node { phone } } } }"
PHONE_RULE = f"p, {EDUCATION}, person.phone, read_clear, business_collaboration\n"
ROOT_FIELDS = '{ __type(name: "Query") { fields { name } } }'
HOUR = 3600.0
CLEAR = re.compile(r"1\d{10}")


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "the change never took effect"
        await asyncio.sleep(0.05)


@pytest.fixture
def following(settings: Settings, tmp_path: Path) -> Settings:
    """Copies of the catalog and the rule files to edit, and no periodic check to speak of."""
    shutil.copytree(ROOT / "catalog" / "departments", tmp_path / "catalog")
    shutil.copytree(ROOT / "policies" / "rules", tmp_path / "policies" / "rules")
    shutil.copy(ROOT / "policies" / "model.conf", tmp_path / "policies" / "model.conf")
    return settings.model_copy(
        update={
            "catalog_dir": tmp_path / "catalog",
            "policy_dir": tmp_path / "policies",
            "policy_refresh_seconds": HOUR,
        }
    )


async def phones(gateway: Gateway) -> list[str]:
    response = await gateway.query(
        PHONES, system="school-enrolment", purpose="business_collaboration"
    )
    assert response.status_code == 200, response.text
    return [edge["node"]["phone"] for edge in response.json()["data"]["persons"]["edges"]]


async def all_clear(gateway: Gateway) -> bool:
    return all(CLEAR.fullmatch(phone) for phone in await phones(gateway))


async def all_masked(gateway: Gateway) -> bool:
    return all("****" in phone for phone in await phones(gateway))


async def readiness(gateway: Gateway) -> dict[str, Any]:
    ready = await gateway.client.get("/readyz")
    assert ready.status_code == 200, ready.text
    body: dict[str, Any] = ready.json()
    return body


async def root_fields(gateway: Gateway) -> set[str]:
    response = await gateway.query(ROOT_FIELDS)
    return {field["name"] for field in response.json()["data"]["__type"]["fields"]}


def edit(path: Path, old: str, new: str) -> str:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1
    path.write_text(text.replace(old, new), encoding="utf-8")
    return text


def phone_grant() -> Grant:
    return Grant(
        consumer=EDUCATION,
        resource_id="person",
        items=("phone",),
        action=Action.READ_CLEAR,
        purposes=(Purpose.BUSINESS_COLLABORATION,),
        reference="林公数〔2026〕12号",
    )


async def test_a_rule_file_saved_is_watched_and_put_in_force(following: Settings) -> None:
    rules = following.policy_dir / "rules" / "public_security.csv"
    async with serving(following) as gateway:
        assert await all_masked(gateway)
        before = (await readiness(gateway))["policy"]["version"]
        rules.write_text(rules.read_text(encoding="utf-8") + PHONE_RULE, encoding="utf-8")
        await eventually(lambda: all_clear(gateway))
        ready = await readiness(gateway)
        assert ready["status"] == "ready" and ready["policy"]["version"] != before
        response = await gateway.query(
            PHONES, system="school-enrolment", purpose="business_collaboration"
        )
        record = await gateway.audit(response)
        assert record["policy_version"] == ready["policy"]["version"]


async def test_a_catalog_saved_is_watched_and_its_schema_swapped_in(following: Settings) -> None:
    population = following.catalog_dir / "public_security.yaml"
    async with serving(following) as gateway:
        before = (await readiness(gateway))["policy"]
        good = edit(population, "list_field: persons", "list_field: people")

        async def swapped() -> bool:
            return "people" in await root_fields(gateway)

        await eventually(swapped)
        assert "persons" not in await root_fields(gateway)
        now = (await readiness(gateway))["policy"]
        assert now["catalog_version"] != before["catalog_version"]
        assert now["version"] != before["version"]
        response = await gateway.query("{ people(first: 1) { edges { node { name } } } }")
        assert response.status_code == 200 and "errors" not in response.json()
        record = await gateway.audit(response)
        assert (record["catalog_version"], record["policy_version"]) == (
            now["catalog_version"],
            now["version"],
        )

        # Broken: the last good catalog stays, and /readyz says where and what.
        population.write_text(
            good.replace("list_field: persons", "list_field: [people"), encoding="utf-8"
        )

        async def degraded() -> bool:
            return (await readiness(gateway))["status"] == "degraded"

        await eventually(degraded)
        ready = await readiness(gateway)
        assert ready["policy"] == {**now, "reload": "failing"}
        [problem] = ready["problems"]
        assert problem.startswith("policy not reloaded: public_security.yaml line ")
        assert "not valid YAML" in problem
        assert problem.endswith("the last good catalog and policy stay in force")
        assert "people" in await root_fields(gateway), "the last good schema still serves"

        population.write_text(good, encoding="utf-8")

        async def recovered() -> bool:
            return (await readiness(gateway))["status"] == "ready"

        await eventually(recovered)
        assert "persons" in await root_fields(gateway)
        assert (await readiness(gateway))["policy"] == {**before, "reload": "ok"}


async def test_a_catalog_naming_a_source_not_open_is_refused(following: Settings) -> None:
    """A source's URL is a setting read at start-up: a new source takes a restart."""
    population = following.catalog_dir / "public_security.yaml"
    async with serving(following) as gateway:
        edit(population, "source: public_security", "source: population_registry")

        async def degraded() -> bool:
            return (await readiness(gateway))["status"] == "degraded"

        await eventually(degraded)
        assert (await readiness(gateway))["problems"] == [
            f"policy not reloaded: {following.catalog_dir.name} source: department "
            "114105810050000011 names source 'population_registry', which was not open when "
            "the server started: a new source takes a restart; the last good catalog and "
            "policy stay in force"
        ]
        assert await all_masked(gateway), "persons are still read from the source open"


async def test_a_grant_announced_on_redis_reaches_the_server_at_once(
    following: Settings, redis_url: str
) -> None:
    channel = f"gov-share-test:{uuid.uuid4().hex}"
    settings = following.model_copy(update={"redis_url": redis_url, "redis_channel": channel})
    async with serving(settings) as gateway:

        async def listening() -> bool:
            return (await readiness(gateway))["announcements"] == "listening"

        await eventually(listening)
        # Made elsewhere, as `python -m policies grant` makes it: on the store, announced.
        elsewhere = GrantStore(
            gateway.platform.store, Announcements(redis_url, channel, retry_seconds=HOUR)
        )
        made = await elsewhere.add(
            phone_grant(), gateway.platform.catalog, operator="gs-admin", reason="test"
        )
        await eventually(lambda: all_clear(gateway))
        assert made.id is not None and await elsewhere.revoke(
            made.id, operator="gs-admin", reason="test"
        )
        await eventually(lambda: all_masked(gateway))
        assert (await readiness(gateway))["status"] == "ready"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_with_redis_away_the_server_serves_and_follows_by_polling(
    following: Settings,
) -> None:
    away = f"redis://127.0.0.1:{closed_port()}/0"
    settings = following.model_copy(update={"redis_url": away, "policy_refresh_seconds": 0.2})
    async with serving(settings) as gateway:

        async def said() -> bool:
            ready = await readiness(gateway)
            return (ready["announcements"], ready["rate_limits"]) == (
                "unavailable",
                "local_fallback",
            )

        await eventually(said)
        ready = await readiness(gateway)
        assert ready["status"] == "degraded"
        assert ready["problems"] == [
            "grant changes are not announced to this server (Redis: ConnectionError); "
            "it follows them by polling every 0.2 s",
            "rate limits are counted by this server alone (Redis: ConnectionError): each "
            "server admits a caller's full rate until Redis answers again",
        ]
        assert away not in str(ready)
        assert await all_masked(gateway), "requests are served"
        await gateway.platform.grants.add(
            phone_grant(), gateway.platform.catalog, operator="gs-admin", reason="test"
        )
        await eventually(lambda: all_clear(gateway))
