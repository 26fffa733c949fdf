"""The catalog reloaded while it is served: a change builds and swaps in new schemas
with the policy made over it; a catalog that does not load, or that a rule no longer
fits, keeps the last good catalog, schemas and policy and says why; fixing it
recovers; a request in flight keeps the catalog it started with."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest

from catalog import load_catalog
from errors import ConfigurationError
from grants import GrantStore, PolicySource
from policies import Caller, Purpose
from resolvers import ExecutionOutcome, GraphQLRequest, Served
from tests.grants.conftest import executor, load
from tests.grants.test_policy_source import HeldPeople

pytestmark = pytest.mark.anyio

ENROLMENT = Caller("11410581005000008N", "林州市教育局", "school-enrolment")
PURPOSE = Purpose.BUSINESS_COLLABORATION
ROOT_FIELDS = '{ __type(name: "Query") { fields { name } } }'
NAMES = "{ %s(first: 2) { edges { node { name } } } }"


def edit(catalog_dir: Path, old: str, new: str) -> str:
    """Replace `old` in the population catalog; what the file held before."""
    path = catalog_dir / "public_security.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1
    path.write_text(text.replace(old, new), encoding="utf-8")
    return text


async def run(source: PolicySource[Served], query: str) -> ExecutionOutcome:
    return await executor(source).execute(GraphQLRequest(query), ENROLMENT, PURPOSE)


async def root_fields(source: PolicySource[Served]) -> set[str]:
    outcome = await run(source, ROOT_FIELDS)
    assert outcome.data is not None, outcome.errors
    return {field["name"] for field in outcome.data["__type"]["fields"]}


async def test_a_changed_catalog_swaps_the_schema(
    source: PolicySource[Served], catalog_dir: Path
) -> None:
    before = source.current
    assert "persons" in await root_fields(source) and "people" not in await root_fields(source)
    edit(catalog_dir, "list_field: persons", "list_field: people")
    assert await source.reload()
    after = source.current
    assert after.catalog.version == load_catalog(catalog_dir).version != before.catalog.version
    assert after.served.catalog_version == after.catalog.version
    assert after.version != before.version, "the policy is made over the catalog"
    fields = await root_fields(source)
    assert "people" in fields and "persons" not in fields
    outcome = await run(source, ROOT_FIELDS)
    assert (outcome.catalog_version, outcome.policy_version) == (
        after.catalog.version,
        after.version,
    )
    assert await source.reload() and source.current is after, "nothing more to read"


async def test_a_broken_catalog_keeps_the_last_good_one_and_says_why(
    source: PolicySource[Served], catalog_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gov_share.policies")
    before = source.current
    good = edit(
        catalog_dir,
        "length: 20, kind: business, share_type: unconditional",
        "length: 20, kind: business, share_type: sometimes",
    )
    with pytest.raises(ConfigurationError) as refused:
        load_catalog(catalog_dir)
    assert not await source.reload()
    assert source.current is before
    assert "persons" in await root_fields(source), "the last good schema still serves"
    assert source.problem == (
        f"public_security.yaml {refused.value.where}: {refused.value.problem}; "
        "the last good catalog and policy stay in force"
    )
    assert "township" in source.problem and "share_type" in source.problem
    (catalog_dir / "public_security.yaml").write_text(
        good.replace("list_field: persons", "list_field: people"), encoding="utf-8"
    )
    assert await source.reload()
    assert source.problem is None and "people" in await root_fields(source)
    assert "policy reloaded again" in caplog.messages


async def test_a_catalog_a_rule_no_longer_fits_is_refused(
    source: PolicySource[Served], catalog_dir: Path, policy_dir: Path
) -> None:
    """Phones made unconditional: the rule granting them to a group is now misleading,
    and the rules are checked against the catalog that would be served."""
    before = source.current
    edit(
        catalog_dir,
        "kind: business\n        share_type: conditional\n        conditions: 限业务协同",
        "kind: business\n        share_type: unconditional\n        conditions: 限业务协同",
    )
    assert not await source.reload()
    assert source.current is before
    rules = (policy_dir / "rules" / "public_security.csv").read_text(encoding="utf-8")
    line = 1 + rules.splitlines().index(
        "p, group:social_services, person.phone, read_clear, business_collaboration"
    )
    assert source.problem == (
        f"public_security.csv line {line}: person.phone is unconditional: every department "
        "has it already, a rule is misleading; the last good policy stays in force"
    )


async def test_a_request_in_flight_keeps_the_catalog_it_started_with(
    catalog_dir: Path, policy_dir: Path, grants: GrantStore
) -> None:
    people = HeldPeople()
    source = await load(catalog_dir, policy_dir, grants, {"person": people})
    started = source.current
    request = asyncio.create_task(run(source, NAMES % "persons"))
    await asyncio.wait_for(people.reading.wait(), 10)
    edit(catalog_dir, "list_field: persons", "list_field: people")
    assert await source.reload()
    assert source.current.catalog.version != started.catalog.version
    people.finish.set()
    outcome = await request
    assert (outcome.catalog_version, outcome.policy_version) == (
        started.catalog.version,
        started.version,
    )
    names: Any = outcome.data
    assert [edge["node"]["name"] for edge in names["persons"]["edges"]] == ["测试0", "测试1"]
    refused = await run(source, NAMES % "persons")
    assert not refused.executed and "Cannot query field 'persons'" in refused.errors[0]["message"]
    served = await run(source, NAMES % "people")
    assert served.catalog_version == source.current.catalog.version
    assert [edge["node"]["name"] for edge in served.data["people"]["edges"]] == ["测试0", "测试1"]  # type: ignore[index]
