"""What a policy admin names on the command line and in test files — a caller (the
public, a department or one of its systems) and an item — and which callers a rule's
subject covers (a group stands for its members)."""

from __future__ import annotations

from collections.abc import Mapping

from catalog import Catalog, DataItem, Resource
from policies.caller import PUBLIC, PUBLIC_ROLE, Caller
from policies.rule_problems import DEPARTMENT, GROUP, SYSTEM
from policies.rules import RuleSet

PUBLIC_NAME = "public"


def parse_caller(text: str, attributes: Mapping[str, str] | None = None) -> Caller:
    """`public`, a department code, or `<department code>/<system id>`; raises ValueError
    saying what is expected."""
    if text == PUBLIC_NAME:
        return PUBLIC
    given = tuple(sorted((attributes or {}).items()))
    if DEPARTMENT.fullmatch(text):
        return Caller(department=text, attributes=given)
    if SYSTEM.fullmatch(text):
        department, _, system = text.partition("/")
        return Caller(department=department, system=system, attributes=given)
    raise ValueError(
        f"caller {text!r} is not 'public', a department code (18 characters such as "
        "11410581005000006G) or '<department code>/<system id>'"
    )


def caller_name(caller: Caller) -> str:
    if caller.is_public:
        return PUBLIC_NAME
    return caller.system_subject if caller.system else caller.subject


def callers_of(subject: str, rules: RuleSet) -> list[Caller]:
    """The callers a rule subject covers: a group stands for its members."""
    if subject == PUBLIC_ROLE:
        return [PUBLIC]
    if GROUP.fullmatch(subject):
        members: list[str] = rules.enforcer.get_users_for_role(subject)
        return [Caller(department=member) for member in sorted(members)]
    return [parse_caller(subject)]


def covers(subject: str, caller: Caller, rules: RuleSet) -> bool:
    """Whether a rule naming `subject` is about `caller`, whatever else it says."""
    if caller.is_public:
        return subject == PUBLIC_ROLE
    if subject in (caller.department, caller.system_subject):
        return True
    return bool(GROUP.fullmatch(subject)) and bool(
        rules.enforcer.has_role_for_user(caller.department, subject)
    )


def find_item(catalog: Catalog, text: str) -> tuple[Resource, DataItem]:
    """`<resource id>.<item>` as rules write it (`person.householdAddress`), or
    `<Type>.<field>` as the schema does (`Person.householdAddress`); raises ValueError
    saying what the catalog has."""
    owner, _, name = text.partition(".")
    resource = catalog.resources.get(owner) or catalog.by_type_name().get(owner)
    if resource is None:
        known = ", ".join(sorted(catalog.resources))
        raise ValueError(
            f"{text!r} names no catalog resource as 'resource.item'; resources: {known}"
        )
    for item in resource.items:
        if item.name == name:
            return resource, item
    known = ", ".join(item.name for item in resource.items)
    raise ValueError(f"{name!r} is not a data item of {resource.id!r}; its items: {known}")
