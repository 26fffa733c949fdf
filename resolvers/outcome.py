"""What one execution hands back, finished: the response's parts, and what the audit
record needs, as plain values.

The edge sends the first and maps the second to an audit record; it never reads the
executor's plan, decisions, loaders or counts. Record keys and data subjects are
handed over as read, because hashing them is the audit log's business (its key, its
key id), not the executor's.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Set
from dataclasses import dataclass, field
from typing import Any

from policies.decision import Outcome
from resolvers.governance import Governance
from resolvers.loaders import Accessed
from resolvers.plan import Plan


@dataclass(frozen=True)
class FieldAccount:
    """One field of the operation, by its response path: how often it resolved and
    what was decided for it."""

    path: str
    """Response keys joined by dots (`enterprises.edges.node.name`)."""
    count: int
    outcome: Outcome | None
    """None for a field nothing decides: connection plumbing (edges, node, pageInfo),
    `__typename`, the catalog."""
    basis: str
    """What decided it (the catalog's share type, a rule, a grant); empty when nothing did."""


@dataclass(frozen=True)
class RecordsServed:
    """The records of one resource a request served: their keys and data subjects."""

    keys: Set[Hashable]
    subjects: Set[Hashable]


@dataclass(frozen=True)
class ExecutionOutcome:
    """What happened to one request: the response body's parts, and its accounts."""

    executed: bool
    """False when the document was refused before execution (parse, validation,
    unknown operation, a value that does not coerce): the response has no `data`."""
    data: dict[str, Any] | None
    errors: list[dict[str, Any]]
    document_id: str
    """The document's identity: the SM3 hash of its text."""
    policy_version: str
    """The policy the request was decided under: the one in force when it started."""
    catalog_version: str
    fields: tuple[FieldAccount, ...] = ()
    """Every field the operation selected, by path; none when it was not executed."""
    records: Mapping[str, RecordsServed] = field(default_factory=dict)
    """By resource id: only records served, never those read to tell a next page."""
    deciding_seconds: float = 0.0
    """How long deciding took (every coordinate the plan touches, what may be read from
    it, and finding or keeping what was decided; planning aside): the decision layer's
    share of a request, which must stay small at any number of grants
    (bench/decisions.py)."""

    @property
    def error_codes(self) -> list[str]:
        return [error["extensions"]["code"] for error in self.errors]


def field_accounts(
    plan: Plan, governance: Governance, counts: Mapping[tuple[str, ...], int]
) -> tuple[FieldAccount, ...]:
    """Once per request, per selection of the plan: never per row."""
    accounts = []
    for selection in plan.walk():
        decision = governance.decision_of(selection)
        accounts.append(
            FieldAccount(
                ".".join(selection.path),
                counts.get(selection.path, 0),
                decision.outcome if decision else None,
                decision.basis if decision else "",
            )
        )
    accounts.sort(key=lambda account: account.path)
    return tuple(accounts)


def records_served(accessed: Accessed) -> dict[str, RecordsServed]:
    return {
        resource: RecordsServed(keys, accessed.subjects.get(resource, frozenset()))
        for resource, keys in accessed.keys.items()
    }
