"""An upstream gov-share's answer as rows, with its decisions kept.

The upstream decides every field for the caller it was told of, and says so the way
this platform does: a withheld field is null with an error at its path, whose
`extensions.code` is one of the codes both platforms share. Such an error comes back
as this platform's own error of that code (`upstream_error`), with the upstream's
message and extensions (which by its rules carry no value), and stands in the row in
place of the value: the field's resolver then raises it at the field's path here, and
one error per field is reported, as for this platform's own denials. An error at the
list itself (the upstream refused the whole read, or failed) fails the read.

A value masked on arrival from a withheld column is that column's error too. A column
the read matches keys on, compares in a scope's condition or a verification claim, or
accounts for in the audit record (the key, the data subjects) cannot be used when
withheld: the read fails with its error.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from catalog import RemoteEndpoint
from connectors._remote_document import COUNT, LIST
from connectors._rest_records import Malformed, typed
from connectors.arrival import predicate_columns, shaped
from connectors.base import Read, Row
from errors import (
    BadCursor,
    DenialReason,
    FieldDenied,
    FieldError,
    LimitExceeded,
    PushdownRefused,
    QuotaExceeded,
    SourceUnavailable,
)

_FIELD_ERRORS: Mapping[str, type[FieldError]] = {
    error.code: error
    for error in (BadCursor, LimitExceeded, PushdownRefused, QuotaExceeded, SourceUnavailable)
}


_TOLD = frozenset({"field", "restsOn", "legalBasis", "application", "limit"})
"""The extensions this platform's own field errors carry besides `code` and `source`
(`resolvers.denials`, `resolvers.fields`): the only ones passed on from upstream, so
an upstream cannot put anything else in front of the caller, nor a name that would
clash with an error's own arguments."""


def upstream_error(error: Any, source: str) -> FieldError:
    """The upstream's error as this platform's; one with a code the platforms do not
    share, or none, is the source failing (its message is not repeated)."""
    extensions = error.get("extensions") if isinstance(error, dict) else None
    if not isinstance(extensions, dict) or not isinstance(error.get("message"), str):
        return SourceUnavailable(f"source {source} did not answer", source=source)
    code, message = extensions.get("code"), error["message"]
    told = {name: value for name, value in extensions.items() if name in _TOLD}
    if isinstance(code, str) and code in DenialReason.__members__:
        return FieldDenied(DenialReason(code), message, **told)
    kind = _FIELD_ERRORS.get(code) if isinstance(code, str) else None
    if kind is None:
        return SourceUnavailable(f"source {source} did not answer", source=source)
    return kind(message, **{**told, "source": source})


class ListPage:
    """One page of the upstream's list: its rows, and where the next one starts."""

    def __init__(self, body: Any, read: Read, fields: Mapping[str, str], source: str) -> None:
        if not isinstance(body, dict):
            raise Malformed("the answer is not a JSON object")
        denied, failed = _errors(body.get("errors"), source)
        data = body.get("data")
        listed = data.get(LIST) if isinstance(data, dict) else None
        if listed is None:
            raise failed or Malformed("no list in the answer")
        edges, info = listed.get("edges"), listed.get("pageInfo")
        if not isinstance(edges, list) or not isinstance(info, dict):
            raise Malformed("the list is not a connection")
        self.rows = [_row(edge, index, read, fields, denied) for index, edge in enumerate(edges)]
        following = info.get("endCursor")
        self.next = following if info.get("hasNextPage") and isinstance(following, str) else None


def counts(body: Any, how_many: int, source: str) -> list[int]:
    """The `count0` … counts of an answer, in order; any error fails them all."""
    if not isinstance(body, dict):
        raise Malformed("the answer is not a JSON object")
    errors = body.get("errors")
    if isinstance(errors, list) and errors:
        raise upstream_error(errors[0], source)
    data = body.get("data")
    found = []
    for at in range(how_many):
        counted = data.get(f"{COUNT}{at}") if isinstance(data, dict) else None
        total = counted.get("totalCount") if isinstance(counted, dict) else None
        if not isinstance(total, int) or isinstance(total, bool):
            raise Malformed("a count is not a number")
        found.append(total)
    return found


def _errors(
    errors: Any, source: str
) -> tuple[dict[tuple[int, str], FieldError], FieldError | None]:
    """The field errors by (edge, upstream field), and an error of the list itself."""
    denied: dict[tuple[int, str], FieldError] = {}
    failed: FieldError | None = None
    for error in errors if isinstance(errors, list) else ():
        path = error.get("path") if isinstance(error, dict) else None
        where = path[2:] if isinstance(path, list) and path[:2] == [LIST, "edges"] else []
        mapped = upstream_error(error, source)
        if len(where) == 3 and isinstance(where[0], int) and where[1] == "node":
            denied[(where[0], str(where[2]))] = mapped
        elif failed is None:
            failed = mapped
    return denied, failed


def _row(
    edge: Any,
    index: int,
    read: Read,
    fields: Mapping[str, str],
    denied: Mapping[tuple[int, str], FieldError],
) -> Row:
    node = edge.get("node") if isinstance(edge, dict) else None
    if not isinstance(node, dict):
        raise Malformed("an edge holds no node")
    endpoint = read.endpoint
    assert isinstance(endpoint, RemoteEndpoint)
    types = endpoint.types
    clear: dict[str, Any] = {}
    withheld: dict[str, FieldError] = {}
    for column, field in fields.items():
        error = denied.get((index, field))
        if error is not None:
            withheld[column] = error
        else:
            clear[column] = typed(node.get(field), types[column], column)
    if not withheld:
        return shaped(clear, read)
    compared = {read.match_column, *endpoint.accounted, *_compared(read)}
    for column, error in withheld.items():
        if column in compared:  # matched, accounted for or compared on: nothing to serve
            raise error
    return _shaped_with(clear, withheld, read)


def _compared(read: Read) -> Iterator[str]:
    """The columns a scope's condition or a flag compares (beyond those masked)."""
    for value in read.computed:
        if value.condition is not None:
            yield from predicate_columns(value.condition)
    for flag in read.flags:
        yield from predicate_columns(flag.condition)


def _shaped_with(clear: Row, withheld: Mapping[str, FieldError], read: Read) -> Row:
    """The row as `shaped` makes it, a withheld column's error standing for it and for
    every value masked from it."""
    kept = tuple(value for value in read.computed if value.column not in withheld)
    row = shaped({**clear, **dict.fromkeys(withheld)}, replace(read, computed=kept))
    for column, error in withheld.items():
        if column in read.columns:
            row[column] = error
    for value in read.computed:
        if value.column in withheld:
            row[value.label] = withheld[value.column]
    return row
