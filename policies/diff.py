"""`python -m policies diff`: what a change to the rule files does to consumers — who
gains or loses which item, for which purpose — with the same grants on both sides.

Every consumer a rule of either version names (a group's members, a system, the
public) is asked about every item a rule of either version names, for every purpose,
reading and verifying, at one time; a row is shown where the two versions answer
differently. Which rule or line answers is left out: moving a line changes its number,
not what anyone gets. Verifying is shown only where it differs on its own (a verify
rule), not where it merely follows reading.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from catalog import Catalog, DataItem, Resource, ShareType
from policies.caller import Caller, Purpose
from policies.decision import Action, Decision, Outcome
from policies.engine import SharingPolicy
from policies.named import caller_name, callers_of
from policies.outcomes import describe
from policies.rules import RuleSet
from policies.table import aligned

RANK = {Outcome.DENIED: 0, Outcome.VERIFIED: 1, Outcome.MASKED: 2, Outcome.CLEAR: 3}
ACTIONS = {Action.READ_CLEAR: "read", Action.VERIFY: "verify"}


@dataclass(frozen=True)
class Difference:
    consumer: str
    item: str
    purpose: Purpose
    action: Action
    before: Decision
    after: Decision

    @property
    def change(self) -> str:
        """`gains` when the new version gives at least as much on every row and more on
        some, `loses` the other way round, `changes` otherwise."""
        old, new = _level(self.before), _level(self.after)
        if all(n >= o for o, n in zip(old, new, strict=True)):
            return "gains"
        if all(n <= o for o, n in zip(old, new, strict=True)):
            return "loses"
        return "changes"


def differences(
    catalog: Catalog, before: RuleSet, after: RuleSet, now: datetime.datetime
) -> list[Difference]:
    callers: dict[str, Caller] = {}
    items: set[tuple[str, str]] = set()
    for rules in (before, after):
        for rule in rules.rules:
            callers.update((caller_name(c), c) for c in callers_of(rule.subject, rules))
            items |= {(resource.id, item.name) for resource, item in _items(catalog, rule.obj)}
    old, new = SharingPolicy(catalog, before), SharingPolicy(catalog, after)
    found = []
    for name, caller in sorted(callers.items()):
        for resource_id, item_name in sorted(items):
            resource = catalog.resource(resource_id)
            item = resource.item(item_name)
            for purpose in Purpose:
                for action in ACTIONS:
                    was = old.decide(caller, resource, item, purpose, now, action)
                    becomes = new.decide(caller, resource, item, purpose, now, action)
                    if describe(was) == describe(becomes):
                        continue
                    if action is Action.VERIFY and Outcome.VERIFIED not in (
                        was.outcome,
                        becomes.outcome,
                    ):
                        continue  # follows reading, already shown
                    found.append(
                        Difference(
                            name, f"{resource_id}.{item_name}", purpose, action, was, becomes
                        )
                    )
    return found


def render(found: Sequence[Difference]) -> str:
    if not found:
        return "no consumer gains or loses anything"
    rows = [
        [
            difference.consumer,
            difference.item,
            difference.purpose.value,
            ACTIONS[difference.action],
            describe(difference.before),
            describe(difference.after),
            difference.change,
        ]
        for difference in found
    ]
    headers = ["consumer", "item", "purpose", "action", "before", "after", "change"]
    return aligned(headers, rows)


def _items(catalog: Catalog, obj: str) -> Iterator[tuple[Resource, DataItem]]:
    resource_id, _, name = obj.partition(".")
    resource = catalog.resource(resource_id)
    for item in resource.items:
        if item.name == name or (name == "*" and item.share_type is ShareType.CONDITIONAL):
            yield resource, item


def _level(decision: Decision) -> tuple[int, int]:
    """What rows inside the decision's scopes get, and what the others get."""
    outside = decision.fallback if decision.scoped and decision.fallback else decision
    return RANK[decision.outcome], RANK[outside.outcome]
