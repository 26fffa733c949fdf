"""Verification (数据校核): whether values a consumer holds match a record.

Claims compare whole values for equality, nothing else, and the database evaluates
them: the stored value is never selected. An item claimed under a scoped grant is
checked only on rows inside the scope.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass

from catalog import DataItem, Resource, naming
from connectors import And, Comparison, Operator, Predicate
from errors import BadUserInput
from policies import Caller, Decision
from resolvers.plan import Selection
from resolvers.showing import scope_condition


@dataclass(frozen=True)
class Verification:
    """One verification selection: the key of the record to check, and the condition
    the database evaluates on it (every claim equal, inside any grant scope)."""

    key: Hashable
    condition: Predicate
    identifiers: tuple[Hashable, ...] = ()
    """The claimed values of items that identify a data subject: checking one is an
    access to that subject's data, whatever the answer (for the audit record)."""


def plan_verification(
    resource: Resource,
    selection: Selection,
    check: Callable[[Resource, DataItem], Decision],
    caller: Caller,
) -> tuple[Verification, list[Decision]]:
    """The check one selection asks for, and the decision on every item it claims."""
    claims = {
        name: value
        for name, value in (selection.arguments.get(naming.CLAIMS_ARGUMENT) or {}).items()
        if value is not None
    }
    if not claims:
        raise BadUserInput(
            f"Argument '{naming.CLAIMS_ARGUMENT}' of {naming.QUERY}.{resource.names.verify_field} "
            "needs at least one claimed value"
        )
    decisions: list[Decision] = []
    conditions: list[Predicate] = []
    for name, value in claims.items():
        item = resource.item(name)
        decision = check(resource, item)
        decisions.append(decision)
        conditions.append(Comparison(item.column, Operator.EQ, value))
        if decision.scoped:
            conditions.append(scope_condition(resource, decision.scopes, caller.attribute_values))
    key = selection.arguments[resource.key_item]
    identifiers = tuple(
        value for name, value in claims.items() if resource.item(name).identifies is not None
    )
    return Verification(key, And(tuple(conditions)), identifiers), decisions
