"""How masked and scoped items are taken from the department database.

A masked item is selected as its mask, computed by the database; an item a grant
covers only within a scope is selected clear on rows inside the scope and as its
fallback (masked, or nothing) on the rest, with a flag that says which rows were in.
The caller's attributes are bound as parameters of the scope condition, never values
from the query.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from catalog import DataItem, Resource
from connectors import And, Comparison, Computed, Flag, Operator, Or, Predicate
from policies import Decision
from policies.scope import Scope


@dataclass(frozen=True)
class Shown:
    """How a masked or scoped item's value is taken from a row the source computed."""

    name: str
    label: str
    """The value on rows inside the scope, or on every row without one."""
    flag: str | None = None
    """Rows where this is 0 are outside the scope and take `outside`."""
    outside: str | None = None
    """None: withheld outside the scope (reported as OUT_OF_SCOPE)."""
    as_text: bool = False
    """The field is a String (its masked form is): clear numbers are served as text."""


@dataclass
class ComputedItems:
    """What the source computes for the masked and scoped items of one resource."""

    shown: list[Shown] = field(default_factory=list)
    computed: list[Computed] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)

    def add(
        self,
        resource: Resource,
        item: DataItem,
        decision: Decision,
        attributes: Mapping[str, str],
    ) -> None:
        as_text = item.mask is not None
        inside = f"_shown_{item.column}"
        if not decision.scoped:  # masked on every row
            self.computed.append(Computed(inside, item.column, decision.mask))
            self.shown.append(Shown(item.name, inside, as_text=as_text))
            return
        condition = scope_condition(resource, decision.scopes, attributes)
        flag = f"_inside_{item.column}"
        self.flags.append(Flag(flag, condition))
        self.computed.append(Computed(inside, item.column, decision.mask, condition))
        fallback = decision.fallback
        outside = None
        if fallback is not None and fallback.allowed:
            outside = f"_outside_{item.column}"
            self.computed.append(
                Computed(outside, item.column, fallback.mask, condition, holds=False)
            )
        self.shown.append(Shown(item.name, inside, flag, outside, as_text))


def scope_condition(
    resource: Resource, scopes: tuple[Scope, ...], attributes: Mapping[str, str]
) -> Predicate:
    """Rows inside any of `scopes`, the caller's attributes bound as parameters. A scope
    naming an attribute the caller lacks covers no row."""
    alternatives: list[Predicate] = []
    for scope in scopes:
        if any(term.attribute not in attributes for term in scope.terms):
            continue
        alternatives.append(
            And(
                tuple(
                    Comparison(
                        resource.item(term.item).column, Operator.EQ, attributes[term.attribute]
                    )
                    for term in scope.terms
                )
            )
        )
    return Or(tuple(alternatives))
