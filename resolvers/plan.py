"""Walk the operation once, before execution: which (type, field) it touches, and where.

Policy is decided for the whole document from this plan, never per row (an async
per-field hook would make execution 6-7x slower). Fields are merged by response key,
across aliases, inline fragments and fragment spreads, as GraphQL merges them; fields
skipped by @skip/@include are not touched. Every variable, argument and directive
argument is coerced on the way, introspection's included, so one that does not
coerce is a request error here rather than an exception out of execution.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLIncludeDirective,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSkipDirective,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
    get_named_type,
)
from graphql.execution.values import VariableValues
from graphql.type.introspection import (
    SchemaMetaFieldDef,
    TypeMetaFieldDef,
    TypeNameMetaFieldDef,
)

from resolvers.coercion import coerce_arguments, coerce_variables

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
    meta: set[str] = field(default_factory=set)
    """The meta fields (`__typename`, `__schema`, `__type`) the operation selects: graphql-core
    answers them; they are in neither `root` nor `touched`."""

    def selected(self, coordinate: Coordinate) -> bool:
        return coordinate in self.touched

    def walk(self) -> list[Selection]:
        pending, out = list(self.root.values()), []
        while pending:
            selection = pending.pop()
            out.append(selection)
            pending.extend(selection.children.values())
        return out


def plan_operation(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
) -> Plan:
    """Raises `BadUserInput` when a variable or argument does not coerce: graphql-core
    would raise it from execution with no request error to answer it."""
    coerced = coerce_variables(schema, operation.variable_definitions or (), variables)
    plan = Plan(root={}, touched={})
    root_type = schema.query_type
    assert root_type is not None
    _Walk(plan, fragments, coerced).selections(operation.selection_set, root_type, plan.root, None)
    return plan


@dataclass(frozen=True)
class _Walk:
    """One walk of a document: what every step of the recursion reads."""

    plan: Plan
    fragments: Mapping[str, FragmentDefinitionNode]
    variables: VariableValues

    def selections(
        self,
        selection_set: SelectionSetNode,
        parent: GraphQLObjectType,
        into: dict[str, Selection] | None,
        owner: Selection | None,
    ) -> None:
        for node in selection_set.selections:
            if _skipped(node, self.variables):
                continue
            if isinstance(node, FieldNode):
                self.field(node, parent, into, owner)
            elif isinstance(node, InlineFragmentNode):
                self.selections(node.selection_set, parent, into, owner)
            elif isinstance(node, FragmentSpreadNode):
                fragment = self.fragments[node.name.value]
                self.selections(fragment.selection_set, parent, into, owner)

    def field(
        self,
        node: FieldNode,
        parent: GraphQLObjectType,
        into: dict[str, Selection] | None,
        owner: Selection | None,
    ) -> None:
        """`into` None: introspection, whose arguments and directives are only coerced."""
        name = node.name.value
        definition = _definition(parent, name)
        described = f"{parent.name}.{name}"
        selection = None
        if into is None or name.startswith("__"):
            if name.startswith("__"):
                self.plan.meta.add(name)
            coerce_arguments(definition, node, self.variables, described)
        else:
            key = node.alias.value if node.alias else name
            selection = into.get(key)
            if selection is None:
                arguments = coerce_arguments(definition, node, self.variables, described)
                path = (*owner.path, key) if owner else (key,)
                selection = Selection(key, (parent.name, name), node, path, arguments, owner)
                into[key] = selection
                self.plan.touched.setdefault(selection.coordinate, []).append(selection)
        if node.selection_set is not None:
            child_type = get_named_type(definition.type)
            assert isinstance(child_type, GraphQLObjectType)
            children = selection.children if selection is not None else None
            self.selections(node.selection_set, child_type, children, selection)


def _definition(parent: GraphQLObjectType, name: str) -> GraphQLField:
    return _META_FIELDS.get(name) or parent.fields[name]


def _skipped(node: SelectionNode, variables: VariableValues) -> bool:
    for directive in node.directives or ():
        condition = _CONDITIONS.get(directive.name.value)
        if condition is not None:
            definition, skips_when = condition
            described = f"@{definition.name}"
            value = coerce_arguments(definition, directive, variables, described)["if"]
            if value is skips_when:
                return True
    return False


_META_FIELDS = {
    "__schema": SchemaMetaFieldDef,
    "__type": TypeMetaFieldDef,
    "__typename": TypeNameMetaFieldDef,
}
_CONDITIONS = {"skip": (GraphQLSkipDirective, True), "include": (GraphQLIncludeDirective, False)}
