"""`python -m policies explain`: why a caller gets what it gets for one item, purpose
and time — the outcome, the rule lines and grants it rests on, and the rules that
almost applied (wrong purpose, outside their window or scope, another action, another
system of the department, or answered for by another rule).

The outcome is the engine's own decision; this module only reads the rules around it.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass

from catalog import DataItem, Resource
from policies.caller import Caller, Purpose
from policies.decision import Action, Decision
from policies.engine import SharingPolicy
from policies.named import caller_name, covers
from policies.outcomes import Served, bases, describe, for_row, local
from policies.reach import CATALOG_ANSWERS
from policies.rule import Rule, from_instant, instant
from policies.rules import RuleSet
from policies.scope import Scope

NO_RULE = {
    "rules:no_match": "no rule or grant covers this caller, item, purpose and time",
    "rules:no_verify": "no rule or grant lets this caller read or verify the item",
}
ASKED = {
    Action.READ_CLEAR: (Action.READ_CLEAR.value, Action.READ_MASKED.value),
    Action.VERIFY: (Action.READ_CLEAR.value, Action.VERIFY.value),
}


@dataclass(frozen=True)
class Asked:
    caller: Caller
    resource: Resource
    item: DataItem
    purpose: Purpose | None
    now: datetime.datetime
    action: Action = Action.READ_CLEAR
    row: Mapping[str, str] | None = None

    @property
    def text(self) -> str:
        verb = "verifies" if self.action is Action.VERIFY else "reads"
        purpose = self.purpose.value if self.purpose else "no declared purpose"
        row = f", row {dict(self.row)}" if self.row is not None else ""
        return (
            f"{caller_name(self.caller)} {verb} {self.resource.id}.{self.item.name} for "
            f"{purpose} at {local(self.now)}{row}"
        )


@dataclass(frozen=True)
class NearMiss:
    rule: Rule
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Explanation:
    asked: Asked
    decision: Decision
    served: Served | None
    """What the row gets; None for a scoped decision asked about without a row."""
    by: tuple[Rule, ...]
    """The rule lines and grants the outcome rests on."""
    because: tuple[str, ...]
    """What the catalog (or the absence of a rule) says, where no rule decided."""
    near: tuple[NearMiss, ...]


def explain(policy: SharingPolicy, asked: Asked) -> Explanation:
    decision = policy.decide(
        asked.caller, asked.resource, asked.item, asked.purpose, asked.now, asked.action
    )
    served = for_row(decision, asked.action, asked.row, asked.caller.attribute_values)
    used = bases(decision) if served is None else set(served.basis.split(" | "))
    about = [rule for rule in policy.rules.rules if _about(rule, asked)]
    by = tuple(rule for rule in about if rule.basis in used and _applies(rule, asked))
    because = tuple(
        text
        for basis in sorted(used)
        for text in [CATALOG_ANSWERS.get(basis) or NO_RULE.get(basis)]
        if text
    )
    near = tuple(
        NearMiss(rule, _reasons(rule, asked, policy.rules, used))
        for rule in about
        if rule not in by and _related(rule, asked, policy.rules)
    )
    return Explanation(asked, decision, served, by, because, near)


def render(explanation: Explanation) -> str:
    lines = [f"asked:    {explanation.asked.text}"]
    served = explanation.served
    outcome = served.text if served is not None else describe(explanation.decision)
    lines.append(f"outcome:  {outcome}")
    if served is None:
        lines.append("          (scoped: give --row item=value … to see what one row gets)")
    if explanation.by:
        lines.append("decided by:")
        lines += [f"  {rule_text(rule)}" for rule in explanation.by]
    lines += [f"because:  {text}" for text in explanation.because]
    if explanation.near:
        lines.append("almost matched:")
        for miss in explanation.near:
            lines.append(f"  {rule_text(miss.rule)}")
            lines.append(f"      {'; '.join(miss.reasons)}")
    return "\n".join(lines)


def rule_text(rule: Rule) -> str:
    """A rule as its admin wrote it: the line of its file, or the grant's terms."""
    if not rule.basis.startswith("grant:"):
        return f"{rule.basis}  p, {rule.subject}, {rule.obj}, {rule.action}, {rule.purpose}"
    window = ""
    if rule.valid_from or rule.valid_until:
        start = local(from_instant(rule.valid_from)) if rule.valid_from else ""
        end = local(from_instant(rule.valid_until)) if rule.valid_until else ""
        window = f", valid {start}..{end}"
    scope = f", scope {rule.scope}" if rule.scope else ""
    return (
        f"{rule.basis.replace(':', ' ')}  {rule.subject}, {rule.obj}, {rule.action}, "
        f"{rule.purpose}{scope}{window}"
    )


def _about(rule: Rule, asked: Asked) -> bool:
    return rule.obj in (f"{asked.resource.id}.{asked.item.name}", f"{asked.resource.id}.*")


def _applies(rule: Rule, asked: Asked) -> bool:
    """A grant is one rule per item and purpose: only those for this ask decided it."""
    return rule.purpose in ("*", asked.purpose) and rule.action in ASKED[asked.action]


def _related(rule: Rule, asked: Asked, rules: RuleSet) -> bool:
    """About this caller, or about another system of its department."""
    if covers(rule.subject, asked.caller, rules):
        return True
    department = rule.subject.partition("/")[0]
    return not asked.caller.is_public and department == asked.caller.department


def _reasons(rule: Rule, asked: Asked, rules: RuleSet, used: set[str]) -> tuple[str, ...]:
    reasons = []
    if not covers(rule.subject, asked.caller, rules):
        reasons.append(f"for the system {rule.subject}, not {caller_name(asked.caller)}")
    if rule.action not in ASKED[asked.action]:
        reasons.append(f"permits {rule.action}, not what was asked")
    if rule.purpose not in ("*", asked.purpose):
        wanted = asked.purpose.value if asked.purpose else "no declared purpose"
        reasons.append(f"for {rule.purpose}, not {wanted}")
    now = instant(asked.now)
    if rule.valid_from and now < rule.valid_from:
        reasons.append(f"starts {local(from_instant(rule.valid_from))}")
    if rule.valid_until and rule.valid_until <= now:
        reasons.append(f"ended {local(from_instant(rule.valid_until))}")
    if rule.scope and (asked.row is None or not _inside(rule.scope, asked)):
        where = "only for rows inside" if asked.row is None else "the row is outside"
        reasons.append(f"{where} its scope {rule.scope}")
    if not reasons:
        first = ", ".join(sorted(basis for basis in used if basis != rule.basis))
        reasons.append(f"matches too, but {first} answered first")
    return tuple(reasons)


def _inside(scope: str, asked: Asked) -> bool:
    assert asked.row is not None
    return Scope.parse(scope).holds(asked.row, asked.caller.attribute_values)
