"""A grant: a provider's conditional approval, as data, and the checks it passes.

A grant names a consumer (a department or one of its systems), items of one resource,
what it permits (read_clear, read_masked or verify), the purposes, a row scope and a
validity window. It is checked against the catalog when it is made, then enters the
sharing model as ordinary rules (`Grant.rules`), so the server and the tests' oracle
read it the same way. Grants are never deleted: revoking one stamps `revoked_at`.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from catalog import Catalog
from policies.caller import Purpose
from policies.decision import Action
from policies.rule import Rule, grant_rules
from policies.rule_problems import rule_problem, subject_problem
from policies.scope import Scope


class GrantRefused(ValueError):
    """A grant that names something the catalog does not have, or cannot permit."""


@dataclass(frozen=True)
class Grant:
    consumer: str
    resource_id: str
    items: tuple[str, ...]
    """Item names, or ("*",) for every conditional item of the resource."""
    action: Action
    purposes: tuple[Purpose, ...]
    reference: str
    """The approval it rests on (an application or document number), for auditors."""
    scope: str = ""
    valid_from: datetime.datetime | None = None
    valid_until: datetime.datetime | None = None
    id: int | None = None
    created_at: datetime.datetime | None = None
    revoked_at: datetime.datetime | None = None

    def in_force_at(self, moment: datetime.datetime) -> bool:
        """Recorded and not yet revoked at `moment` (its validity window is the model's
        business): what a server running then decided with."""
        made = self.created_at is None or self.created_at <= moment
        return made and (self.revoked_at is None or moment < self.revoked_at)

    def rules(self) -> list[Rule]:
        """One model rule per (item, purpose); the basis names the grant."""
        return grant_rules(
            self.consumer,
            (self.resource_id, self.items),
            self.action.value,
            [purpose.value for purpose in self.purposes],
            self.scope,
            (self.valid_from, self.valid_until),
            self.id,
        )


def checked(grant: Grant, catalog: Catalog) -> Grant:
    """The grant with its scope in canonical form and times in UTC; raises GrantRefused
    naming every problem found."""
    problems = [subject_problem(grant.consumer, None)]
    scope = ""
    if grant.scope:
        try:
            scope = Scope.parse(grant.scope).text
        except ValueError as exc:
            problems.append(str(exc))
    if not grant.items or not grant.purposes:
        problems.append("a grant names at least one item and one purpose")
    moments = [moment for moment in (grant.valid_from, grant.valid_until) if moment is not None]
    if any(moment.tzinfo is None for moment in moments):
        problems.append("validity times need a time zone (e.g. +08:00)")
    elif grant.valid_from and grant.valid_until and grant.valid_until <= grant.valid_from:
        problems.append("valid_until must be after valid_from")
    problems += [
        rule_problem(
            catalog,
            grant.consumer,
            f"{grant.resource_id}.{item}",
            grant.action,
            purpose,
            scope or grant.scope,
        )
        for item in grant.items
        for purpose in grant.purposes
    ]
    found = [problem for problem in problems if problem]
    if found:
        raise GrantRefused("; ".join(dict.fromkeys(found)))
    return Grant(
        **{
            **grant.__dict__,
            "scope": scope,
            "valid_from": utc(grant.valid_from),
            "valid_until": utc(grant.valid_until),
        }
    )


class Change(StrEnum):
    GRANTED = "granted"
    REVOKED = "revoked"


OPERATOR_LENGTH = 100
REASON_LENGTH = 200
"""The lengths of the store's `grant_changes.operator` and `reason` columns."""


@dataclass(frozen=True)
class GrantChange:
    """One change to a grant: what was done to it, by whom, why and when (UTC).

    Operator and reason are None only for changes made before the store kept them."""

    grant: Grant
    change: Change
    operator: str | None
    reason: str | None
    changed_at: datetime.datetime


def accountability_problems(operator: str, reason: str) -> list[str]:
    """A change to a grant names a person and a reason, or is not made: the policy
    admins answer for what they grant (Art. 11)."""
    problems = []
    if not 0 < len(operator.strip()) <= OPERATOR_LENGTH:
        problems.append(f"the operator is named in 1 to {OPERATOR_LENGTH} characters")
    if not 0 < len(reason.strip()) <= REASON_LENGTH:
        problems.append(f"the reason is said in 1 to {REASON_LENGTH} characters")
    return problems


@dataclass(frozen=True)
class KeyHolder:
    """A system holding a registered API key, as far as a grant needs to know it."""

    department: str
    system: str
    attributes: frozenset[str]
    """The names of the attributes its key carries (township, industry)."""
    in_force: bool


def consumer_problem(consumer: str, catalog: Catalog, holders: Sequence[KeyHolder]) -> str | None:
    """A grant to a department nobody knows is a typo waiting to be trusted: a consumer
    department is one of the catalog's, or one that holds an API key."""
    department = consumer.partition("/")[0]
    if department in {entry.department.code for entry in catalog.departments}:
        return None
    if any(holder.department == department for holder in holders):
        return None
    return (
        f"consumer department {department} is unknown: the catalog does not have it and no "
        "API key was registered for it (`python -m auth register` first)"
    )


def coverage_warnings(grant: Grant, holders: Sequence[KeyHolder]) -> list[str]:
    """Why a grant would cover nobody today: no key in force for the system it names,
    or a scope attribute no key of its consumer carries (a scope compares rows with
    the caller's attributes, so such a grant matches no row)."""
    department, _, system = grant.consumer.partition("/")
    consumers = [
        holder
        for holder in holders
        if holder.in_force and holder.department == department and system in ("", holder.system)
    ]
    if system and not consumers:
        return [f"no API key in force is registered for the system {grant.consumer}"]
    try:
        terms = Scope.parse(grant.scope).terms if grant.scope else ()
    except ValueError:
        return []  # refused as malformed anyway
    return [
        f"no API key in force of {grant.consumer} carries the attribute {term.attribute!r} "
        f"that the scope compares {term.item} with, so the grant would cover no rows "
        f"(`python -m auth register … --attribute {term.attribute}=…`)"
        for term in terms
        if not any(term.attribute in holder.attributes for holder in consumers)
    ]


def rules_of(grants: Sequence[Grant]) -> list[Rule]:
    return [rule for grant in grants if grant.revoked_at is None for rule in grant.rules()]


def utc(moment: datetime.datetime | None) -> datetime.datetime | None:
    """Stored in UTC; SQLite keeps no zone, so a naive time read back is UTC."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=datetime.UTC)
    return moment.astimezone(datetime.UTC)
