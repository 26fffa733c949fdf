"""The names under which a read's values are bound, and its shape: everything else.

The values of the keys, the filter, the conditions of computed values and flags, and
the page are bound under names `parameters` gives from the read alone, so a connector
may compile a statement once per `shape` and bind each read's values itself.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
from collections.abc import Hashable, Iterator, Sequence
from typing import Any

from connectors.base import And, Comparison, Not, Operator, Or, Predicate, Read


def parameters(read: Read, *, array_keys: bool = False) -> dict[str, Any]:
    """The values of `read` by the names its statement binds them under; with
    `array_keys` (PostgreSQL: `_sql_query._match`) the keys as one `keys` array."""
    keys = read.match_values or ()
    named: dict[str, Any] = {"keys": list(keys)} if array_keys else in_names("match", keys)
    named.update(_values("where", read.predicate))
    for index, computed in enumerate(read.computed):
        named.update(_values(f"computed_{index}", computed.condition))
    for index, flag in enumerate(read.flags):
        named.update(_values(f"flag_{index}", flag.condition))
    if read.page is not None:
        named["limit"] = read.page.limit
        for index, value in enumerate(read.page.after or ()):
            if value is not None:  # a NULL is written into the statement (`_sql_query._after`)
                named[f"after_{index}"] = value
    return named


def bounded_parameters(read: Read) -> dict[str, Any]:
    """`parameters`, and the bound of `bounded_statement`."""
    return {**parameters(read), "bound": rows_bound(read)}


def rows_bound(read: Read) -> int:
    """A page's rows for each match value, and one more."""
    assert read.match_values is not None and read.page is not None
    return len(read.match_values) * read.page.limit + 1


def shape(read: Read, *, array_keys: bool = False) -> Hashable:
    """What the text of `read`'s statements depends on: everything but the values
    `parameters` names, of which only how many there are and which are NULL (not how
    many keys, with `array_keys`: they are one parameter)."""
    page = None
    if read.page is not None:
        page = (read.page.after is None, tuple(v is None for v in read.page.after or ()))
    valueless = dataclasses.replace(
        read,
        match_values=None,
        page=None,
        predicate=None,
        computed=tuple(dataclasses.replace(c, condition=None) for c in read.computed),
        flags=(),
    )
    return (
        valueless,
        None if read.match_values is None or array_keys else len(read.match_values),
        _predicate_shape(read.predicate),
        tuple(_predicate_shape(computed.condition) for computed in read.computed),
        tuple((flag.label, _predicate_shape(flag.condition)) for flag in read.flags),
        page,
    )


def _values(prefix: str, predicate: Predicate | None) -> dict[str, Any]:
    """The comparison values of `predicate`, named as `_sql_conditions.sql_condition` binds them."""
    named: dict[str, Any] = {}
    for index, comparison in enumerate(_comparisons(predicate)):
        if comparison.operator is Operator.IN:
            assert isinstance(comparison.value, tuple)
            named.update(in_names(f"{prefix}_{index}", comparison.value))
        elif comparison.operator is not Operator.IS_NULL:
            named[f"{prefix}_{index}"] = comparison.value
    return named


def _predicate_shape(predicate: Predicate | None) -> Hashable:
    if predicate is None:
        return None
    if isinstance(predicate, And | Or):
        operands = tuple(_predicate_shape(operand) for operand in predicate.operands)
        return (type(predicate).__name__, operands)
    if isinstance(predicate, Not):
        return ("Not", _predicate_shape(predicate.operand))
    value = predicate.value
    if predicate.operator is Operator.IN:
        assert isinstance(value, tuple)
        return (predicate.column, predicate.operator, len(value))
    is_null = predicate.operator is Operator.IS_NULL
    return (predicate.column, predicate.operator, bool(value) if is_null else None)


def _comparisons(predicate: Predicate | None) -> Iterator[Comparison]:
    """The comparisons of `predicate` in the order `_sql_conditions.sql_condition` names them."""
    if isinstance(predicate, And | Or):
        for operand in predicate.operands:
            yield from _comparisons(operand)
    elif isinstance(predicate, Not):
        yield from _comparisons(predicate.operand)
    elif predicate is not None:
        yield predicate


def in_names(name: str, values: Sequence[Hashable]) -> dict[str, Any]:
    return dict(zip(_numbered(name, len(values)), values, strict=True))


@functools.lru_cache(maxsize=1024)
def _numbered(name: str, count: int) -> tuple[str, ...]:
    """Names for a list of `count` values, made once: formatting a hundred names for
    each read took ~22 µs, zipping the values with the names made ~6."""
    return tuple(f"{name}_{index}" for index in range(count))


def names(prefix: str) -> Iterator[str]:
    return (f"{prefix}_{number}" for number in itertools.count())
