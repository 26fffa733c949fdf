"""What a read asks of a REST API, as query parameters its catalog `api:` block
declares; whatever it does not declare is refused (PUSHDOWN_REFUSED) before the API
is called, so no read is ever answered by fetching more and filtering here.

A filter is a conjunction of declared comparisons; the grant scopes the platform adds
(an OR of equalities on one column, or a single alternative) become `in` or `eq`.
"""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Hashable, Iterator
from dataclasses import dataclass
from typing import NoReturn

from catalog import Api, Endpoint
from connectors.arrival import needed_columns
from connectors.base import And, Comparison, Not, Operator, Or, Predicate, Read
from errors import PushdownRefused

Parameters = tuple[tuple[str, str], ...]


class _NothingMatches(Exception):
    """The filter holds on no row (an empty IN, a scope the caller has no part of)."""


@dataclass(frozen=True)
class Asked:
    """The parameters every call of one read sends, and the columns parsed from each
    record; `None` from `asked` means no record can match, so no call is made."""

    parameters: Parameters
    columns: tuple[str, ...]


def asked(read: Read, endpoint: Endpoint, source: str) -> Asked | None:
    api = endpoint.api
    refuse = _Refuser(source, read.table)
    try:
        comparisons = list(_comparisons(read.predicate, refuse))
    except _NothingMatches:
        return None
    if read.page is not None and read.page.after is not None:
        if read.order:
            refuse("pages after a cursor in a requested order")
        comparisons.append(Comparison(read.key_column, Operator.GT, read.page.after[-1]))
    parameters = [_filter(api, comparison, refuse) for comparison in comparisons]
    if read.order or (read.page is not None and not _one_record(read)):
        parameters.append(_ordering(api, read, refuse))
    columns = needed_columns(read)
    if api.fields_parameter is not None:
        fields = ",".join(dict.fromkeys(api.fields.get(column, column) for column in columns))
        parameters.append((api.fields_parameter, fields))
    names = [name for name, _ in parameters]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        refuse(f"two conditions in one parameter ({repeated[0]})")
    return Asked(tuple(parameters), columns)


def text(value: Hashable) -> str:
    """A value as an API's query parameter or path writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    return str(value)


class _Refuser:
    def __init__(self, source: str, table: str) -> None:
        self.source, self.table = source, table

    def __call__(self, what: str) -> NoReturn:
        raise PushdownRefused(
            f"source {self.source} cannot push down {what} for {self.table}", source=self.source
        )


def _comparisons(predicate: Predicate | None, refuse: _Refuser) -> Iterator[Comparison]:
    if predicate is None:
        return
    if isinstance(predicate, And):
        for operand in predicate.operands:
            yield from _comparisons(operand, refuse)
    elif isinstance(predicate, Or):
        yield from _alternatives(predicate, refuse)
    elif isinstance(predicate, Not):
        refuse("negated filters")
    elif predicate.operator is Operator.IN and not predicate.value:
        raise _NothingMatches
    else:
        yield predicate


def _alternatives(predicate: Or, refuse: _Refuser) -> Iterator[Comparison]:
    """An OR the API can answer: none (nothing matches), one alternative, or equalities
    on one column."""
    operands = predicate.operands
    if not operands:
        raise _NothingMatches
    if len(operands) == 1:
        yield from _comparisons(operands[0], refuse)
        return
    alternatives = [_single(operand) for operand in operands]
    columns = {comparison.column for comparison in alternatives if comparison is not None}
    if None in alternatives or len(columns) != 1:
        refuse("alternatives (OR) other than equalities on one column")
    values = tuple(comparison.value for comparison in alternatives if comparison is not None)
    yield Comparison(columns.pop(), Operator.IN, values)


def _single(predicate: Predicate) -> Comparison | None:
    """The one equality `predicate` is, alone or as the only operand of an AND."""
    while isinstance(predicate, And) and len(predicate.operands) == 1:
        predicate = predicate.operands[0]
    if isinstance(predicate, Comparison) and predicate.operator is Operator.EQ:
        return predicate
    return None


def _filter(api: Api, comparison: Comparison, refuse: _Refuser) -> tuple[str, str]:
    operator = comparison.operator.value
    for declared in api.filters:
        if declared.column != comparison.column:
            continue
        for declared_operator, parameter in declared.parameters.items():
            if declared_operator == operator:
                value = comparison.value
                if isinstance(value, tuple):
                    return parameter, declared.separator.join(map(text, value))
                return parameter, text(value)
    refuse(f"filters on {comparison.column} ({operator})")


def _ordering(api: Api, read: Read, refuse: _Refuser) -> tuple[str, str]:
    ordering = api.ordering
    if ordering is None:
        refuse("ordering")
    keys = []
    for key in read.sort_keys:
        if key.column not in ordering.columns:
            refuse(f"ordering on {key.column}")
        field = api.fields.get(key.column, key.column)
        keys.append(ordering.descending_prefix + field if key.descending else field)
    return ordering.parameter, ordering.separator.join(keys)


def _one_record(read: Read) -> bool:
    """Whether the read's filter names one key, so no order is needed to page it."""
    predicate = read.predicate
    operands = predicate.operands if isinstance(predicate, And) else (predicate,)
    return any(
        isinstance(operand, Comparison)
        and operand.column == read.key_column
        and operand.operator is Operator.EQ
        for operand in operands
    )
