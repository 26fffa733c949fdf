"""Find the rule that allows a request without scanning every rule: the sharing model's
matcher (`model.conf`) evaluated over the few rules that name the caller and the item.

pycasbin's `enforce` re-parses the matcher and tries every rule (about 6 µs a rule:
0.6 s a decision with 100,000 grants). Rules here are indexed by (subject, object,
action), so a decision looks at the rules of the caller's department, its groups and
its system for one item and its resource's `*`, and nothing else. The matcher is
fixed (`MATCHER`): `load_rules` refuses a model whose matcher says anything else, and
the property test asks the Casbin model itself as its oracle, so the two cannot
drift. The rule returned is the first allowing one in policy order, as `enforce_ex`
explains a decision.

An index is never changed: `changed` makes a new one that shares every list it did not
touch, so adding or revoking one grant costs a shallow copy of the tables and of the
lists it touches (milliseconds at 100,000 grants, bench/decisions.py), not a rebuild.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from policies.rule import Rule

MATCHER = (
    "(g(r.dept, p.sub) || r.system == p.sub) && keyMatch(r.obj, p.obj) && r.act == p.act "
    '&& (p.purpose == "*" || r.purpose == p.purpose) && r.scope == p.scope '
    '&& (p.valid_from == "" || p.valid_from <= r.now) '
    '&& (p.valid_until == "" || r.now < p.valid_until)'
)
"""The matcher this index implements, as `model.conf` states it."""

_Key = tuple[str, str, str]
"""(subject, object, action): a rule's subject, `resource.item` or `resource.*`, act."""
_Listed = tuple[tuple[int, Rule], ...]
"""Rules with their place in policy order, in that order."""


@dataclass(frozen=True)
class RuleIndex:
    rules: Mapping[_Key, _Listed]
    groups: Mapping[str, tuple[str, ...]]
    """The groups each department belongs to (`g` lines): one level, as the loader allows."""
    changes: Mapping[str, tuple[str, ...]]
    """By object: every rule's start and end, sorted (once per rule, so one rule's
    removal removes its own), for when a cached decision goes stale."""
    size: int
    """One past the last place in policy order: where the next rule goes."""

    @classmethod
    def of(cls, rules: Iterable[Rule], groups: Iterable[tuple[str, str]]) -> RuleIndex:
        listed: dict[_Key, list[tuple[int, Rule]]] = {}
        changes: dict[str, list[str]] = {}
        size = 0
        for size, rule in enumerate(rules, start=1):
            listed.setdefault(_key(rule), []).append((size - 1, rule))
            changes.setdefault(rule.obj, []).extend(_moments(rule))
        members: dict[str, list[str]] = {}
        for member, group in groups:
            members.setdefault(member, []).append(group)
        return cls(
            {key: tuple(each) for key, each in listed.items()},
            {member: tuple(names) for member, names in members.items()},
            {obj: tuple(sorted(moments)) for obj, moments in changes.items()},
            size,
        )

    def match(
        self,
        department: str,
        system: str,
        obj: str,
        action: str,
        purpose: str,
        now: str,
        scope: str,
    ) -> Rule | None:
        """The first rule in policy order that allows the request, or None."""
        resource = obj.partition(".")[0]
        found: tuple[int, Rule] | None = None
        for subject in (department, *self.groups.get(department, ()), system):
            for each in (obj, f"{resource}.*"):
                for place, rule in self.rules.get((subject, each, action), ()):
                    if found is not None and place > found[0]:
                        break
                    if (
                        rule.scope == scope
                        and (rule.purpose == "*" or rule.purpose == purpose)
                        and (not rule.valid_from or rule.valid_from <= now)
                        and (not rule.valid_until or now < rule.valid_until)
                    ):
                        found = (place, rule)
                        break
        return found[1] if found is not None else None

    def next_change(self, resource_id: str, item: str, now: str) -> str | None:
        """The earliest rule start or end after `now` that could touch this item."""
        upcoming = []
        for obj in (f"{resource_id}.{item}", f"{resource_id}.*"):
            moments = self.changes.get(obj, ())
            at = bisect.bisect_right(moments, now)
            if at < len(moments):
                upcoming.append(moments[at])
        return min(upcoming, default=None)

    def next_change_anywhere(self, now: str) -> str | None:
        """The earliest start or end of any rule after `now`."""
        upcoming = []
        for moments in self.changes.values():
            at = bisect.bisect_right(moments, now)
            if at < len(moments):
                upcoming.append(moments[at])
        return min(upcoming, default=None)

    def changed(self, added: Iterable[Rule] = (), removed: Iterable[Rule] = ()) -> RuleIndex:
        """A new index with `added` after every rule and `removed` gone; this one stays."""
        rules = dict(self.rules)
        changes = dict(self.changes)
        gone = set(removed)
        present: list[Rule] = []
        for key in {_key(rule) for rule in gone}:
            listed = rules.pop(key, ())
            present += [rule for _, rule in listed if rule in gone]
            kept = tuple(each for each in listed if each[1] not in gone)
            if kept:
                rules[key] = kept
        size = self.size
        added = list(added)
        for rule in added:
            rules[_key(rule)] = (*rules.get(_key(rule), ()), (size, rule))
            size += 1
        touched: dict[str, list[str]] = {}
        for rule in present:
            moments = touched.setdefault(rule.obj, list(changes.get(rule.obj, ())))
            for moment in _moments(rule):
                moments.remove(moment)
        for rule in added:
            moments = touched.setdefault(rule.obj, list(changes.get(rule.obj, ())))
            for moment in _moments(rule):
                bisect.insort(moments, moment)
        changes.update((obj, tuple(moments)) for obj, moments in touched.items())
        return RuleIndex(rules, self.groups, changes, size)


def _key(rule: Rule) -> _Key:
    return (rule.subject, rule.obj, rule.action)


def _moments(rule: Rule) -> tuple[str, ...]:
    return tuple(moment for moment in (rule.valid_from, rule.valid_until) if moment)
