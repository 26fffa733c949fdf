"""What was decided for a document is remembered for the same caller, purpose and
variables, and for nothing else; it never outlives the start or end of a grant. What
no caller changes (the document's template) is shared by every caller, and serves
each only its own decisions."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
from typing import Any

import pytest

from catalog import DataItem, Resource, load_catalog
from connectors import Connector, MemoryConnector
from policies import Caller, Decision, Purpose, SharingPolicy, load_rules
from policies.decision import Action
from policies.rule import Rule, instant
from resolvers import Executor, GraphQLRequest, Limits, Pinned, Served
from schema.build import build_schema
from settings import ROOT
from tests.resolvers.test_execution import person

pytestmark = pytest.mark.anyio

CATALOG = load_catalog(ROOT / "catalog" / "departments")
REGISTRY = Caller("11410581005000006G", "林州市民政局", "marriage-registry")
ENROLMENT = Caller("11410581005000008N", "林州市教育局", "school-enrolment")
ADDRESSES = "{ persons(first: 2) { edges { node { name householdAddress } } } }"
ONE = "query ($id: String!) { person(idNumber: $id) { name householdAddress } }"


class Counting:
    """The policy, counting what it is asked."""

    def __init__(self, policy: SharingPolicy) -> None:
        self.policy = policy
        self.version = policy.version
        self.asked = 0

    def decide(
        self,
        caller: Caller,
        resource: Resource,
        item: DataItem,
        purpose: Purpose | None,
        now: datetime.datetime,
        action: Action = Action.READ_CLEAR,
    ) -> Decision:
        self.asked += 1
        return self.policy.decide(caller, resource, item, purpose, now, action)

    def window(self, basis: str) -> tuple[str, str]:
        return self.policy.window(basis)

    def stable_until(self, now: datetime.datetime) -> str | None:
        return self.policy.stable_until(now)


def executor(policy: Counting) -> Executor:
    schema, meanings = build_schema(CATALOG, default_first=20)
    public_schema, _ = build_schema(CATALOG, default_first=20, public=True)
    people = MemoryConnector("public_security", {"person": [person(n) for n in range(5)]})
    empty = MemoryConnector("empty", {})
    connectors: dict[str, Connector] = {resource: empty for resource in CATALOG.resources}
    connectors["person"] = people
    served = Served(schema._schema, public_schema._schema, meanings, connectors, CATALOG.version)
    limits = Limits(max_first=100, batch_bound=1000, max_tokens=5000)
    return Executor(Pinned(policy, served), cursor_key=bytes(16), limits=limits)


def counting(*grants: Rule) -> Counting:
    return Counting(SharingPolicy(CATALOG, load_rules(ROOT / "policies", CATALOG, grants)))


async def addresses(
    run: Executor, caller: Caller, query: str = ADDRESSES, **variables: Any
) -> list[str | None]:
    outcome = await run.execute(
        GraphQLRequest(query, variables), caller, Purpose.ADMINISTRATIVE_BASIS
    )
    data = outcome.data
    assert data is not None, outcome.errors
    if "person" in data:
        return [data["person"]["householdAddress"]]
    return [edge["node"]["householdAddress"] for edge in data["persons"]["edges"]]


async def test_the_same_document_from_the_same_caller_is_decided_once() -> None:
    policy = counting()
    run = executor(policy)
    first = await addresses(run, REGISTRY)
    asked = policy.asked
    assert asked > 0
    assert await addresses(run, REGISTRY) == first
    assert policy.asked == asked, "decided again"


async def test_another_caller_gets_its_own_decisions() -> None:
    policy = counting()
    run = executor(policy)
    clear = await addresses(run, REGISTRY)
    masked = await addresses(run, ENROLMENT)
    assert clear != masked
    assert all(address is not None and address.endswith("***") for address in masked)
    assert await addresses(run, REGISTRY) == clear


async def test_other_variables_are_planned_and_decided_again() -> None:
    policy = counting()
    run = executor(policy)
    one = await addresses(run, REGISTRY, ONE, id=person(1)["id_number"])
    asked = policy.asked
    other = await addresses(run, REGISTRY, ONE, id=person(2)["id_number"])
    assert policy.asked > asked
    assert one != other


async def test_what_was_decided_ends_when_a_grant_does() -> None:
    ends = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=1)
    grant = Rule(
        f"{ENROLMENT.department}/{ENROLMENT.system}",
        "person.householdAddress",
        "read_clear",
        Purpose.ADMINISTRATIVE_BASIS.value,
        valid_until=instant(ends),
        basis="grant:1",
    )
    run = executor(counting(grant))
    assert not any(a.endswith("***") for a in await addresses(run, ENROLMENT) if a)
    await asyncio.sleep((ends - datetime.datetime.now(datetime.UTC)).total_seconds() + 0.05)
    assert all(a is not None and a.endswith("***") for a in await addresses(run, ENROLMENT))


async def test_a_grant_starts_at_its_time_for_a_document_already_known() -> None:
    """The document's template was made (by another caller, and by this one before the
    grant started): it holds no decision, so the grant takes effect when it starts."""
    starts = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=1)
    grant = Rule(
        f"{ENROLMENT.department}/{ENROLMENT.system}",
        "person.householdAddress",
        "read_clear",
        Purpose.ADMINISTRATIVE_BASIS.value,
        valid_from=instant(starts),
        basis="grant:2",
    )
    run = executor(counting(grant))
    assert not any(a.endswith("***") for a in await addresses(run, REGISTRY) if a)
    assert all(a is not None and a.endswith("***") for a in await addresses(run, ENROLMENT))
    await asyncio.sleep((starts - datetime.datetime.now(datetime.UTC)).total_seconds() + 0.05)
    assert not any(a.endswith("***") for a in await addresses(run, ENROLMENT) if a)


async def test_callers_with_one_scoped_grant_each_get_their_own_scope() -> None:
    """Two keys of one system, one scoped grant: alike in every decision, but the scope
    binds each key's township, so nothing of one's reading is served to the other."""
    grant = Rule(
        ENROLMENT.department or "",
        "person.householdAddress",
        "read_clear",
        Purpose.ADMINISTRATIVE_BASIS.value,
        scope="township=township",
        basis="grant:3",
    )
    run = executor(counting(grant))
    rows = run.policy_source.current.served.connectors["person"]
    assert isinstance(rows, MemoryConnector)
    for number, row in enumerate(rows.tables["person"]):
        row["township"] = ("开元街道", "横水镇")[number % 2]
    query = "{ persons(first: 5) { edges { node { township householdAddress } } } }"
    for township in ("开元街道", "横水镇", "开元街道"):
        caller = dataclasses.replace(ENROLMENT, attributes=(("township", township),))
        outcome = await run.execute(GraphQLRequest(query), caller, Purpose.ADMINISTRATIVE_BASIS)
        assert outcome.data is not None, outcome.errors
        served = [edge["node"] for edge in outcome.data["persons"]["edges"]]
        assert {p["township"] for p in served} == {"开元街道", "横水镇"}
        for person_served in served:
            clear = not person_served["householdAddress"].endswith("***")
            assert clear == (person_served["township"] == township), person_served
