"""Decide every coordinate the plan touches, once, and derive what may be read.

The result is plain data the resolvers only look up: which coordinates are allowed,
which columns each resource may read (push projection down), and one denial per
denied (type, field) to report at its first occurrence.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import errors
from catalog import Cardinality, DataItem, Resource, naming
from connectors import And, Computed, Flag
from errors import FieldDenied
from policies import Caller, Decision, Purpose
from policies.decision import Action, Outcome, clear, denied
from resolvers.coordinates import (
    ItemField,
    ListField,
    LookupField,
    Meaning,
    RelationshipField,
    VerifyField,
)
from resolvers.filters import UNFILTERED, ConnectionQuery, connection_query
from resolvers.plan import Coordinate, Plan, Selection
from resolvers.showing import ComputedItems, Shown, scope_condition
from resolvers.verification import Verification, plan_verification

ItemDecider = Callable[[Resource, DataItem, str], Decision]


class Policy(Protocol):
    """What governance asks of the policy room; `SharingPolicy` is the one that serves."""

    @property
    def version(self) -> str: ...

    def decide(
        self,
        caller: Caller,
        resource: Resource,
        item: DataItem,
        purpose: Purpose | None,
        now: datetime.datetime,
        action: Action = Action.READ_CLEAR,
    ) -> Decision: ...


@dataclass(frozen=True)
class Projection:
    """The columns one resource reads in this request, and which of them are served."""

    columns: tuple[str, ...]
    visible: tuple[tuple[str, str], ...]
    """(item name, column) pairs the caller selected and may read in clear."""
    shown: tuple[Shown, ...] = ()
    computed: tuple[Computed, ...] = ()
    flags: tuple[Flag, ...] = ()


@dataclass(frozen=True)
class Denial:
    coordinate: Coordinate
    error: FieldDenied
    first: Selection


@dataclass
class Governance:
    decisions: dict[Coordinate, Decision] = field(default_factory=dict)
    uses: dict[Coordinate, set[str]] = field(default_factory=dict)
    projections: dict[str, Projection] = field(default_factory=dict)
    queries: dict[tuple[str, ...], ConnectionQuery] = field(default_factory=dict)
    """The filter and order of each connection selection, by its response path."""
    sort_columns: dict[Resource, set[str]] = field(default_factory=dict)
    verifications: dict[tuple[str, ...], Verification] = field(default_factory=dict)
    """The check of each verification selection, by its response path."""
    verified: dict[tuple[str, ...], Decision] = field(default_factory=dict)
    """The decision on each verification selection, by its response path: every alias
    checks its own claims, so each is answered, refused and audited on its own."""
    denials: list[Denial] = field(default_factory=list)
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
    plan: Plan,
    meanings: Mapping[Coordinate, Meaning],
    policy: Policy,
    caller: Caller,
    purpose: Purpose | None,
    now: datetime.datetime,
) -> Governance:
    governance = Governance()
    item_decisions: dict[tuple[str, str], Decision] = {}

    def item(resource: Resource, data_item: DataItem, use: str) -> Decision:
        coordinate = (resource.type_name, data_item.name)
        governance.uses.setdefault(coordinate, set()).add(use)
        key = (resource.id, data_item.name)
        if key not in item_decisions:
            item_decisions[key] = policy.decide(caller, resource, data_item, purpose, now)
        if use == "select":
            return item_decisions[key]
        return _for_use(item_decisions[key], resource, data_item, use)

    def check(resource: Resource, data_item: DataItem) -> Decision:
        coordinate = (resource.type_name, data_item.name)
        governance.uses.setdefault(coordinate, set()).add("verify")
        return policy.decide(caller, resource, data_item, purpose, now, Action.VERIFY)

    attributes = caller.attribute_values
    for coordinate, selections in plan.touched.items():
        meaning = meanings.get(coordinate)
        if meaning is None:
            continue
        if isinstance(meaning, VerifyField):
            decision = _verified(meaning.resource, selections, governance, check, caller)
        else:
            uses = _connection_uses(meaning, selections, governance, item, attributes)
            decision = _decide(meaning, selections, item, caller, uses)
        governance.decisions[coordinate] = decision
    governance.allowed = frozenset(c for c, d in governance.decisions.items() if d.allowed)
    governance.denials = _reachable_denials(plan, governance)
    governance.projections = _projections(plan, meanings, governance, attributes)
    governance.denials = _with_applications(governance.denials)
    return governance


def _verified(
    resource: Resource,
    selections: list[Selection],
    governance: Governance,
    check: Callable[[Resource, DataItem], Decision],
    caller: Caller,
) -> Decision:
    """Each selection is decided on the items it claims; the coordinate is allowed when
    any of them is, so that its resolver runs and refuses the others itself."""
    field_name = f"{naming.QUERY}.{resource.names.verify_field}"
    decisions = []
    for selection in selections:
        if caller.is_public:
            decision = denied("public", errors.not_open(field_name))
        else:
            verification, claimed = plan_verification(resource, selection, check, caller)
            governance.verifications[selection.path] = verification
            decision = _joined(field_name, claimed)
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
        return denied(decision.basis, errors.masked_only(field_name, item.name_zh))
    if decision.scoped and use not in ("filter", "order"):
        return denied(decision.basis, errors.out_of_scope(field_name, item.name_zh))
    return decision


def _decide(
    meaning: Meaning,
    selections: list[Selection],
    item: ItemDecider,
    caller: Caller,
    uses: list[Decision],
) -> Decision:
    if isinstance(meaning, ItemField):
        return item(meaning.resource, meaning.item, "select")
    if isinstance(meaning, RelationshipField):
        joins = [
            item(meaning.resource, meaning.from_item, "join"),
            item(meaning.target, meaning.to_item, "join"),
        ]
        return _joined(f"{meaning.resource.type_name}.{meaning.relationship.name}", joins + uses)
    field_name = f"{naming.QUERY}.{selections[0].coordinate[1]}"
    if caller.is_public and not meaning.resource.open_to_public:
        return denied("public", errors.not_open(field_name))
    if isinstance(meaning, LookupField):
        uses = [item(meaning.resource, meaning.resource.item(meaning.resource.key_item), "filter")]
    return _joined(field_name, uses) if uses else clear("catalog:root")


def _connection_uses(
    meaning: Meaning,
    selections: list[Selection],
    governance: Governance,
    item: ItemDecider,
    attributes: Mapping[str, str],
) -> list[Decision]:
    """Every item a connection filters, orders or pages on is decided as if read, and the
    translated query is kept for the resolver of each selection, restricted to the
    scope of every scoped item it filters or orders on."""
    if (
        isinstance(meaning, RelationshipField)
        and meaning.relationship.cardinality is Cardinality.MANY
    ):
        resource = meaning.target
    elif isinstance(meaning, ListField):
        resource = meaning.resource
    else:
        return []
    uses = []
    for selection in selections:
        query = connection_query(resource, selection.arguments)
        decided = [item(resource, filtered, "filter") for filtered in query.filtered]
        paged: dict[str, Decision] = {}
        for ordered in query.ordered:
            decision = paged[ordered.name] = item(resource, ordered, "order")
            if decision.allowed:
                governance.sort_columns.setdefault(resource, set()).add(ordered.column)
        if _uses_cursor(selection):
            key = resource.item(resource.key_item)
            paged[key.name] = item(resource, key, "cursor")
        decided += paged.values()
        query = dataclasses.replace(query, decided=_described(paged))
        governance.queries[selection.path] = _restricted(query, resource, decided, attributes)
        uses += decided
    return uses


def _described(decisions: Mapping[str, Decision]) -> str:
    return ",".join(f"{name}={d.outcome.value}:{d.basis}" for name, d in decisions.items())


def _restricted(
    query: ConnectionQuery,
    resource: Resource,
    decided: list[Decision],
    attributes: Mapping[str, str],
) -> ConnectionQuery:
    scopes = [
        scope_condition(resource, decision.scopes, attributes)
        for decision in decided
        if decision.scoped
    ]
    if not scopes:
        return query
    operands = (query.predicate, *scopes) if query.predicate is not None else tuple(scopes)
    return dataclasses.replace(query, predicate=And(operands))


def _reachable_denials(plan: Plan, governance: Governance) -> list[Denial]:
    """Report a denied field only where the response could hold it: under a denied
    parent it is never reached, and an error for it would be noise."""
    denials = []
    for coordinate, selections in plan.touched.items():
        decision = governance.decisions.get(coordinate)
        if decision is None or decision.denial is None or selections[0].path in governance.verified:
            continue
        reachable = [
            s for s in selections if all(_not_denied(governance, a) for a in s.ancestors())
        ]
        if reachable:
            denials.append(Denial(coordinate, decision.denial, reachable[0]))
    return denials


def _not_denied(governance: Governance, selection: Selection) -> bool:
    decision = governance.decisions.get(selection.coordinate)
    return decision is None or decision.allowed


def _uses_cursor(selection: Selection) -> bool:
    if selection.arguments.get("after") is not None:
        return True
    edges = selection.children.get("edges")
    page_info = selection.children.get("pageInfo")
    edge_cursor = edges is not None and any(
        c.coordinate[1] == "cursor" for c in edges.children.values()
    )
    info_cursor = page_info is not None and any(
        c.coordinate[1] in ("endCursor", "startCursor") for c in page_info.children.values()
    )
    return edge_cursor or info_cursor


def _joined(field_name: str, decisions: list[Decision]) -> Decision:
    """A field that rests on other items is allowed only when all of them are."""
    for decision in decisions:
        if decision.denial is not None:
            return denied(decision.basis, errors.rests_on(field_name, decision.denial))
    return clear(" & ".join(decision.basis for decision in decisions))


def _projections(
    plan: Plan,
    meanings: Mapping[Coordinate, Meaning],
    governance: Governance,
    attributes: Mapping[str, str],
) -> dict[str, Projection]:
    columns: dict[str, dict[str, None]] = {}
    visible: dict[str, list[tuple[str, str]]] = {}
    computing: dict[str, ComputedItems] = {}

    def need(resource: Resource, column: str) -> None:
        columns.setdefault(resource.id, dict.fromkeys(internal_columns(resource)))[column] = None

    for resource, sort_columns in governance.sort_columns.items():
        for column in sort_columns:  # read for cursors; served only if also selected
            need(resource, column)
    for coordinate in plan.touched:
        meaning = meanings.get(coordinate)
        if meaning is None or coordinate not in governance.allowed:
            continue
        if isinstance(meaning, ItemField):
            decision = governance.decisions[coordinate]
            if decision.clear and not decision.scoped:
                need(meaning.resource, meaning.item.column)
                visible.setdefault(meaning.resource.id, []).append(
                    (meaning.item.name, meaning.item.column)
                )
            else:
                need(meaning.resource, meaning.resource.item(meaning.resource.key_item).column)
                computing.setdefault(meaning.resource.id, ComputedItems()).add(
                    meaning.resource, meaning.item, decision, attributes
                )
        elif isinstance(meaning, RelationshipField):
            need(meaning.resource, meaning.from_item.column)
            need(meaning.target, meaning.to_item.column)
        else:
            need(meaning.resource, meaning.resource.item(meaning.resource.key_item).column)
    empty = ComputedItems()
    return {
        resource_id: Projection(
            tuple(cols),
            tuple(visible.get(resource_id, ())),
            tuple(computing.get(resource_id, empty).shown),
            tuple(computing.get(resource_id, empty).computed),
            tuple(computing.get(resource_id, empty).flags),
        )
        for resource_id, cols in columns.items()
    }


def internal_columns(resource: Resource) -> list[str]:
    """Key and subject columns are read for keyset order and the audit log, never served
    unless selected and permitted; the catalog requires them to be unconditional."""
    names = [resource.key_item, *resource.subject_items]
    return [resource.item(name).column for name in names]


def _with_applications(denials: list[Denial]) -> list[Denial]:
    """One application can cover every conditional item of a resource the query needs."""
    fields: dict[str, list[str]] = {}
    for denial in denials:
        application = denial.error.extensions.get("application")
        if application is not None:
            fields.setdefault(application["resource"], []).extend(application["fields"])
    return [
        Denial(d.coordinate, errors.with_application_fields(d.error, fields), d.first)
        for d in denials
    ]
