"""The executor over in-memory sources: governance, batching, errors and the outcome's
accounts without a database."""

from __future__ import annotations

import dataclasses
import datetime
import gc
import hashlib
from typing import Any

import pytest

from catalog import load_catalog
from connectors import Capabilities, Connector, MemoryConnector, Page, Pagination, Row
from policies import Caller, Purpose, SharingPolicy, load_rules
from policies.decision import Outcome
from resolvers import (
    ExecutionOutcome,
    Executor,
    FieldAccount,
    GraphQLRequest,
    Limits,
    Pinned,
    RecordsServed,
    Served,
)
from resolvers.loaders import Record
from schema.build import build_schema
from settings import ROOT

pytestmark = pytest.mark.anyio

CATALOG = load_catalog(ROOT / "catalog" / "departments")
POLICY = SharingPolicy(CATALOG, load_rules(ROOT / "policies", CATALOG))
CIVIL_AFFAIRS = Caller("11410581005000006G", "林州市民政局", "marriage-registry", "mz-0231")


def person(number: int) -> dict[str, Any]:
    return {
        "id_number": f"41058119900101{number:04d}",
        "name": f"测试{number}",
        "gender": "男",
        "ethnicity": "汉族",
        "birth_date": datetime.date(1990, 1, 1),
        "household_address": f"林州市开元街道{number}号",
        "phone": f"1380000{number:04d}",
    }


def licence(number: int, holder: int) -> dict[str, Any]:
    return {
        "licence_number": f"L{number:05d}",
        "licence_type": "机动车驾驶证",
        "holder_name": f"测试{holder}",
        "holder_id_number": f"41058119900101{holder:04d}",
        "issuer": "林州市公安局交通警察大队",
        "issued_on": datetime.date(2020, 1, 1),
        "valid_until": datetime.date(2030, 1, 1),
        "status": "有效",
        "file_id": f"f{number}",
    }


def sources(people: MemoryConnector, licences: MemoryConnector) -> dict[str, Connector]:
    empty = MemoryConnector("empty", {})
    by_resource: dict[str, Connector] = {resource: empty for resource in CATALOG.resources}
    return {**by_resource, "person": people, "licence": licences}


def executor(
    people: MemoryConnector,
    licences: MemoryConnector,
    max_first: int = 100,
    **others: Connector,
) -> Executor:
    """Persons and licences from `people` and `licences`, other resources (by id) from
    `others`, and the rest from an empty source."""
    schema, meanings = build_schema(CATALOG, default_first=20)
    limits = Limits(max_first=max_first, batch_bound=1000, max_tokens=5000)
    connectors = {**sources(people, licences), **others}
    public_schema, _ = build_schema(CATALOG, default_first=20, public=True)
    served = Served(schema._schema, public_schema._schema, meanings, connectors, CATALOG.version)
    return Executor(Pinned(POLICY, served), cursor_key=bytes(16), limits=limits)


@pytest.fixture
def people() -> MemoryConnector:
    return MemoryConnector("public_security", {"person": [person(n) for n in range(10)]})


@pytest.fixture
def licences() -> MemoryConnector:
    rows = [licence(n, holder) for n, holder in enumerate([0, 0, 0, 1, 2, 2, 5])]
    return MemoryConnector("licence_office", {"licence": rows})


async def run(executor: Executor, query: str, **variables: Any) -> ExecutionOutcome:
    return await executor.execute(
        GraphQLRequest(query, variables), CIVIL_AFFAIRS, Purpose.ADMINISTRATIVE_BASIS
    )


async def test_nested_lists_are_one_read_per_level(
    people: MemoryConnector, licences: MemoryConnector
) -> None:
    outcome = await run(
        executor(people, licences),
        "{ persons(first: 6) { edges { node { name licences(first: 2) { edges { node { licenceNumber } } } } } } }",
    )
    counts = [len(e["node"]["licences"]["edges"]) for e in outcome.data["persons"]["edges"]]  # type: ignore[index]
    assert counts == [2, 1, 2, 0, 0, 1]
    assert len(people.reads) == 1 and len(licences.reads) == 1
    assert people.reads[0].columns == ("id_number", "name")  # selected + key/subject only
    assert outcome.errors == []
    assert len(outcome.records["licence"].keys) == sum(counts)  # served, not fetched (first + 1)


async def test_rows_read_to_tell_a_next_page_are_not_accounted_as_served(
    people: MemoryConnector, licences: MemoryConnector
) -> None:
    outcome = await run(
        executor(people, licences),
        "{ persons(first: 3) { edges { node { licences(first: 1) { edges { node { licenceNumber } }"
        " pageInfo { hasNextPage } } } } pageInfo { hasNextPage } } }",
    )
    assert outcome.errors == []
    persons = outcome.data["persons"]  # type: ignore[index]
    assert persons["pageInfo"] == {"hasNextPage": True}
    served = [e["node"]["licences"] for e in persons["edges"]]
    assert [page["pageInfo"]["hasNextPage"] for page in served] == [True, False, True]
    assert licences.reads[0].page == Page(1, probe=True)  # two read for persons 0 and 2
    assert {resource: records.keys for resource, records in outcome.records.items()} == {
        "person": {person(n)["id_number"] for n in range(3)},
        "licence": {e["node"]["licenceNumber"] for page in served for e in page["edges"]},
    }


async def test_a_source_that_cannot_page_per_parent_is_refused_not_filtered(
    people: MemoryConnector, licences: MemoryConnector
) -> None:
    licences.capabilities = Capabilities(pagination=Pagination(per_parent=None))
    outcome = await run(
        executor(people, licences),
        "{ persons(first: 3) { edges { node { name licences(first: 1) { edges { node { licenceNumber } } } } } } }",
    )
    assert [e["node"]["name"] for e in outcome.data["persons"]["edges"]] == [
        "测试0",
        "测试1",
        "测试2",
    ]  # type: ignore[index]
    assert outcome.error_codes == ["PUSHDOWN_REFUSED"]  # once, not once per person
    assert licences.reads == []


async def test_a_source_down_fails_its_fields_once(
    people: MemoryConnector, licences: MemoryConnector
) -> None:
    licences.down = True
    outcome = await run(
        executor(people, licences),
        "{ persons(first: 4) { edges { node { name licences { edges { node { licenceNumber } } } } } } }",
    )
    assert outcome.error_codes == ["SOURCE_UNAVAILABLE"]
    assert all(edge["node"]["name"] for edge in outcome.data["persons"]["edges"])  # type: ignore[index]


async def test_first_above_the_maximum_is_refused(
    people: MemoryConnector, licences: MemoryConnector
) -> None:
    outcome = await run(
        executor(people, licences, max_first=5), "{ persons(first: 6) { edges { node { name } } } }"
    )
    assert outcome.error_codes == ["LIMIT_EXCEEDED"]
    assert people.reads == []


async def test_pages_follow_cursors_and_bad_cursors_are_refused(
    people: MemoryConnector, licences: MemoryConnector
) -> None:
    gateway = executor(people, licences)
    query = "query Page($after: String) { persons(first: 4, after: $after) { edges { node { name } } pageInfo { hasNextPage endCursor } } }"
    names: list[str] = []
    after = None
    while True:
        outcome = await run(gateway, query, after=after)
        page = outcome.data["persons"]  # type: ignore[index]
        names += [edge["node"]["name"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert names == [f"测试{n}" for n in range(10)]
    refused = await run(gateway, query, after="forged")
    assert refused.error_codes == ["BAD_CURSOR"]


async def test_an_unexpected_failure_is_masked(
    people: MemoryConnector, licences: MemoryConnector, caplog: pytest.LogCaptureFixture
) -> None:
    """A source returning a value its declared type cannot carry must not echo the value."""
    people.tables["person"][0]["birth_date"] = "SECRET-3301"
    outcome = await run(
        executor(people, licences), "{ persons(first: 2) { edges { node { name birthDate } } } }"
    )
    assert outcome.error_codes == ["INTERNAL_ERROR"]
    assert "SECRET-3301" not in repr(outcome.errors) + caplog.text
    assert outcome.data["persons"]["edges"][1]["node"]["birthDate"] == "1990-01-01"  # type: ignore[index]


async def test_the_records_a_request_read_are_freed_with_its_outcome(
    people: MemoryConnector, licences: MemoryConnector
) -> None:
    """Not left for the garbage collector: a busy server would keep every row of every
    finished request in memory until its next pass over old objects, and pay for the
    pass."""
    query = "{ persons(first: 6) { edges { node { name licences(first: 2) { edges { node { licenceNumber } } } } } } }"
    run_it = executor(people, licences)
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        outcome = await run(run_it, query)
        assert outcome.errors == []
        del outcome
        gc.collect()
        left = [thing for thing in gc.garbage if isinstance(thing, Record)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert left == []


QUERY = (
    "{ persons(first: 3) { edges { node { name phone householdAddress"
    " licences(first: 5) { edges { node { licenceNumber fileId } } } } } } }"
)


async def test_every_field_is_accounted_with_its_calls_and_decision(
    people: MemoryConnector, licences: MemoryConnector
) -> None:
    outcome = await run(executor(people, licences), QUERY)
    assert outcome.error_codes == ["APPLICATION_REQUIRED"]
    node, licence_node = "persons.edges.node", "persons.edges.node.licences.edges.node"
    clear_by_catalog = (Outcome.CLEAR, "catalog:unconditional")
    assert outcome.fields == tuple(
        FieldAccount(path, count, *decided)
        for path, count, decided in [
            ("persons", 1, (Outcome.CLEAR, "catalog:root")),
            ("persons.edges", 1, (None, "")),
            (node, 3, (None, "")),
            (f"{node}.householdAddress", 3, (Outcome.CLEAR, "public_security.csv:3")),
            (
                f"{node}.licences",
                3,
                (Outcome.CLEAR, "catalog:unconditional & catalog:unconditional"),
            ),
            (f"{node}.licences.edges", 3, (None, "")),
            (licence_node, 6, (None, "")),
            (f"{licence_node}.fileId", 6, (Outcome.DENIED, "rules:no_match")),
            (f"{licence_node}.licenceNumber", 6, clear_by_catalog),
            (f"{node}.name", 3, clear_by_catalog),
            (f"{node}.phone", 3, (Outcome.MASKED, "catalog:masked_for_all_departments")),
        ]
    )


async def test_the_records_served_are_handed_over_by_resource_with_their_subjects(
    people: MemoryConnector, licences: MemoryConnector
) -> None:
    outcome = await run(executor(people, licences), QUERY)
    holders = {person(n)["id_number"] for n in range(3)}
    assert outcome.records == {
        "person": RecordsServed(keys=holders, subjects=holders),
        "licence": RecordsServed(keys={f"L{n:05d}" for n in range(6)}, subjects=holders),
    }


async def test_the_outcome_names_its_document_and_the_versions_it_was_decided_under(
    people: MemoryConnector, licences: MemoryConnector
) -> None:
    outcome = await run(executor(people, licences), QUERY)
    assert outcome.document_id == hashlib.new("sm3", QUERY.encode()).hexdigest()
    assert (outcome.policy_version, outcome.catalog_version) == (POLICY.version, CATALOG.version)


REFUSED = [
    GraphQLRequest("{ persons(first: 3) {"),
    GraphQLRequest("{ noSuchField }"),
    GraphQLRequest("query A { __typename }", operation_name="B"),
    GraphQLRequest(
        "query Q($n: Int!) { persons(first: $n) { edges { node { name } } } }", {"n": "three"}
    ),
]


@pytest.mark.parametrize("request_", REFUSED, ids=["parse", "validation", "operation", "variable"])
async def test_a_document_refused_before_execution_accounts_for_nothing(
    people: MemoryConnector, licences: MemoryConnector, request_: GraphQLRequest
) -> None:
    outcome = await executor(people, licences).execute(
        request_, CIVIL_AFFAIRS, Purpose.ADMINISTRATIVE_BASIS
    )
    assert not outcome.executed and outcome.data is None
    assert len(outcome.errors) == 1
    assert (outcome.fields, outcome.records) == ((), {})
    assert outcome.document_id == hashlib.new("sm3", request_.query.encode()).hexdigest()
    assert (outcome.policy_version, outcome.catalog_version) == (POLICY.version, CATALOG.version)
    assert people.reads == []


class Swapping(MemoryConnector):
    """Puts a new policy in force in the middle of its first read, as the grant
    follower may while a request waits for a source."""

    def __init__(self, people: MemoryConnector) -> None:
        super().__init__(people.name, people.tables)
        self.gateway: Executor | None = None

    async def read(self, *arguments: Any) -> list[list[Row]]:
        if self.gateway is not None:
            later = SharingPolicy(CATALOG, dataclasses.replace(POLICY.rules, version="later"))
            served = self.gateway.policy_source.current.served
            self.gateway.policy_source, self.gateway = Pinned(later, served), None
        return await super().read(*arguments)


async def test_a_request_is_recorded_under_the_policy_it_started_with(
    people: MemoryConnector, licences: MemoryConnector
) -> None:
    swapping = Swapping(people)
    gateway = swapping.gateway = executor(swapping, licences)
    query = "{ persons(first: 2) { edges { node { phone } } } }"
    started = await run(gateway, query)
    assert gateway.policy_source.current.policy.version == "later"
    assert started.policy_version == POLICY.version
    assert (await run(gateway, query)).policy_version == "later"
