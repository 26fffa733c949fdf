"""Rules no request will ever be decided by, from now on: those that can never match
and those another rule always answers for first.

Each rule is asked about the way the server would ask: by the callers its subject
covers, for the items and purposes it names, at now and at every later start or end of
any rule inside its own window (decisions change only there). If no answer ever rests
on the rule, it is dead: shadowed when other rules or grants answered, never matching
when the catalog answered before any rule was asked (a not_shared or unconditional
item, the provider's own data, an item masked for every department anyway, the public).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass

from catalog import Catalog, DataItem, ShareType
from policies.caller import Caller, Purpose
from policies.decision import Action
from policies.engine import SharingPolicy
from policies.named import callers_of
from policies.outcomes import bases
from policies.rule import Rule, from_instant, instant
from policies.rules import RuleSet

CATALOG_ANSWERS = {
    "catalog:not_shared": "the catalog never shares the item (not_shared)",
    "catalog:unconditional": "the catalog shares the item with every department",
    "catalog:conditional": "no purpose is declared",
    "provider:own_data": "the subject is the item's provider, which reads its own data",
    "catalog:masked_for_all_departments": (
        "the catalog shows the item masked to every department without a clear rule"
    ),
    "public": "the catalog alone decides for the public",
    "catalog:open_to_public": "the catalog alone decides for the public",
    "catalog:masked_for_public": "the catalog alone decides for the public",
}


@dataclass(frozen=True)
class Unreached:
    rule: Rule
    why: str


@dataclass(frozen=True)
class _Probe:
    caller: Caller
    item: DataItem
    purpose: Purpose
    moment: str


def unreached(catalog: Catalog, rules: RuleSet, now: datetime.datetime) -> list[Unreached]:
    """Every rule in force now or later that no decision from `now` on rests on."""
    starts = sorted({t for rule in rules.rules for t in (rule.valid_from, rule.valid_until) if t})
    policies: dict[str, SharingPolicy] = {}
    found = []
    for rule in rules.rules:
        if rule.valid_until and rule.valid_until <= instant(now):
            continue  # over: a grant past its end is a problem of its own
        answered: set[str] = set()
        for probe in _probes(catalog, rules, rule, instant(now), starts):
            # One policy per moment: a policy's cache assumes time only moves forward.
            policy = policies.setdefault(probe.moment, SharingPolicy(catalog, rules))
            resource = catalog.resource(rule.resource_id)
            action = Action.VERIFY if rule.action == Action.VERIFY else Action.READ_CLEAR
            moment = from_instant(probe.moment)
            decision = policy.decide(
                probe.caller, resource, probe.item, probe.purpose, moment, action
            )
            answered |= bases(decision)
            if rule.basis in answered:
                break
        else:
            found.append(Unreached(rule, _why(answered)))
    return found


def _probes(
    catalog: Catalog, rules: RuleSet, rule: Rule, now: str, starts: list[str]
) -> Iterator[_Probe]:
    resource = catalog.resource(rule.resource_id)
    item_name = rule.obj.partition(".")[2]
    items = [
        item
        for item in resource.items
        if item_name in ("*", item.name)
        and (item.share_type is ShareType.CONDITIONAL or item_name != "*")
        and (item.mask is not None or rule.action != Action.READ_MASKED)
    ]
    purposes = list(Purpose) if rule.purpose == "*" else [Purpose(rule.purpose)]
    first = max(rule.valid_from, now)
    moments = [first] + [
        t for t in starts if first < t and (not rule.valid_until or t < rule.valid_until)
    ]
    for moment in moments:
        for caller in callers_of(rule.subject, rules):
            for item in items:
                for purpose in purposes:
                    yield _Probe(caller, item, purpose, moment)


def _why(answered: set[str]) -> str:
    others = sorted(
        basis
        for basis in answered
        if basis not in CATALOG_ANSWERS and not basis.startswith("rules:")
    )
    if others:
        return f"shadowed by {', '.join(others)}: whenever it matches, they answer first"
    reasons = sorted({CATALOG_ANSWERS[basis] for basis in answered if basis in CATALOG_ANSWERS})
    if not reasons:
        return "can never match: it covers no conditional item the model is asked about"
    return f"can never match: {'; '.join(reasons)}, before any rule is asked"
