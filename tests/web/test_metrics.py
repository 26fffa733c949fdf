"""/metrics: Prometheus text saying which policy and catalog are in force and how their
reloads fare — a failure counted and shown until the file is fixed — how many
requests the rate limits refused, how requests ended and what was decided for their
fields, how the audit log's commits fare, and nothing else of the platform: no data
value, no caller, no file content. (Rate limits with Redis: tests/web/test_shared_rate_limits.py.)"""

from __future__ import annotations

import asyncio
import shutil
from collections import Counter
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
    "gov_share_requests",
    "gov_share_request_errors",
    "gov_share_field_decisions",
    "gov_share_audit_write_lag_seconds",
    "gov_share_audit_batch_records",
}
FIELDS = "{ enterprises(first: 2) { edges { node { name contactPhone legalRepIdNumber } } } }"
DECISIONS = ("clear", "masked", "verified", "denied", "structure")
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


async def test_metrics_count_requests_by_outcome_and_code_and_their_decisions(
    gateway: Gateway,
) -> None:
    """Each request answered moves its outcome, its codes and its fields' decisions as
    the audit log has them, and the audit log's commits; no caller, address or value
    shows up anywhere in the text."""
    metrics = await scrape(gateway)
    assert metrics["gov_share_requests"] == []
    assert ({"decision": "masked"}, 0.0) in metrics["gov_share_field_decisions"]

    served = await gateway.query(FIELDS)  # phones masked for all
    partial = await gateway.query(FIELDS, system="school-enrolment")  # no ID numbers
    refused = await gateway.query(FIELDS, system=None, headers={"Authorization": "Bearer x"})
    assert [r.status_code for r in (served, partial, refused)] == [200, 200, 401]
    records = [await gateway.audit(r) for r in (served, partial, refused)]
    assert [record["outcome"] for record in records] == ["served", "partial", "unauthenticated"]

    metrics = await scrape(gateway)
    assert sorted(metrics["gov_share_requests"], key=str) == [
        ({"outcome": "partial"}, 1.0),
        ({"outcome": "served"}, 1.0),
        ({"outcome": "unauthenticated"}, 1.0),
    ]
    assert sorted(metrics["gov_share_request_errors"], key=str) == [
        ({"outcome": "partial", "code": "APPLICATION_REQUIRED"}, 1.0),
        ({"outcome": "unauthenticated", "code": "UNAUTHENTICATED"}, 1.0),
    ]
    decided = Counter(field["decision"] for record in records for field in record["fields"])
    assert decided["masked"] == 2 and decided["denied"] == 1, decided  # phones, ID numbers
    assert dict(
        (labels["decision"], value) for labels, value in metrics["gov_share_field_decisions"]
    ) == {decision: float(decided[decision]) for decision in DECISIONS}
    lagged, lag = await totals(gateway, "gov_share_audit_write_lag_seconds")
    assert lagged == 3 and lag > 0, "each record is committed after it is made"
    batches, batched = await totals(gateway, "gov_share_audit_batch_records")
    assert batched == 3 and 1 <= batches <= 3, "three records, in one to three commits"

    text = (await gateway.client.get("/metrics")).text
    node = served.json()["data"]["enterprises"]["edges"][0]["node"]
    for secret in (
        "marriage-registry",
        "school-enrolment",
        records[0]["caller_department"],
        "10.1.2.3",
        node["name"],
        node["contactPhone"],
        served.headers["x-request-id"],
    ):
        assert secret not in text, secret


async def totals(gateway: Gateway, histogram: str) -> tuple[float, float]:
    """A histogram's count and sum."""
    response = await gateway.client.get("/metrics")
    [family] = [
        family
        for family in text_string_to_metric_families(response.text)
        if family.name == histogram
    ]
    found = {sample.name: sample.value for sample in family.samples}
    return found[f"{histogram}_count"], found[f"{histogram}_sum"]
