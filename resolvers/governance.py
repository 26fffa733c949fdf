"""Decide every coordinate the plan touches, once, and derive what may be read.

What no caller changes was made once for the document (`template.py`): governing it
for a caller is making that caller's decisions and applying them. The result is plain
data the resolvers only look up: which coordinates are allowed, which columns each
resource may read (push projection down, `projection.py`), the query of each
connection (`connections.py`), and one denial per denied (type, field) to report at
its first occurrence, worded only then (`denials.py`).
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from catalog import DataItem, Resource
from errors import DenialReason
from policies import Caller, Decision, Policy, Purpose
from policies.decision import Action, Denial, Outcome, clear, denied
from resolvers.connections import ItemDecider, connection_uses
from resolvers.coordinates import ItemField, LookupField, RelationshipField, VerifyField
from resolvers.filters import UNFILTERED, ConnectionQuery
from resolvers.plan import Coordinate, Selection
from resolvers.projection import Projection
from resolvers.template import Step, Template
from resolvers.verification import Verification, plan_verification


@dataclass(frozen=True)
class DeniedField:
    """A denied (type, field) to report once, at the first selection the response has."""

    coordinate: Coordinate
    denial: Denial
    first: Selection


@dataclass
class Governance:
    decisions: dict[Coordinate, Decision] = field(default_factory=dict)
    projections: Mapping[str, Projection] = field(default_factory=dict)
    """Shared by the callers whose items are served alike (`projection.Projector`)."""
    queries: dict[tuple[str, ...], ConnectionQuery] = field(default_factory=dict)
    """The filter and order of each connection selection, by its response path."""
    sort_columns: dict[Resource, set[str]] = field(default_factory=dict)
    verifications: dict[tuple[str, ...], Verification] = field(default_factory=dict)
    """The check of each verification selection, by its response path."""
    verified: dict[tuple[str, ...], Decision] = field(default_factory=dict)
    """The decision on each verification selection, by its response path: every alias
    checks its own claims, so each is answered, refused and audited on its own."""
    denials: list[DeniedField] = field(default_factory=list)
    allowed: frozenset[Coordinate] = frozenset()
    """The coordinates something may be served for: a set, as resolvers ask once per
    parent row (a method over `decisions` took 3% of what an N=100 request of bench/
    costs beyond plain graphql-core)."""

    def query(self, path: tuple[str, ...]) -> ConnectionQuery:
        return self.queries.get(path, UNFILTERED)

    def decision_of(self, selection: Selection) -> Decision | None:
        """What was decided for this selection: its own decision, or its coordinate's."""
        return self.verified.get(selection.path) or self.decisions.get(selection.coordinate)


def govern(
    template: Template,
    policy: Policy,
    caller: Caller,
    purpose: Purpose | None,
    now: datetime.datetime,
) -> Governance:
    """The caller's decisions on every coordinate of the template's plan, and what
    follows from them; each item is decided once, whatever uses it."""
    governance = Governance()
    item_decisions: dict[tuple[str, str], Decision] = {}

    def item(resource: Resource, data_item: DataItem, use: str) -> Decision:
        key = (resource.id, data_item.name)
        decision = item_decisions.get(key)
        if decision is None:
            decision = policy.decide(caller, resource, data_item, purpose, now)
            item_decisions[key] = decision
        if use == "select":
            return decision
        return _for_use(decision, resource, data_item, use)

    def check(resource: Resource, data_item: DataItem) -> Decision:
        return policy.decide(caller, resource, data_item, purpose, now, Action.VERIFY)

    attributes = caller.attribute_values
    for step in template.steps:
        meaning = step.meaning
        if isinstance(meaning, ItemField):  # the most touched, first
            decision = item(meaning.resource, meaning.item, "select")
        elif isinstance(meaning, VerifyField):
            decision = _verified(meaning.resource, step, governance, check, caller)
        else:
            uses = connection_uses(
                step.reads, item, attributes, governance.queries, governance.sort_columns
            )
            decision = _decide(step, item, caller, uses)
        governance.decisions[step.coordinate] = decision
    governance.allowed = frozenset(c for c, d in governance.decisions.items() if d.allowed)
    governance.projections = template.projector(
        governance.decisions, governance.allowed, governance.sort_columns, attributes
    )
    governance.denials = _with_applications(_reachable_denials(template, governance))
    return governance


def _verified(
    resource: Resource,
    step: Step,
    governance: Governance,
    check: Callable[[Resource, DataItem], Decision],
    caller: Caller,
) -> Decision:
    """Each selection is decided on the items it claims; the coordinate is allowed when
    any of them is, so that its resolver runs and refuses the others itself."""
    decisions = []
    for selection in step.selections:
        if caller.is_public:
            decision = denied("public", Denial(DenialReason.NOT_OPEN, step.field_name))
        else:
            verification, claimed = plan_verification(resource, selection, check, caller)
            governance.verifications[selection.path] = verification
            decision = _joined(step.field_name, claimed)
            if decision.denial is None:
                decision = Decision(Outcome.VERIFIED, decision.basis)
        governance.verified[selection.path] = decision
        decisions.append(decision)
    return next((d for d in decisions if d.allowed), decisions[0])


def _for_use(decision: Decision, resource: Resource, item: DataItem, use: str) -> Decision:
    """Filtering, ordering, paging or joining on an item needs it clear: a masked value
    could be learned bit by bit through `_gt` or `_like`. A scoped item may be filtered
    and ordered within its scope (the connection is restricted to it), never joined."""
    if decision.denial is not None:
        return decision
    field_name = f"{resource.type_name}.{item.name}"
    if decision.outcome is not Outcome.CLEAR:
        return denied(decision.basis, Denial(DenialReason.MASKED_ONLY, field_name, item.name_zh))
    if decision.scoped and use not in ("filter", "order"):
        return denied(decision.basis, Denial(DenialReason.OUT_OF_SCOPE, field_name, item.name_zh))
    return decision


def _decide(step: Step, item: ItemDecider, caller: Caller, uses: list[Decision]) -> Decision:
    """A field that is no item: what it rests on, joined."""
    meaning = step.meaning
    if isinstance(meaning, RelationshipField):
        joins = [
            item(meaning.resource, meaning.from_item, "join"),
            item(meaning.target, meaning.to_item, "join"),
        ]
        return _joined(step.field_name, joins + uses)
    if caller.is_public and not meaning.resource.open_to_public:
        return denied("public", Denial(DenialReason.NOT_OPEN, step.field_name))
    if isinstance(meaning, LookupField):
        uses = [item(meaning.resource, meaning.resource.item(meaning.resource.key_item), "filter")]
    return _joined(step.field_name, uses) if uses else clear("catalog:root")


def _joined(field_name: str, decisions: list[Decision]) -> Decision:
    """A field that rests on other items is allowed only when all of them are."""
    for decision in decisions:
        if decision.denial is not None:
            resting = dataclasses.replace(decision.denial, resting_field=field_name)
            return denied(decision.basis, resting)
    return clear(" & ".join(decision.basis for decision in decisions))


def _reachable_denials(template: Template, governance: Governance) -> list[DeniedField]:
    """Report a denied field only where the response could hold it: under a denied
    parent it is never reached, and an error for it would be noise."""
    denials = []
    for step in template.steps:
        decision = governance.decisions[step.coordinate]
        selections = step.selections
        if decision.denial is None or selections[0].path in governance.verified:
            continue
        reachable = [
            s for s in selections if all(_not_denied(governance, a) for a in s.ancestors())
        ]
        if reachable:
            denials.append(DeniedField(step.coordinate, decision.denial, reachable[0]))
    return denials


def _not_denied(governance: Governance, selection: Selection) -> bool:
    decision = governance.decisions.get(selection.coordinate)
    return decision is None or decision.allowed


def _with_applications(denials: list[DeniedField]) -> list[DeniedField]:
    """One application can cover every conditional item of a resource the query needs."""
    items: dict[str, set[str]] = {}
    for denied_field in denials:
        application = denied_field.denial.application
        if application is not None:
            items.setdefault(application.resource_id, set()).update(application.items)
    return [_applying_for(denied_field, items) for denied_field in denials]


def _applying_for(denied_field: DeniedField, items: Mapping[str, set[str]]) -> DeniedField:
    application = denied_field.denial.application
    if application is None:
        return denied_field
    wanted = tuple(sorted(items[application.resource_id]))
    denial = dataclasses.replace(
        denied_field.denial, application=dataclasses.replace(application, items=wanted)
    )
    return dataclasses.replace(denied_field, denial=denial)
