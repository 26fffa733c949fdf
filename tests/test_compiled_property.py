"""The compiled executor answers exactly as graphql-core does (hypothesis, differential).

Random documents, data, callers, purposes and grants (the generators of
`test_sharing_property.py`), widened with lookups, totalCount, pageInfo, cursors,
short pages and `__typename`, run through both executors over one SQLite database:
the response (data, errors with their order, paths and extensions), the field
accounts and the records served — all the audit record takes from an outcome — must
be the same. The compiled path must not give way to graphql-core on the way (a log
record says when it does), or a fault in it would hide behind the reference.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Any

import pytest
from graphql import parse
from hypothesis import given
from hypothesis import strategies as st

from connectors import Connector
from grants import rules_of
from policies.engine import SharingPolicy
from policies.rules import load_rules
from resolvers import ExecutionOutcome, Executor, GraphQLRequest, Limits, Pinned, Served
from resolvers.compiled import Program, compile_plan
from resolvers.plan import plan_operation
from settings import ROOT
from tests.test_sharing_property import (
    BACKGROUND,
    CATALOG,
    DATA,
    MEANINGS,
    PEOPLE,
    PROPERTY,
    SCHEMA,
    Scenario,
    Sources,
    _load,
    database,
    render,
    scenarios,
    scoped_scenarios,
)

# Slow: leave out with -m 'not slow' (README); CI runs it.
pytestmark = pytest.mark.slow

__all__ = ["database"]  # the fixture, shared with the property test of sharing


@dataclasses.dataclass(frozen=True)
class Extras:
    """What a document asks beyond the sharing test's: how the connections render."""

    first: int
    total_count: bool
    page_info: bool
    cursor: bool
    typename: bool
    lookup: str | None
    """A person looked up by this ID number, with the enterprises they represent."""
    include: bool | None
    """The value of `$on` in `@include(if: $on)` on one more field; None: no variable."""


extras = st.builds(
    Extras,
    first=st.sampled_from([50, 50, 1, 2]),
    total_count=st.booleans(),
    page_info=st.booleans(),
    cursor=st.booleans(),
    typename=st.integers(0, 9).map(lambda n: n == 0),
    lookup=st.none() | st.sampled_from(PEOPLE[:3]),
    include=st.none() | st.booleans(),
)


def document(scenario: Scenario, extra: Extras) -> str:
    """The sharing test's document, with `extra` asked besides."""
    root = scenario[0]
    query = render(root, True, root.resource.list_field, "root")
    query = query.replace("first: 50", f"first: {extra.first}")
    connection = ""
    if extra.total_count:
        connection += "totalCount "
    if extra.page_info:
        connection += "pageInfo { hasNextPage hasPreviousPage endCursor } "
    query = query.replace("{ edges { node {", "{ " + connection + "edges { node {")
    if extra.cursor:
        query = query.replace("edges { node {", "edges { cursor node {")
    if extra.typename:
        query = query.replace("node {", "node { __typename", 1)
    if extra.lookup is not None:
        query += (
            f' l: person(idNumber: "{extra.lookup}") {{ idNumber name township'
            " e: representedEnterprises(first: 3) { totalCount edges { node { creditCode"
            " industry p: legalRepresentative { idNumber phone } } } } }"
        )
    if extra.include is None:
        return "{ " + query + " }"
    key = root.resource.key_item
    query = query.replace("node { ", f"node {{ i: {key} @include(if: $on) ", 1)
    return "query Q($on: Boolean!) { " + query + " }"


def _opaque(value: Any) -> Any:
    """Cursors are encrypted with a fresh nonce each time: compared as present or not
    (tests/resolvers/test_compiled.py compares what they hold)."""
    if isinstance(value, dict):
        return {
            key: ("<cursor>" if key in _CURSORS and item is not None else _opaque(item))
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_opaque(item) for item in value]
    return value


_CURSORS = {"cursor", "endCursor", "startCursor"}


def _compared(outcome: ExecutionOutcome) -> dict[str, Any]:
    """Everything of an outcome but how long deciding took."""
    return {
        "executed": outcome.executed,
        "data": _opaque(outcome.data),
        "errors": outcome.errors,
        "document_id": outcome.document_id,
        "versions": (outcome.policy_version, outcome.catalog_version),
        "fields": outcome.fields,
        "records": {
            resource: (set(served.keys), set(served.subjects))
            for resource, served in outcome.records.items()
        },
    }


@PROPERTY
@given(scenario=scenarios(), extra=extras, **DATA)
def test_the_compiled_executor_answers_as_graphql_core(
    database: Sources,
    scenario: Scenario,
    extra: Extras,
    persons: list[dict[str, Any]],
    companies: list[dict[str, Any]],
    records: list[dict[str, Any]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    tables = {"person": persons, "enterprise": companies, "insurance_contribution": records}
    differ(database, scenario, extra, tables, caplog)


@PROPERTY
@given(scenario=scoped_scenarios(), extra=extras, **DATA)
def test_the_compiled_executor_serves_scopes_as_graphql_core(
    database: Sources,
    scenario: Scenario,
    extra: Extras,
    persons: list[dict[str, Any]],
    companies: list[dict[str, Any]],
    records: list[dict[str, Any]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    tables = {"person": persons, "enterprise": companies, "insurance_contribution": records}
    differ(database, scenario, extra, tables, caplog)


def differ(
    database: Sources,
    scenario: Scenario,
    extra: Extras,
    tables: dict[str, list[dict[str, Any]]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, caller, purpose, granted = scenario
    _load(database.path, tables)
    rules = load_rules(ROOT / "policies", CATALOG, [*BACKGROUND, *rules_of(granted)])
    connectors: dict[str, Connector] = {
        r.id: database.connector for r in CATALOG.resources.values()
    }
    served = Served(SCHEMA._schema, SCHEMA._schema, MEANINGS, connectors, CATALOG.version)
    pinned = Pinned(SharingPolicy(CATALOG, rules), served)
    limits = Limits(max_first=100, batch_bound=3, max_tokens=5000)  # batches split often
    query = document(scenario, extra)
    request = GraphQLRequest(query, {} if extra.include is None else {"on": extra.include})
    compiled, reference = (
        Executor(pinned, cursor_key=bytes(16), limits=limits, compiled=on) for on in (True, False)
    )
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="gov_share.execution"):
        shaped = asyncio.run(compiled.execute(request, caller, purpose))
    gave_way = [r for r in caplog.records if r.getMessage() == "compiled execution gave way"]
    assert not gave_way, [getattr(r, "error", None) for r in gave_way]
    executed = asyncio.run(reference.execute(request, caller, purpose))
    assert _compared(shaped) == _compared(executed), query
    if not extra.typename:
        assert isinstance(_program(request), Program), query


def _program(request: GraphQLRequest) -> Program | str:
    operation = parse(request.query).definitions[0]
    plan = plan_operation(SCHEMA._schema, operation, {}, request.variables)  # type: ignore[arg-type]
    return compile_plan(plan, MEANINGS, SCHEMA._schema)
