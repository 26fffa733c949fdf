"""Walk the operation once, before execution: which (type, field) it touches, and where.

Policy is decided for the whole document from this plan, never per row (an async
per-field hook would make execution 6-7x slower). Fields are merged by response key,
across aliases, inline fragments and fragment spreads, as GraphQL merges them; fields
skipped by @skip/@include are not touched.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLIncludeDirective,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSkipDirective,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
)
from graphql.error import GraphQLError
from graphql.execution.values import (
    VariableValues,
    get_argument_values,
    get_directive_values,
    get_variable_values,
)

Coordinate = tuple[str, str]
"""(GraphQL type name, field name): the unit a decision is made for."""


@dataclass
class Selection:
    """One response key of one object in the response, with its merged sub-selections."""

    key: str
    coordinate: Coordinate
    node: FieldNode
    path: tuple[str, ...]
    arguments: dict[str, Any]
    parent: Selection | None = None
    children: dict[str, Selection] = field(default_factory=dict)

    def ancestors(self) -> list[Selection]:
        found, selection = [], self.parent
        while selection is not None:
            found.append(selection)
            selection = selection.parent
        return found


@dataclass
class Plan:
    root: dict[str, Selection]
    touched: dict[Coordinate, list[Selection]]

    def selected(self, coordinate: Coordinate) -> bool:
        return coordinate in self.touched

    def walk(self) -> list[Selection]:
        pending, out = list(self.root.values()), []
        while pending:
            selection = pending.pop()
            out.append(selection)
            pending.extend(selection.children.values())
        return out


class PlanError(Exception):
    """The operation cannot be planned (its variables do not coerce): execution says why."""


def plan_operation(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
) -> Plan:
    coerced = get_variable_values(schema, operation.variable_definitions or (), dict(variables))
    if isinstance(coerced, list):
        raise PlanError(coerced[0].message)
    plan = Plan(root={}, touched={})
    root_type = schema.query_type
    assert root_type is not None
    _walk(plan, operation.selection_set, root_type, plan.root, None, fragments, coerced)
    return plan


def _walk(
    plan: Plan,
    selection_set: SelectionSetNode,
    parent: GraphQLObjectType,
    into: dict[str, Selection],
    owner: Selection | None,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: VariableValues,
) -> None:
    for node in selection_set.selections:
        if _skipped(node, variables):
            continue
        if isinstance(node, FieldNode):
            _walk_field(plan, node, parent, into, owner, fragments, variables)
        elif isinstance(node, InlineFragmentNode):
            _walk(plan, node.selection_set, parent, into, owner, fragments, variables)
        elif isinstance(node, FragmentSpreadNode):
            fragment = fragments[node.name.value]
            _walk(plan, fragment.selection_set, parent, into, owner, fragments, variables)


def _walk_field(
    plan: Plan,
    node: FieldNode,
    parent: GraphQLObjectType,
    into: dict[str, Selection],
    owner: Selection | None,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: VariableValues,
) -> None:
    name = node.name.value
    if name.startswith("__"):
        return
    key = node.alias.value if node.alias else name
    definition = parent.fields[name]
    selection = into.get(key)
    if selection is None:
        try:
            arguments = get_argument_values(definition, node, variables)
        except GraphQLError as exc:
            raise PlanError(exc.message) from None
        path = (*owner.path, key) if owner else (key,)
        selection = into[key] = Selection(key, (parent.name, name), node, path, arguments, owner)
        plan.touched.setdefault(selection.coordinate, []).append(selection)
    if node.selection_set is not None:
        child_type = get_named_type(definition.type)
        assert isinstance(child_type, GraphQLObjectType)
        _walk(
            plan,
            node.selection_set,
            child_type,
            selection.children,
            selection,
            fragments,
            variables,
        )


def _skipped(node: Any, variables: VariableValues) -> bool:
    skip = get_directive_values(GraphQLSkipDirective, node, variables)
    if skip is not None and skip.get("if") is True:
        return True
    include = get_directive_values(GraphQLIncludeDirective, node, variables)
    return include is not None and include.get("if") is False
