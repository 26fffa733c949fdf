"""What is applied for and what is approved, checked against the catalog: named in the
caller's words, refused with every problem found at once.

An application names items of one resource, as the APPLICATION_REQUIRED error names
them (`fields`), so a front end fills the form from the error alone. An unconditional
item needs no application; a not_shared item cannot be granted and is answered at once
with the law the catalog cites. An approval may only narrow what was asked: fewer
items, more scope terms (a scope is a conjunction), an earlier end, masked for clear.
"""

from __future__ import annotations

import datetime

from applications.model import REFERENCE_LENGTH, ApplicationProblem, Terms, reason_problem
from catalog import Catalog, ShareType
from policies.caller import Purpose
from policies.decision import Action
from policies.scope import Scope


def asked_terms(
    catalog: Catalog,
    resource_id: str,
    items: list[str],
    purpose: str,
    scope: str,
    valid_until: datetime.datetime,
) -> tuple[Terms, str | None]:
    """The terms asked for, and the legal bases when an item is not shared (None when
    every item is conditional)."""
    problems: list[str] = []
    resource = catalog.resources.get(resource_id)
    if resource is None:
        raise ApplicationProblem(f"there is no resource {resource_id!r} in the catalog")
    names = {item.name: item for item in resource.items}
    not_shared = []
    for name in dict.fromkeys(items):
        item = names.get(name)
        if item is None:
            problems.append(f"{resource_id} has no item {name!r}")
        elif item.share_type is ShareType.UNCONDITIONAL:
            problems.append(f"{name} is shared unconditionally: no application is needed")
        elif item.share_type is ShareType.NOT_SHARED:
            not_shared.append(f"{name}: {item.legal_basis}")
    if not items:
        problems.append("an application names at least one item")
    problems += _purpose_problems(purpose)
    problems += _scope_problems(scope)
    problems += _validity_problems(valid_until)
    if problems:
        raise ApplicationProblem("; ".join(problems))
    terms = Terms(
        resource_id,
        tuple(dict.fromkeys(items)),
        Purpose(purpose),
        Scope.parse(scope).text if scope.strip() else "",
        valid_until.astimezone(datetime.UTC),
    )
    return terms, "; ".join(not_shared) or None


def approved_terms(
    asked: Terms,
    items: list[str] | None,
    scope: str | None,
    valid_until: datetime.datetime | None,
    masked: bool,
) -> Terms:
    """What the provider approves: as asked where it says nothing, else narrower."""
    problems = []
    chosen = tuple(dict.fromkeys(items)) if items is not None else asked.items
    if not chosen or not set(chosen) <= set(asked.items):
        problems.append("approve some of the items applied for, and no others")
    text = asked.scope if scope is None else scope.strip()
    scope_problems = _scope_problems(text)
    problems += scope_problems
    if not scope_problems and not _within(text, asked.scope):
        problems.append(f"the scope must keep every term asked for ({asked.scope})")
    until = valid_until or asked.valid_until
    problems += _validity_problems(until)
    if until > asked.valid_until:
        problems.append("an approval ends no later than the validity applied for")
    if problems:
        raise ApplicationProblem("; ".join(problems))
    return Terms(
        asked.resource_id,
        chosen,
        asked.purpose,
        Scope.parse(text).text if text else "",
        until.astimezone(datetime.UTC),
        Action.READ_MASKED if masked else asked.action,
    )


def text_problems(business_reason: str, case_reference: str) -> list[str]:
    problems = []
    problem = reason_problem(business_reason, required=True)
    if problem:
        problems.append(f"business reason: {problem}")
    if not 0 < len(case_reference.strip()) <= REFERENCE_LENGTH:
        problems.append(f"a case reference of 1 to {REFERENCE_LENGTH} characters is required")
    return problems


def _within(approved: str, asked: str) -> bool:
    """Every term asked for is kept: a conjunction with more terms covers fewer rows."""
    if not asked:
        return True
    if not approved:
        return False
    return set(Scope.parse(asked).terms) <= set(Scope.parse(approved).terms)


def _purpose_problems(purpose: str) -> list[str]:
    if purpose in {p.value for p in Purpose}:
        return []
    return [f"purpose {purpose!r} is not one of {', '.join(p.value for p in Purpose)}"]


def _scope_problems(scope: str) -> list[str]:
    if not scope.strip():
        return []
    try:
        Scope.parse(scope)
    except ValueError as exc:
        return [str(exc)]
    return []


def _validity_problems(valid_until: datetime.datetime) -> list[str]:
    if valid_until.tzinfo is None:
        return ["validUntil needs a time zone (e.g. +08:00)"]
    if valid_until <= datetime.datetime.now(datetime.UTC):
        return ["validUntil must be in the future"]
    return []
