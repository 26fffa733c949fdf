"""Coerce a request's variables and the arguments of its fields and directives, before
anything is decided or read.

graphql-core reports a value that does not coerce by quoting it (`Int cannot represent
non-integer value: '410581…'`), and raises from argument coercion at execution, where
nothing turns it into a request error. Here every failure is `BadUserInput`, naming the
variable or argument, the place inside it and the type expected — never the value,
which may be a person's data — and numbers every source can compare are the only ones
let through.
"""

from __future__ import annotations

import decimal
import math
from collections.abc import Collection, Iterable, Mapping
from typing import Any, cast

from graphql import (
    GraphQLDirective,
    GraphQLError,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLSchema,
    TypeNode,
    VariableDefinitionNode,
    VariableNode,
    is_input_type,
    is_non_null_type,
    type_from_ast,
)
from graphql.execution.values import (
    VariableValues,
    coerce_argument,
    get_argument_values,
    get_variable_values,
    input_is_nested_too_deeply,
)
from graphql.language import ArgumentNode, DirectiveNode, FieldNode
from graphql.pyutils import Undefined
from graphql.utilities import validate_input_value

from errors import BadUserInput

DECIMAL_DIGITS = 65
"""A Decimal compared in a source must lie within 10^±65: MariaDB's DECIMAL holds 65
digits, and PostgreSQL refuses a numeric far past its range (1e999999) as an error."""


def coerce_variables(
    schema: GraphQLSchema,
    definitions: Collection[VariableDefinitionNode],
    inputs: Mapping[str, Any],
) -> VariableValues:
    coerced = get_variable_values(schema, definitions, dict(inputs))
    if isinstance(coerced, VariableValues):
        for name, value in coerced.coerced.items():
            _refuse_incomparable(f"Variable '${name}'", name, value)
        return coerced
    for definition in definitions:
        if not isinstance(get_variable_values(schema, [definition], dict(inputs)), VariableValues):
            raise BadUserInput(_variable_problem(schema, definition, inputs))
    raise BadUserInput("Variable values are nested too deeply")


def coerce_arguments(
    definition: GraphQLField | GraphQLDirective,
    node: FieldNode | DirectiveNode,
    variables: VariableValues,
    owner: str,
) -> dict[str, Any]:
    """The arguments of a field (`owner` `Query.persons`) or directive (`@include`)."""
    try:
        arguments = get_argument_values(definition, node, variables)
    except GraphQLError:
        raise BadUserInput(_argument_problem(definition, node, variables, owner)) from None
    for name, value in arguments.items():
        _refuse_incomparable(f"Argument '{name}' of {owner}", name, value)
    return arguments


def _variable_problem(
    schema: GraphQLSchema, definition: VariableDefinitionNode, inputs: Mapping[str, Any]
) -> str:
    """Why one variable does not coerce, in the schema's terms only."""
    name = definition.variable.name.value
    declared = _declared(schema, definition.type)
    value = inputs.get(name, Undefined)
    if value is Undefined:
        return f"Variable '${name}' of required type '{declared}' was not provided"
    if input_is_nested_too_deeply(value, declared):
        return f"Variable '${name}' is nested too deeply"
    paths: list[list[str | int]] = []
    validate_input_value(value, declared, lambda _error, path: paths.append(path))
    if not paths:  # strawberry's own checks (one key of a oneOf input) say no more
        return f"Variable '${name}' has an invalid value: expected {declared}"
    expected, found = _at(declared, value, paths[0])
    where = _place(name, paths[0])
    return f"Variable '${name}' has an invalid value{where}: {_reason(expected, found)}"


def _place(name: str, path: list[str | int]) -> str:
    """` at 'w.name._in[1]'`: where inside a variable or argument, by names and indexes."""
    if not path:
        return ""
    steps = "".join(f"[{step}]" if isinstance(step, int) else f".{step}" for step in path)
    return f" at '{name}{steps}'"


def _declared(schema: GraphQLSchema, node: TypeNode) -> GraphQLInputType:
    """Validation has made sure the declared type exists and is an input type."""
    declared = type_from_ast(schema, node)
    assert is_input_type(declared)
    return declared


def _nullable(type_: GraphQLInputType) -> GraphQLInputType:
    return cast("GraphQLInputType", type_.of_type) if is_non_null_type(type_) else type_


def _at(type_: GraphQLInputType, value: Any, path: list[str | int]) -> tuple[GraphQLInputType, Any]:
    """The type expected, and the value found, at `path` inside a variable."""
    for step in path:
        nullable = _nullable(type_)
        if isinstance(step, int) and isinstance(nullable, GraphQLList):
            type_ = nullable.of_type
            value = value[step] if isinstance(value, list) else value
        elif isinstance(step, str) and isinstance(nullable, GraphQLInputObjectType):
            type_ = nullable.fields[step].type
            value = value.get(step) if isinstance(value, dict) else None
    return type_, value


def _reason(expected: GraphQLInputType, found: Any) -> str:
    """Why a value does not fit its type, in the schema's terms only."""
    nullable = _nullable(expected)
    if found is None:
        return f"expected {expected}, not null"
    if not isinstance(nullable, GraphQLInputObjectType):
        return f"expected {expected}"
    if not isinstance(found, dict):
        return f"expected an object of type {nullable}"
    if set(found) - set(nullable.fields):
        return f"it names a field {nullable} does not define"
    return f"it lacks a required field of {nullable}"


def _argument_problem(
    definition: GraphQLField | GraphQLDirective,
    node: FieldNode | DirectiveNode,
    variables: VariableValues,
    owner: str,
) -> str:
    """Coerce the arguments one by one to name the one that fails."""
    given: dict[str, ArgumentNode] = {a.name.value: a for a in node.arguments or ()}
    for name, argument in definition.args.items():
        try:
            coerce_argument({}, node, name, argument, given.get(name), variables, None)
        except GraphQLError:
            value = given[name].value if name in given else None
            if isinstance(value, VariableNode):
                variable = value.name.value
                if variables.coerced.get(variable, Undefined) is None:
                    return f"Argument '{name}' of {owner} must not be null (variable '${variable}')"
            return f"Argument '{name}' of {owner} has an invalid value: expected {argument.type}"
    return f"the arguments of {owner} do not match their types"


def _refuse_incomparable(described: str, name: str, value: Any) -> None:
    path = _incomparable(value)
    if path is not None:
        where = _place(name, path)
        raise BadUserInput(
            f"{described} has an invalid value{where}: a number must be finite and within "
            f"10^±{DECIMAL_DIGITS}"
        )


def _incomparable(value: Any, path: tuple[str | int, ...] = ()) -> list[str | int] | None:
    """Where a value holds a NaN, an infinity or a Decimal past what the sources hold."""
    if isinstance(value, decimal.Decimal):
        fits = value.is_finite() and (value.is_zero() or abs(value.adjusted()) < DECIMAL_DIGITS)
        return None if fits else list(path)
    if isinstance(value, float):
        return None if math.isfinite(value) else list(path)
    steps: Iterable[tuple[str | int, Any]] = ()
    if isinstance(value, dict):
        steps = value.items()
    elif isinstance(value, list | tuple):
        steps = enumerate(value)
    for step, inner in steps:
        found = _incomparable(inner, (*path, step))
        if found is not None:
            return found
    return None
