"""Which documents the compiled executor shapes, which it leaves to graphql-core, and
that what it leaves at run time is answered as graphql-core answers it."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import FragmentDefinitionNode, OperationDefinitionNode, parse

from bench.workload import query as bench_query
from connectors import MemoryConnector, Read, ReadContext, Row
from resolvers import ExecutionOutcome
from resolvers.compiled import Program, compile_plan
from resolvers.plan import plan_operation
from schema.build import build_schema
from settings import Settings
from tests.resolvers.test_execution import (
    CATALOG,
    executor,
    licences,
    people,
    run,
)

pytestmark = pytest.mark.anyio

__all__ = ["licences", "people"]  # fixtures

SCHEMA, MEANINGS = build_schema(CATALOG, default_first=20)

SBS_N1 = """query SbsN1($code: String!) {
  enterprise(creditCode: $code) {
    creditCode name industry
    legalRepresentative {
      idNumber name householdAddress
      licences(first: 5) { edges { node { licenceNumber licenceType validUntil } } }
    }
  }
}"""
SBS_N100 = """query SbsN100 {
  enterprises(first: 100) { edges { node {
    creditCode name industry
    legalRepresentative {
      idNumber name householdAddress
      licences(first: 5) { edges { node { licenceNumber licenceType validUntil } } }
    }
    landParcels(first: 5) { edges { node { parcelCode area landUse } } }
  } } }
}"""


def compiled(query: str, **variables: Any) -> Program | str:
    document = parse(query)
    [operation] = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    plan = plan_operation(SCHEMA._schema, operation, fragments, variables)
    return compile_plan(plan, MEANINGS, SCHEMA._schema)


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (bench_query(100), {}),
        (SBS_N100, {}),
        (SBS_N1, {"code": "91410581MA40000001"}),
        (
            "query Q($all: Boolean!) { persons(first: 2, orderBy: [{name: desc}]) {"
            " totalCount pageInfo { hasNextPage endCursor } edges { cursor node { ...P"
            " licences @include(if: $all) { edges { node { licenceNumber } } } } } } }"
            " fragment P on Person { idNumber n: name }",
            {"all": False},
        ),
    ],
)
def test_the_shapes_of_lists_lookups_and_relationships_compile(
    query: str, variables: dict[str, Any]
) -> None:
    assert isinstance(compiled(query, **variables), Program)


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("{ persons { edges { node { __typename name } } } }", "selects __typename"),
        ("{ __schema { queryType { name } } persons { totalCount } }", "selects __schema"),
        ("{ catalog { version } }", "root field Query.catalog"),
        ("{ myAccess(resource: person) { item access } }", "root field Query.myAccess"),
        (
            '{ verifyPerson(idNumber: "1", claims: {name: "张"}) }',
            "root field Query.verifyPerson",
        ),
    ],
)
def test_what_the_program_cannot_shape_is_left_to_graphql_core(query: str, reason: str) -> None:
    assert compiled(query) == reason


def test_fields_skipped_by_a_variable_are_not_in_the_program() -> None:
    query = "query Q($on: Boolean!) { persons { edges { node { name @skip(if: $on) } } } }"
    for on, keys in ((True, []), (False, ["name"])):
        program = compiled(query, on=on)
        assert isinstance(program, Program)
        connection = program.roots[0].connection
        assert connection is not None
        [edges] = connection.parts
        [node] = edges.edge
        assert node.node is not None
        assert list(node.node.keys) == keys


class Asked(MemoryConnector):
    """Counts what it is asked, answered or not."""

    asked = 0

    async def read(self, read: Read, context: ReadContext) -> list[list[Row]]:
        self.asked += 1
        return await super().read(read, context)


def _without_deciding(outcome: ExecutionOutcome) -> tuple[Any, ...]:
    records = {r: (set(s.keys), set(s.subjects)) for r, s in outcome.records.items()}
    return outcome.data, outcome.errors, outcome.fields, records


async def test_a_source_failing_is_reported_as_graphql_core_reports_it(
    people: MemoryConnector,
) -> None:
    """Shaping gives way, and the request is executed afresh by graphql-core, its reads
    answered as the first time: the failing source is asked once."""
    failing = Asked("licence_office", {"licence": []})
    failing.down = True
    query = "{ persons(first: 4) { edges { node { name licences { edges { node { licenceNumber } } } } } } }"
    gateway = executor(people, failing)
    shaped = await run(gateway, query)
    assert (len(people.reads), failing.asked) == (1, 1)
    gateway.compiled = False
    executed = await run(gateway, query)
    assert (len(people.reads), failing.asked) == (2, 2)
    assert shaped.error_codes == ["SOURCE_UNAVAILABLE"]
    assert _without_deciding(shaped) == _without_deciding(executed)


async def test_a_page_too_long_is_refused_as_graphql_core_refuses_it(
    people: MemoryConnector, licences: MemoryConnector
) -> None:
    gateway = executor(people, licences, max_first=5)
    outcome = await run(gateway, "{ persons(first: 6) { edges { node { name } } } }")
    assert outcome.error_codes == ["LIMIT_EXCEEDED"]
    assert people.reads == []


async def test_cursors_lead_where_graphql_core_s_lead(
    people: MemoryConnector, licences: MemoryConnector
) -> None:
    """Each path's cursors, handed to the other path, give the same next pages."""
    query = (
        "query Q($after: String) { persons(first: 3, after: $after, orderBy: [{name: desc}])"
        " { pageInfo { startCursor endCursor } edges { cursor node { idNumber } } } }"
    )
    shaping, executing = executor(people, licences), executor(people, licences)
    executing.compiled = False

    def cursors(outcome: ExecutionOutcome) -> list[str]:
        page = outcome.data["persons"]  # type: ignore[index]
        found = [page["pageInfo"]["startCursor"], page["pageInfo"]["endCursor"]]
        return found + [edge["cursor"] for edge in page["edges"]]

    shaped, executed = await run(shaping, query), await run(executing, query)
    for mine, theirs in zip(cursors(shaped), cursors(executed), strict=True):
        after_mine = await run(executing, query, after=mine)
        after_theirs = await run(shaping, query, after=theirs)
        assert after_mine.errors == after_theirs.errors == []
        nodes = [
            [e["node"] for e in o.data["persons"]["edges"]] for o in (after_mine, after_theirs)
        ]  # type: ignore[index]
        assert nodes[0] == nodes[1]


def test_the_setting_turns_the_compiled_executor_off(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().compiled is True
    monkeypatch.setenv("GOV_SHARE_COMPILED", "false")
    assert Settings().compiled is False
