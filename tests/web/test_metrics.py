"""/metrics: Prometheus text saying which policy and catalog are in force and how their
reloads fare — a failure counted and shown until the file is fixed — and how many
requests the rate limits refused, and nothing else of the platform: no data value, no
file content. (Rate limits with Redis: tests/web/test_shared_rate_limits.py.)"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from settings import ROOT, Settings
from tests.conftest import Gateway, serving

pytestmark = pytest.mark.anyio

OWN = {
    "gov_share_policy_version_info",
    "gov_share_policy_reload_ok",
    "gov_share_policy_reload_failures",
    "gov_share_policy_last_reload_success_timestamp_seconds",
    "gov_share_policy_in_force_since_timestamp_seconds",
    "gov_share_rate_limited_requests",
    "gov_share_resource_last_update_age_seconds",
    "gov_share_resource_stale",
    "gov_share_source_read_seconds",
    "gov_share_source_failures",
    "gov_share_source_calls",
    "gov_share_source_retries",
    "gov_share_source_circuit_state",
}
BROKEN = "p, nobody, person.phone, read_clear, work_reference\n"


async def scrape(gateway: Gateway) -> dict[str, list[tuple[dict[str, str], float]]]:
    response = await gateway.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {
        family.name: [(sample.labels, sample.value) for sample in family.samples]
        for family in text_string_to_metric_families(response.text)
    }


async def test_metrics_follow_a_failed_reload_and_its_recovery(
    settings: Settings, tmp_path: Path
) -> None:
    policy_dir = tmp_path / "policies"
    shutil.copytree(ROOT / "policies" / "rules", policy_dir / "rules")
    shutil.copy(ROOT / "policies" / "model.conf", policy_dir / "model.conf")
    rules = policy_dir / "rules" / "public_security.csv"
    good = rules.read_text(encoding="utf-8")
    settings = settings.model_copy(update={"policy_dir": policy_dir})

    async with serving(settings) as gateway:
        metrics = await scrape(gateway)
        assert {name for name in metrics if not name.startswith("process_")} == OWN, (
            "only the policy's, the rate limits', the sources' and the resources' freshness "
            "own state, and the process's"
        )
        sources = {name for name in metrics if name.startswith("gov_share_source_")}
        for name in sources:  # labelled by source and kind of failure only, never a value
            for labels, _ in metrics[name]:
                assert set(labels) <= {"source", "failure", "le"}, labels
                assert labels["source"] in gateway.platform.sources
        assert ({"source": "taxation"}, 0.0) in metrics["gov_share_source_circuit_state"]
        in_force = gateway.platform.policy_source.current
        [(labels, _)] = metrics["gov_share_policy_version_info"]
        assert labels == {
            "policy_version": in_force.version,
            "catalog_version": in_force.catalog.version,
        }
        assert metrics["gov_share_policy_reload_ok"] == [({}, 1.0)]
        assert metrics["gov_share_policy_reload_failures"] == [({}, 0.0)]

        rules.write_text(good + BROKEN, encoding="utf-8")
        for _ in range(600):
            metrics = await scrape(gateway)
            if metrics["gov_share_policy_reload_ok"] == [({}, 0.0)]:
                break
            await asyncio.sleep(0.05)
        assert metrics["gov_share_policy_reload_ok"] == [({}, 0.0)]
        [(_, failures)] = metrics["gov_share_policy_reload_failures"]
        assert failures >= 1
        response = await gateway.client.get("/metrics")
        # Neither the rule nor its file: "public_security" appears only as a source name.
        assert "nobody" not in response.text and "public_security.csv" not in response.text

        rules.write_text(good, encoding="utf-8")
        for _ in range(600):
            metrics = await scrape(gateway)
            if metrics["gov_share_policy_reload_ok"] == [({}, 1.0)]:
                break
            await asyncio.sleep(0.05)
        assert metrics["gov_share_policy_reload_ok"] == [({}, 1.0)]
        [(_, still)] = metrics["gov_share_policy_reload_failures"]
        assert still >= failures, "a counter: failures stay counted"
