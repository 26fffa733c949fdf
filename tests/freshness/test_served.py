"""A stale resource as a department and the operators see it: flagged in the `catalog`
query, listed in `/readyz`, counted in `/metrics`, and named in the `extensions` of a
response that read it — and none of it once the resource is fresh again. The clock is
the test's: the watch is asked with `now` set, never waited for."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from settings import Settings
from tests.conftest import Gateway, serving
from tests.engines import source_rows

pytestmark = pytest.mark.anyio
RESOURCE = "marriage_registration"
CATALOG = "{ catalog { departments { resources { id updateCycle stale } } } }"
READ = "{ marriageRegistrations(first: 2) { edges { node { registrationNumber } } } }"


def dated_catalog(catalog_dir: Path) -> Path:
    """Civil affairs declaring that its newest registration date is its last update."""
    path = catalog_dir / "civil_affairs.yaml"
    department = yaml.safe_load(path.read_text(encoding="utf-8"))
    department["resources"][0]["updated_column"] = "registered_on"
    path.write_text(yaml.safe_dump(department, allow_unicode=True, sort_keys=False), "utf-8")
    return catalog_dir


async def flags(gateway: Gateway) -> dict[str, bool]:
    response = await gateway.query(CATALOG)
    assert response.status_code == 200, response.text
    departments = response.json()["data"]["catalog"]["departments"]
    return {r["id"]: r["stale"] for d in departments for r in d["resources"]}


async def gauges(gateway: Gateway) -> dict[str, dict[str, float]]:
    text = (await gateway.client.get("/metrics")).text
    return {
        family.name: {sample.labels["resource"]: sample.value for sample in family.samples}
        for family in text_string_to_metric_families(text)
        if family.name.startswith("gov_share_resource_")
    }


async def test_a_stale_resource_is_flagged_everywhere_until_fresh(
    settings: Settings, catalog_dir: Path, demo_dir: Path
) -> None:
    [newest] = await source_rows(
        f"sqlite+aiosqlite:///{demo_dir / 'civil_affairs.db'}",
        "SELECT max(registered_on) AS last FROM marriage_registration",
    )
    last = datetime.datetime.fromisoformat(str(newest["last"])).replace(tzinfo=datetime.UTC)
    settings = settings.model_copy(update={"catalog_dir": dated_catalog(catalog_dir)})
    async with serving(settings) as gateway:
        watch = gateway.platform.freshness
        watch.clock = lambda: last + datetime.timedelta(days=5)  # a daily resource
        await watch.check()  # the background check, if it starts later, has the same clock

        assert (await flags(gateway))[RESOURCE] is True
        assert not any(v for k, v in (await flags(gateway)).items() if k != RESOURCE)
        ready: dict[str, Any] = (await gateway.client.get("/readyz")).json()
        assert ready["freshness"]["stale"] == [RESOURCE]
        assert ready["status"] == "ready"  # still served
        metrics = await gauges(gateway)
        assert metrics["gov_share_resource_stale"][RESOURCE] == 1
        age = metrics["gov_share_resource_last_update_age_seconds"]
        assert age == {RESOURCE: datetime.timedelta(days=5).total_seconds()}
        read = await gateway.query(READ)
        assert read.json()["extensions"]["freshness"] == {"stale": [RESOURCE]}
        other = await gateway.query("{ catalog { version } }")
        assert "freshness" not in other.json()["extensions"]  # it read no stale resource

        watch.clock = lambda: last + datetime.timedelta(hours=12)
        await watch.check()
        assert not any((await flags(gateway)).values())
        assert (await gateway.client.get("/readyz")).json()["freshness"]["stale"] == []
        assert (await gauges(gateway))["gov_share_resource_stale"][RESOURCE] == 0
        assert "freshness" not in (await gateway.query(READ)).json()["extensions"]
