"""What a read asks of an upstream gov-share: one document per read shape, its
variables carrying every value (keys, filter values, the page's cursor), so no value
read ever enters the document text the upstream hashes into its audit record.

The upstream's `where` takes the platform's whole predicate grammar (`_and`, `_or`,
`_not`, every comparison) on its items, so a read's filter, its grant scopes and its
batch of keys (`_in`) all go upstream; a page after a cursor goes as `_gt` on the key.
Counts go as one alias per key of a batch, each with its own `where`, in one call.
A page after a cursor in a requested order is refused: the upstream's cursors are its
own, and an ordering's keyset would need NULL-aware alternatives it has no operator for.
"""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any

from catalog import RemoteEndpoint
from connectors.arrival import needed_columns
from connectors.base import And, Comparison, Not, Operator, Or, Predicate, Read
from errors import PushdownRefused

LIST = "rows"
"""The alias the list field is answered under, whatever the upstream calls it."""
COUNT = "count"
"""The alias prefix of each count: `count0`, `count1`, … one per key of a batch."""


@dataclass(frozen=True)
class Asked:
    """One read's document, the variables every page of it shares, and the upstream
    field each column is read from."""

    document: str
    variables: Mapping[str, Any]
    fields: Mapping[str, str]


def counted(read: Read, endpoint: RemoteEndpoint, keys: tuple[Hashable, ...] | None) -> Asked:
    """A count of the records `read` matches, for each of `keys` (one alias each: the
    upstream answers them all in one call) or in all (`keys` None)."""
    remote, upstream = endpoint.remote, endpoint.upstream_fields
    conditions = [] if read.predicate is None else [read.predicate]
    wheres: list[dict[str, Any] | None] = []
    for key in keys if keys is not None else (None,):
        matched = list(conditions)
        if keys is not None:
            assert read.match_column is not None
            matched.append(Comparison(read.match_column, Operator.EQ, key))
        wheres.append(_where(And(tuple(matched)), upstream) if matched else None)
    declared = ", ".join(f"$where{at}: {remote.type_name}Where" for at in range(len(wheres)))
    counts = " ".join(
        f"{COUNT}{at}: {remote.list_field}(where: $where{at}) {{ totalCount }}"
        for at in range(len(wheres))
    )
    variables = {f"where{at}": where for at, where in enumerate(wheres)}
    return Asked(f"query Count({declared}) {{ {counts} }}", variables, {})


def asked(read: Read, endpoint: RemoteEndpoint, source: str) -> Asked:
    upstream = endpoint.upstream_fields
    conditions: list[Predicate] = [] if read.predicate is None else [read.predicate]
    if read.match_values is not None:
        assert read.match_column is not None
        keys = tuple(dict.fromkeys(read.match_values))
        conditions.append(Comparison(read.match_column, Operator.IN, keys))
    if read.page is not None and read.page.after is not None:
        if read.order:
            raise PushdownRefused(
                f"source {source} cannot push down pages after a cursor in a requested "
                f"order for {read.table}",
                source=source,
            )
        conditions.append(Comparison(read.key_column, Operator.GT, read.page.after[-1]))
    where = _where(And(tuple(conditions)), upstream) if conditions else None
    order = [{upstream[key.column]: "desc" if key.descending else "asc"} for key in read.sort_keys]
    columns = needed_columns(read)
    fields = {column: upstream[column] for column in columns}
    remote = endpoint.remote
    selection = " ".join(dict.fromkeys(fields.values()))
    document = (
        f"query Read($where: {remote.type_name}Where, $orderBy: [{remote.type_name}OrderBy!], "
        f"$first: Int!, $after: String) {{ {LIST}: {remote.list_field}(where: $where, "
        f"orderBy: $orderBy, first: $first, after: $after) {{ edges {{ node {{ {selection} }} }} "
        "pageInfo { hasNextPage endCursor } } }"
    )
    return Asked(document, {"where": where, "orderBy": order}, fields)


def _where(predicate: Predicate, upstream: Mapping[str, str]) -> dict[str, Any]:
    if isinstance(predicate, And):
        return {"_and": [_where(operand, upstream) for operand in predicate.operands]}
    if isinstance(predicate, Or):
        return {"_or": [_where(operand, upstream) for operand in predicate.operands]}
    if isinstance(predicate, Not):
        return {"_not": _where(predicate.operand, upstream)}
    value = predicate.value
    operand = [_literal(v) for v in value] if isinstance(value, tuple) else _literal(value)
    return {upstream[predicate.column]: {f"_{predicate.operator.value}": operand}}


def _literal(value: Hashable) -> Any:
    """A value as the upstream's variables take it: its Decimal, Date and DateTime
    scalars read text."""
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    return value
