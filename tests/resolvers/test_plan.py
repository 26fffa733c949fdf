"""The plan sees every field the operation touches, once, as GraphQL merges them."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import FragmentDefinitionNode, OperationDefinitionNode, parse

from catalog import load_catalog
from errors import BadUserInput
from resolvers.plan import Plan, plan_operation
from schema.build import build_schema
from settings import ROOT

SCHEMA, _ = build_schema(load_catalog(ROOT / "catalog" / "departments"), default_first=20)


def plan(query: str, variables: dict[str, Any] | None = None, name: str | None = None) -> Plan:
    document = parse(query)
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    [operation] = [o for o in operations if name is None or (o.name and o.name.value == name)]
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    return plan_operation(SCHEMA._schema, operation, fragments, variables or {})


def test_aliases_and_fragments_merge_into_one_coordinate() -> None:
    result = plan(
        """
        { a: persons(first: 1) { edges { node { ...P n: name } } }
          b: persons(first: 2) { edges { node { ... on Person { phone } } } } }
        fragment P on Person { name phone }
        """
    )
    assert len(result.touched[("Person", "phone")]) == 2  # under a and under b
    assert len(result.touched[("Person", "name")]) == 2  # name and its alias n
    assert result.touched[("Person", "phone")][0].path == ("a", "edges", "node", "phone")
    assert result.touched[("Query", "persons")][1].arguments["first"] == 2


def test_skipped_and_excluded_fields_are_not_touched() -> None:
    result = plan(
        "query Q($no: Boolean!) { persons { edges { node { name phone @include(if: $no) "
        "householdAddress @skip(if: true) } } } }",
        {"no": False},
    )
    assert ("Person", "name") in result.touched
    assert ("Person", "phone") not in result.touched
    assert ("Person", "householdAddress") not in result.touched


def test_only_the_executed_operation_is_planned() -> None:
    query = "query A { persons { edges { node { phone } } } } query B { enterprises { edges { node { name } } } }"
    result = plan(query, name="B")
    assert ("Person", "phone") not in result.touched
    assert ("Enterprise", "name") in result.touched


def test_variables_that_do_not_coerce_stop_planning() -> None:
    with pytest.raises(BadUserInput):
        plan("query Q($n: Int!) { persons(first: $n) { edges { node { name } } } }", {"n": "many"})
