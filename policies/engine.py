"""Decide one data item for one caller, purpose and time; the catalog first, then Casbin.

Rules are found through an index of the Casbin model's matcher (`policies/index.py`;
pycasbin's `enforce` scans every rule), and decisions are cached per (caller, item,
purpose, action), but for an unconditional item's: it is answered quicker than found,
and remembering it for every new caller would only grow the cache. A cached
decision, allow or deny, lasts until the earliest start or end of any rule that could
touch the item, so a grant starts and stops on time without a restart; new or revoked
grants build a new `SharingPolicy` instead of mutating this one.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Protocol

from catalog import Catalog, DataItem, MaskedFor, Resource, ShareType
from errors import DenialReason
from policies.caller import Caller, Purpose
from policies.decision import (
    Action,
    ApplicationRequest,
    Decision,
    Denial,
    Outcome,
    clear,
    denied,
    masked,
)
from policies.rule import instant
from policies.rules import RuleSet
from policies.scope import Scope

_UNCONDITIONAL = clear("catalog:unconditional")
_OPEN_TO_PUBLIC = clear("catalog:open_to_public")
_OWN_DATA = clear("provider:own_data")

_CacheKey = tuple[str | None, str | None, str, str, Purpose | None, Action]


@dataclass(frozen=True)
class _Granted:
    """What the rules give one (caller, item, action, purpose, time)."""

    everywhere: str | None
    """The basis of a rule covering every row, if one matches."""
    scoped: tuple[tuple[Scope, str], ...]
    """Scopes, with the basis of the rule naming each, that match."""


class Policy(Protocol):
    """What the rooms above ask of a policy: `SharingPolicy` is the one that serves;
    a benchmark may pass its own."""

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

    def window(self, basis: str) -> tuple[str, str]:
        """When the rules a decision's basis names hold: (from, until), "" if unbounded."""
        ...

    def stable_until(self, now: datetime.datetime) -> str | None:
        """Until when every decision made at `now` holds (the model's time format): the
        next start or end of any rule; None if none is to come."""
        ...


class SharingPolicy:
    def __init__(self, catalog: Catalog, rules: RuleSet, version: str | None = None) -> None:
        """`version`: what the policy is recorded under; the rule set's own by default
        (the policy in force adds its grants: `grants.policy_source.derived_version`)."""
        self.catalog = catalog
        self.rules = rules
        self.version = version or rules.version
        self._cache: dict[_CacheKey, tuple[Decision, str | None]] = {}
        self._stable: tuple[str, str | None] | None = None
        """When `stable_until` was last asked, and its answer."""

    def decide(
        self,
        caller: Caller,
        resource: Resource,
        item: DataItem,
        purpose: Purpose | None,
        now: datetime.datetime,
        action: Action = Action.READ_CLEAR,
    ) -> Decision:
        """How `item` is served to `caller`: clear, masked or denied (READ_CLEAR asks
        for reading; VERIFY for checking a value the caller holds)."""
        if item.share_type is ShareType.UNCONDITIONAL and not caller.is_public:
            return _UNCONDITIONAL  # the most asked: quicker answered than found in the cache
        key = (caller.department, caller.system, resource.id, item.name, purpose, action)
        moment = instant(now)
        cached = self._cache.get(key)
        if cached is not None and (cached[1] is None or moment < cached[1]):
            return cached[0]
        ceiling = self._ceiling(caller, resource, item, purpose)
        if ceiling is not None:  # the catalog decides: no rule's start or end changes it
            if action is Action.VERIFY and ceiling.outcome is Outcome.MASKED:
                ceiling = self._unverifiable(resource, item)
            self._cache[key] = (ceiling, None)
            return ceiling
        assert purpose is not None  # the ceiling refuses a conditional item without one
        if action is Action.VERIFY:
            decision = self._verify(caller, resource, item, purpose, moment)
        else:
            decision = self._by_rules(caller, resource, item, purpose, moment)
        self._cache[key] = (decision, self.rules.next_change(resource.id, item.name, moment))
        return decision

    def window(self, basis: str) -> tuple[str, str]:
        return self.rules.window(basis)

    def stable_until(self, now: datetime.datetime) -> str | None:
        """Asked once a request: the last answer holds until the change it names."""
        moment = instant(now)
        if self._stable is not None:
            asked, until = self._stable
            if asked <= moment and (until is None or moment < until):
                return until
        until = self.rules.index.next_change_anywhere(moment)
        self._stable = (moment, until)
        return until

    def _by_rules(
        self, caller: Caller, resource: Resource, item: DataItem, purpose: Purpose, now: str
    ) -> Decision:
        """A conditional item for another department: what its rules and grants give."""
        granted = self._granted(caller, resource, item, Action.READ_CLEAR, purpose, now)
        if granted.everywhere is not None:
            return clear(granted.everywhere)
        fallback = self._without_clear(caller, resource, item, purpose, now)
        return _scoped(Outcome.CLEAR, granted, fallback) or fallback

    def _verify(
        self, caller: Caller, resource: Resource, item: DataItem, purpose: Purpose, now: str
    ) -> Decision:
        """Reading clear includes checking; a verify rule allows checking alone. (Where
        the catalog decides, only a clear item can be checked, not one masked for the
        public: `decide`.)"""
        reading = self._by_rules(caller, resource, item, purpose, now)
        if reading.clear and not reading.scoped:
            return reading
        granted = self._granted(caller, resource, item, Action.VERIFY, purpose, now)
        if granted.everywhere is not None:
            return Decision(Outcome.VERIFIED, granted.everywhere)
        denial = self._unverifiable(resource, item)
        if reading.clear:  # clear in some scopes: those verify too
            granted = _Granted(None, (*granted.scoped, *_scopes_of(reading)))
        return _scoped(Outcome.VERIFIED, granted, denial) or denial

    def _ceiling(
        self, caller: Caller, resource: Resource, item: DataItem, purpose: Purpose | None
    ) -> Decision | None:
        """The catalog's answer, where rules have no say."""
        field = f"{resource.type_name}.{item.name}"
        if item.share_type is ShareType.NOT_SHARED:
            assert item.legal_basis is not None  # the catalog model guarantees it
            denial = Denial(DenialReason.NOT_SHARED, field, item.name_zh, item.legal_basis)
            return denied("catalog:not_shared", denial)
        if caller.is_public:
            if not resource.open_to_public or item.share_type is not ShareType.UNCONDITIONAL:
                return denied("public", Denial(DenialReason.NOT_OPEN, field, item.name_zh))
            if item.mask is not None:
                return masked("catalog:masked_for_public", item.mask)
            return _OPEN_TO_PUBLIC
        if item.share_type is ShareType.UNCONDITIONAL:
            return _UNCONDITIONAL
        if purpose is None:
            denial = Denial(DenialReason.PURPOSE_REQUIRED, field, item.name_zh)
            return denied("catalog:conditional", denial)
        if caller.department == self.catalog.provider_of[resource.id].department.code:
            return _OWN_DATA
        return None

    def _without_clear(
        self, caller: Caller, resource: Resource, item: DataItem, purpose: Purpose, now: str
    ) -> Decision:
        """The outcome for rows no clear grant covers: masked if the catalog or a rule
        says so, otherwise an application is required. Never scoped itself (read_masked
        grants have no scope), so a decision is at most one scope deep."""
        if item.mask is not None:
            if item.masked_for is MaskedFor.ALL_DEPARTMENTS:
                return masked("catalog:masked_for_all_departments", item.mask)
            granted = self._granted(caller, resource, item, Action.READ_MASKED, purpose, now)
            if granted.everywhere is not None:
                return masked(granted.everywhere, item.mask)
        return self._application_required(resource, item, purpose)

    def _granted(
        self,
        caller: Caller,
        resource: Resource,
        item: DataItem,
        action: Action,
        purpose: Purpose,
        now: str,
    ) -> _Granted:
        """Ask the model once for every row, then once per scope the rules name."""
        obj = f"{resource.id}.{item.name}"

        def ask(scope: str) -> str | None:
            rule = self.rules.index.match(
                caller.subject, caller.system_subject, obj, action.value, purpose.value, now, scope
            )
            return rule.basis if rule is not None else None

        everywhere = ask("")
        if everywhere is not None:
            return _Granted(everywhere, ())
        scoped = []
        for text in self.rules.scopes.get(resource.id, ()):
            basis = ask(text)
            if basis is not None:
                scoped.append((Scope.parse(text), basis))
        return _Granted(None, tuple(scoped))

    def _application_required(
        self, resource: Resource, item: DataItem, purpose: Purpose
    ) -> Decision:
        provider = self.catalog.provider_of[resource.id].department
        application = ApplicationRequest(
            resource_id=resource.id,
            resource_code=resource.code,
            resource_name_zh=resource.name_zh,
            provider_name=provider.name,
            provider_code=provider.code,
            items=(item.name,),
            purpose=purpose,
            conditions=item.conditions,
        )
        field = f"{resource.type_name}.{item.name}"
        denial = Denial(
            DenialReason.APPLICATION_REQUIRED, field, item.name_zh, application=application
        )
        return denied("rules:no_match", denial)

    def _unverifiable(self, resource: Resource, item: DataItem) -> Decision:
        field = f"{resource.type_name}.{item.name}"
        return denied("rules:no_verify", Denial(DenialReason.NOT_VERIFIABLE, field, item.name_zh))


def _scopes_of(decision: Decision) -> tuple[tuple[Scope, str], ...]:
    return tuple((scope, decision.basis) for scope in decision.scopes)


def _scoped(outcome: Outcome, granted: _Granted, fallback: Decision) -> Decision | None:
    """`outcome` inside the granted scopes, `fallback` outside; None if none matched."""
    if not granted.scoped:
        return None
    return Decision(
        outcome,
        " | ".join(sorted({basis for _, basis in granted.scoped})),
        scopes=tuple(scope for scope, _ in granted.scoped),
        fallback=fallback,
    )
