"""`python -m policies replay`: the decisions the audit log recorded, decided again by a
candidate rule folder, and every one that would come out differently — the impact of
a change before it goes live.

What a record lets us replay, honestly: a request's caller (department and system),
declared purpose and time, and for each field of the response its path, the outcome
recorded and what decided it. A field that is a data item (`persons.edges.node.phone`)
is decided again exactly as the server decides it. The rest is counted and left out,
with the reason:
- relationships and root connections: their decision also rests on the join items and
  on the request's filters and ordering, which the record does not keep;
- verification fields: the record does not say which items were claimed;
- response keys the catalog does not name: the record keeps response keys, and an
  alias (`a: phone`) hides the field it stands for. An alias that is another field's
  name cannot be told apart at all: it is replayed as that field.
The caller's key attributes are not needed: they choose rows, not decisions. Only the
outcome is compared, not which rule gave it (editing a file moves line numbers).
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from catalog import Cardinality, Catalog, DataItem, Resource
from policies.caller import PUBLIC, Caller, Purpose
from policies.decision import Action, Outcome
from policies.engine import SharingPolicy
from policies.named import caller_name
from policies.outcomes import describe, local
from policies.table import aligned

DECIDED = frozenset(outcome.value for outcome in Outcome)
JOINED = "relationships and connections (their filters and joins are not recorded)"
VERIFICATION = "verification fields (the claimed items are not recorded)"
UNNAMED = "response keys the catalog does not name (aliases)"


class LoggedField(Protocol):
    @property
    def path(self) -> str: ...
    @property
    def decision(self) -> str: ...
    @property
    def basis(self) -> str: ...


class LoggedRequest(Protocol):
    """What replay reads of an audit record (`audit.AuditRecord` is one)."""

    @property
    def occurred_at(self) -> datetime.datetime: ...
    @property
    def caller_department(self) -> str | None: ...
    @property
    def caller_system(self) -> str | None: ...
    @property
    def purpose(self) -> str | None: ...
    @property
    def fields(self) -> Sequence[LoggedField]: ...


@dataclass(frozen=True)
class Changed:
    at: datetime.datetime
    caller: str
    item: str
    purpose: str
    before: str
    after: str


@dataclass
class Replayed:
    requests: int = 0
    decisions: int = 0
    changed: list[Changed] = field(default_factory=list)
    left_out: Counter[str] = field(default_factory=Counter)


def replay(
    catalog: Catalog,
    requests: Iterable[LoggedRequest],
    policy_at: Callable[[datetime.datetime], SharingPolicy],
) -> Replayed:
    """`requests` oldest first; `policy_at` the candidate policy with the grants in force
    at a time (a policy's cache expects time to move forward)."""
    done = Replayed()
    for request in requests:
        decided = [account for account in request.fields if account.decision in DECIDED]
        if not decided:
            continue
        done.requests += 1
        caller = _caller(request)
        purpose = Purpose(request.purpose) if request.purpose else None
        policy = policy_at(request.occurred_at)
        seen: set[str] = set()
        for account in decided:
            verified = account.decision == Outcome.VERIFIED.value  # only checks answer so
            found = VERIFICATION if verified else _item_at(catalog, account.path)
            if isinstance(found, str):
                done.left_out[found] += 1
                continue
            resource, item = found
            done.decisions += 1
            decision = policy.decide(
                caller, resource, item, purpose, request.occurred_at, Action.READ_CLEAR
            )
            name = f"{resource.id}.{item.name}"
            if decision.outcome.value != account.decision and name not in seen:
                seen.add(name)
                done.changed.append(
                    Changed(
                        request.occurred_at,
                        caller_name(caller),
                        name,
                        request.purpose or "-",
                        f"{account.decision} ({account.basis})",
                        f"{describe(decision)} ({decision.basis})",
                    )
                )
    return done


def render(done: Replayed, days: float) -> str:
    if not done.requests:
        return f"no audit records with decisions in the last {days:g} days: nothing to replay"
    lines = [
        f"{done.requests} requests, {done.decisions} item decisions replayed; "
        f"{len(done.changed)} would change"
    ]
    lines += [f"left out: {count} {reason}" for reason, count in sorted(done.left_out.items())]
    if done.changed:
        rows = [[local(c.at), c.caller, c.item, c.purpose, c.before, c.after] for c in done.changed]
        headers = ["time", "caller", "item", "purpose", "before", "after"]
        lines += ["", aligned(headers, rows)]
    return "\n".join(lines)


def _caller(request: LoggedRequest) -> Caller:
    if request.caller_department is None:
        return PUBLIC
    return Caller(department=request.caller_department, system=request.caller_system)


def _item_at(catalog: Catalog, path: str) -> tuple[Resource, DataItem] | str:
    """The data item a response path ends at, or why it is left out."""
    root, *steps = path.split(".")
    resource, connection = _root(catalog, root)
    if resource is None:
        return VERIFICATION if connection else UNNAMED
    while steps:
        if connection:
            if steps[:2] != ["edges", "node"]:
                return UNNAMED
            steps, connection = steps[2:], False
            continue
        step, *steps = steps
        items = {item.name: item for item in resource.items}
        if step in items and not steps:
            return resource, items[step]
        joined = next((r for r in resource.relationships if r.name == step), None)
        if joined is None:
            return UNNAMED
        resource = catalog.resource(joined.to_resource)
        connection = joined.cardinality is Cardinality.MANY
    return JOINED


def _root(catalog: Catalog, field_name: str) -> tuple[Resource | None, bool]:
    """The resource a root field reads, and whether it is a connection; (None, True)
    for a verification field, (None, False) for a name the catalog does not have."""
    for resource in catalog.resources.values():
        if field_name == resource.list_field:
            return resource, True
        if field_name == resource.lookup_field:
            return resource, False
        if field_name == resource.names.verify_field:
            return None, True
    return None, False
