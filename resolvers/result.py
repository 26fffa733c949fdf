"""After execution: account for every field resolved, and report each error once.

One pass over the response, guided by the plan, counts how often each field path was
resolved (for the audit record) and finds where each denied field first occurs, so a
denial is one error per (type, field), never one per row.
"""

from __future__ import annotations

import functools
import logging
import operator
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLError

from errors import FieldError, GovShareError, InternalError
from policies.decision import Denial
from resolvers.denials import field_denied
from resolvers.governance import Governance
from resolvers.plan import Coordinate, Plan, Selection

logger = logging.getLogger("gov_share.execution")


@dataclass
class Accounting:
    counts: dict[tuple[str, ...], int] = field(default_factory=dict)
    first_paths: dict[Coordinate, list[str | int]] = field(default_factory=dict)


def account(data: dict[str, Any] | None, plan: Plan, governance: Governance) -> Accounting:
    accounting = Accounting()
    if data is not None:
        _count([data], plan.root, accounting.counts)
        for denied in governance.denials:
            for selection in plan.touched[denied.coordinate]:
                path = _first_path(data, selection.path)
                if path is not None:
                    accounting.first_paths[denied.coordinate] = path
                    break
    return accounting


def _count(
    objects: list[dict[str, Any]],
    selections: dict[str, Selection],
    counts: dict[tuple[str, ...], int],
) -> None:
    """Every object of a level holds every key selected on it, so a field resolved once
    per object of its level: count objects, not fields, and descend only into objects."""
    for key, selection in selections.items():
        counts[selection.path] = counts.get(selection.path, 0) + len(objects)
        if not selection.children:
            continue
        below: list[dict[str, Any]] = []
        for obj in objects:
            value = obj.get(key)
            if isinstance(value, list):
                below.extend(filter(_present, value))  # C-level: a generator took twice as long
            elif value is not None:
                below.append(value)
        if below:
            _count(below, selection.children, counts)


_present = functools.partial(operator.is_not, None)


def _first_path(
    value: Any, keys: tuple[str, ...], prefix: tuple[str | int, ...] = ()
) -> list[str | int] | None:
    """Where a field first occurs in the response, depth first, in document order."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _first_path(item, keys, (*prefix, index))
            if found is not None:
                return found
        return None
    if not isinstance(value, dict) or keys[0] not in value:
        return None
    if len(keys) == 1:
        return [*prefix, keys[0]]
    return _first_path(value[keys[0]], keys[1:], (*prefix, keys[0]))


def report(
    execution_errors: Iterable[GraphQLError],
    governance: Governance,
    accounting: Accounting,
    withheld: Iterable[tuple[Denial, Selection]] = (),
) -> list[dict[str, Any]]:
    """Denials first, at their first occurrence; then values withheld from records
    outside a grant's scope, once per field; then execution errors, deduplicated. The
    policy's denials are worded as GraphQL errors here, at the edge of the resolvers."""
    reported: list[dict[str, Any]] = []
    for denied in governance.denials:
        path = accounting.first_paths.get(denied.coordinate)
        reported.append(_entry(field_denied(denied.denial), path, denied.first.node.loc))
    for withheld_field, selection in withheld:
        reported.append(_entry(field_denied(withheld_field), None, selection.node.loc))
    seen: set[tuple[str, Any]] = set()
    for error in execution_errors:
        original = error.original_error
        if isinstance(original, FieldError):
            identity = (
                original.code,
                original.extensions.get("source") or tuple(_shape(error.path)),
            )
            if identity in seen:
                continue
            seen.add(identity)
            reported.append(_entry(original, error.path, None, error.locations))
        elif original is None:
            # graphql-core's own execution errors (a null for a non-null field) name
            # fields, never values; the source broke the schema's promise, not the caller.
            reported.append({**error.formatted, "extensions": {"code": InternalError.code}})
        else:
            # The exception's text may quote data: log its type and place, never its message.
            logger.error(
                "resolver failed",
                extra={"error": type(original).__name__, "path": _shape(error.path)},
            )
            reported.append(
                _entry(GovShareError("internal error"), error.path, None, error.locations)
            )
    return reported


def _shape(path: list[str | int] | None) -> list[str]:
    return [step for step in path or () if isinstance(step, str)]


def _entry(error: GovShareError, path: Any, loc: Any, locations: Any = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"message": error.message}
    if locations:
        entry["locations"] = [location.formatted for location in locations]
    elif loc is not None:
        entry["locations"] = [{"line": loc.start_token.line, "column": loc.start_token.column}]
    if path:
        entry["path"] = list(path)
    entry["extensions"] = error.as_extensions()
    return entry
