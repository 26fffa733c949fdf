"""After execution: account for every field resolved, and report each error once.

One pass over the response, guided by the plan, counts how often each field path was
resolved (for the audit record) and finds where each denied field first occurs, so a
denial is one error per (type, field), never one per row.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLError

from errors import FieldError, GovShareError
from resolvers.governance import Governance
from resolvers.plan import Coordinate, Plan, Selection

logger = logging.getLogger("gov_share.execution")


@dataclass
class Accounting:
    counts: dict[tuple[str, ...], int] = field(default_factory=dict)
    coordinates: dict[tuple[str, ...], Coordinate] = field(default_factory=dict)
    first_paths: dict[Coordinate, list[str | int]] = field(default_factory=dict)


def account(data: dict[str, Any] | None, plan: Plan) -> Accounting:
    accounting = Accounting()
    if data is not None:
        _visit(data, plan.root, [], accounting)
    return accounting


def _visit(
    obj: dict[str, Any], selections: dict[str, Selection], path: list[str | int], acc: Accounting
) -> None:
    for key, selection in selections.items():
        if key not in obj:
            continue
        acc.counts[selection.path] = acc.counts.get(selection.path, 0) + 1
        acc.coordinates[selection.path] = selection.coordinate
        path.append(key)
        acc.first_paths.setdefault(selection.coordinate, list(path))
        value = obj[key]
        if selection.children and value is not None:
            for index, item in enumerate(value) if isinstance(value, list) else ((None, value),):
                if index is not None:
                    path.append(index)
                _visit(item, selection.children, path, acc)
                if index is not None:
                    path.pop()
        path.pop()


def report(
    execution_errors: Iterable[GraphQLError], governance: Governance, accounting: Accounting
) -> list[dict[str, Any]]:
    """Denials first, at their first occurrence; then execution errors, deduplicated."""
    reported: list[dict[str, Any]] = []
    for denial in governance.denials:
        path = accounting.first_paths.get(denial.coordinate)
        reported.append(_entry(denial.error, path, denial.first.node.loc))
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
            reported.append({**error.formatted, "extensions": {"code": "BAD_USER_INPUT"}})
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
