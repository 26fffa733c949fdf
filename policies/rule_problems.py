"""What a rule may say, checked against the catalog: the one judge of rule file lines
(at load), grants (when made) and the admin's `check`.

A rule that names an unknown subject, resource, item, action or purpose, grants a
not_shared item (Art. 4), touches an item the catalog already shares unconditionally
(a basic item of a basic resource never withheld or masked, Art. 5), or masks an item
the catalog gives no mask is refused with a sentence saying why.
"""

from __future__ import annotations

import re

from catalog import Catalog, CatalogClass, ItemKind, ShareType
from policies.caller import PUBLIC_ROLE, Purpose
from policies.decision import Action
from policies.scope import Scope

DEPARTMENT = re.compile(r"[0-9A-Z]{18}")
SYSTEM = re.compile(r"[0-9A-Z]{18}/[a-z0-9][a-z0-9-]*")
GROUP = re.compile(r"group:[a-z0-9_]+")
PURPOSES = frozenset(p.value for p in Purpose) | {"*"}
ACTIONS = frozenset(a.value for a in Action)


def line_problem(catalog: Catalog, groups: set[str], cells: tuple[str, ...]) -> str | None:
    """Why the line cannot be loaded (None: it can)."""
    kind, *values = cells
    if kind == "g" and len(values) == 2:
        return _group_problem(*values)
    if kind == "p" and len(values) == 4:
        subject, obj, action, purpose = values
        return subject_problem(subject, groups) or rule_problem(
            catalog, subject, obj, action, purpose
        )
    return "expected 'p, subject, resource.item, action, purpose' or 'g, member, group'"


def _group_problem(member: str, group: str) -> str | None:
    """Only departments join groups: a department made a 'member' of another would
    silently inherit every rule of that department."""
    if not DEPARTMENT.fullmatch(member):
        return f"a group member must be a department code (18 characters), not {member!r}"
    if not GROUP.fullmatch(group):
        return f"a group must be named 'group:<name>', not {group!r}"
    return None


def subject_problem(subject: str, groups: set[str] | None) -> str | None:
    """`groups` None: groups are not known here (a grant), so none is accepted."""
    if GROUP.fullmatch(subject) and groups is not None:
        return None if subject in groups else f"group {subject!r} has no members (no 'g' line)"
    if DEPARTMENT.fullmatch(subject) or SYSTEM.fullmatch(subject):
        return None
    if subject == PUBLIC_ROLE and groups is not None:
        return None  # rule files may mask for the public; grants go to departments
    others = "" if groups is None else f", 'group:<name>' or {PUBLIC_ROLE}"
    return f"subject {subject!r} is not a department code or '<department code>/<system>'{others}"


def rule_problem(
    catalog: Catalog, subject: str, obj: str, action: str, purpose: str, scope: str = ""
) -> str | None:
    if action not in ACTIONS:
        return f"unknown action {action!r}; expected one of {sorted(ACTIONS)}"
    if purpose not in PURPOSES:
        return f"unknown purpose {purpose!r}; expected one of {sorted(PURPOSES)}"
    resource_id, _, item_name = obj.partition(".")
    if resource_id not in catalog.resources or not item_name:
        return f"{obj!r} does not name a catalog resource as 'resource.item' or 'resource.*'"
    resource = catalog.resources[resource_id]
    if scope and action == Action.READ_MASKED:
        return "a read_masked grant covers every row: scopes apply to read_clear and verify"
    if scope:
        problem = _scope_problem(scope, {item.name for item in resource.items})
        if problem:
            return problem
    if subject == PUBLIC_ROLE and action != Action.READ_MASKED:
        return f"{PUBLIC_ROLE} may only be given read_masked: the public reads open data only"
    if item_name == "*":
        if action == Action.READ_MASKED and not any(item.mask for item in resource.items):
            return f"{resource_id} has no masked items: read_masked cannot apply to it"
        return None
    if item_name not in {item.name for item in resource.items}:
        return f"{item_name!r} is not a data item of {resource_id!r}"
    item = resource.item(item_name)
    if item.share_type is ShareType.NOT_SHARED:
        return f"{obj} is not_shared: no rule can grant it (Art. 4)"
    if item.share_type is ShareType.UNCONDITIONAL and subject != PUBLIC_ROLE:
        basic = resource.catalog_class is CatalogClass.BASIC and item.kind is ItemKind.BASIC
        article_5 = (
            "; as a basic item of a basic resource it is never withheld or masked (Art. 5)"
            if basic and action != Action.READ_CLEAR
            else ""
        )
        return (
            f"{obj} is unconditional: every department has it already, a rule is misleading"
            + article_5
        )
    if action == Action.READ_MASKED and item.mask is None:
        return f"{obj} has no mask in the catalog: read_masked cannot apply to it"
    return None


def _scope_problem(scope: str, items: set[str]) -> str | None:
    try:
        parsed = Scope.parse(scope)
    except ValueError as exc:
        return str(exc)
    unknown = sorted(term.item for term in parsed.terms if term.item not in items)
    if unknown:
        return f"scope names items the resource does not have: {', '.join(unknown)}"
    return None
