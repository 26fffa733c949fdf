"""`python -m policies check`: the rule files and the grants against the catalog, every
problem at once, each with the file and line or the grant that has it.

Problems (exit status 1):
- a rule line that does not load: unknown resource, item, action, purpose or subject,
  a not_shared item (Art. 4), an unconditional one, a basic item of a basic resource
  masked or withheld (Art. 5), a group with no members;
- a grant the catalog no longer permits, or one past its end still in force;
- a consumer department neither the catalog nor any API key knows;
- a rule or grant that can never match, or that another always answers for first;
- one data element (`element` in the catalog) served under two share types or masks.

Warnings (printed, exit status 0): a system no API key is registered for.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from catalog import Catalog, DataItem, Resource, ShareType
from policies.outcomes import local
from policies.reach import unreached
from policies.rule import Rule, from_instant, instant
from policies.rule_problems import DEPARTMENT, SYSTEM, line_problem, rule_problem
from policies.rules import RuleLine, groups_named, load_rules, read_lines


@dataclass(frozen=True)
class Finding:
    where: str
    """`<file>:<line>`, `grant <id>` or a catalog file and place."""
    problem: str

    def __str__(self) -> str:
        return f"{self.where}: {self.problem}"


@dataclass(frozen=True)
class Consumers:
    """The consumers the platform knows: departments of the catalog or holding an API
    key, and the systems (`<department>/<system>`) a key is registered for."""

    departments: frozenset[str]
    systems: frozenset[str]


@dataclass
class Checked:
    problems: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def check(
    catalog: Catalog,
    policy_dir: Path,
    grants: Sequence[Rule],
    consumers: Consumers,
    now: datetime.datetime,
) -> Checked:
    """`grants`: the rules of the grants in force (each with its basis `grant:<id>`)."""
    lines = read_lines(policy_dir)
    checked = Checked()
    unloadable = list(_lines(catalog, lines, policy_dir))
    checked.problems += unloadable
    checked.problems += _grants(catalog, grants, now)
    unknown, unregistered = _consumers(lines, grants, consumers, policy_dir)
    checked.problems += unknown
    checked.warnings += unregistered
    checked.problems += _elements(catalog)
    if unloadable:
        checked.notes.append(
            "rules that never match or are shadowed are looked for once every line loads"
        )
        return checked
    loadable = [rule for rule in grants if not _rule_problem(catalog, rule)]
    rules = load_rules(policy_dir, catalog, loadable)
    checked.problems += [
        Finding(_where(found.rule.basis, policy_dir), found.why)
        for found in unreached(catalog, rules, now)
    ]
    return checked


def _lines(catalog: Catalog, lines: Sequence[RuleLine], policy_dir: Path) -> Iterator[Finding]:
    groups = groups_named(lines)
    for line in lines:
        problem = line_problem(catalog, groups, line.cells)
        if problem:
            yield Finding(_where(line.basis, policy_dir), problem)


def _grants(catalog: Catalog, grants: Sequence[Rule], now: datetime.datetime) -> Iterator[Finding]:
    """A grant was checked when it was made; the catalog may have changed since."""
    seen: set[tuple[str, str]] = set()
    for rule in grants:
        where = rule.basis.replace(":", " ")
        problem = _rule_problem(catalog, rule)
        if rule.valid_until and rule.valid_until <= instant(now):
            grant_id = rule.basis.partition(":")[2]
            problem = (
                f"ended {local(from_instant(rule.valid_until))} but is still in force: revoke "
                f"it (python -m policies revoke {grant_id} --operator … --reason …)"
            )
        if problem and (where, problem) not in seen:
            seen.add((where, problem))
            yield Finding(where, problem)


def _rule_problem(catalog: Catalog, rule: Rule) -> str | None:
    return rule_problem(catalog, rule.subject, rule.obj, rule.action, rule.purpose, rule.scope)


def _consumers(
    lines: Sequence[RuleLine], grants: Sequence[Rule], consumers: Consumers, policy_dir: Path
) -> tuple[list[Finding], list[Finding]]:
    named = [(rule.basis.replace(":", " "), rule.subject) for rule in grants]
    for line in lines:
        if len(line.cells) > 1:  # a rule's subject, or a group's member
            named.append((_where(line.basis, policy_dir), line.cells[1]))
    unknown, unregistered = [], []
    for where, subject in dict.fromkeys(named):
        department = subject.partition("/")[0]
        if DEPARTMENT.fullmatch(department) and department not in consumers.departments:
            unknown.append(
                Finding(
                    where,
                    f"consumer department {department} is unknown: the catalog does not have "
                    "it and no API key was registered for it",
                )
            )
        elif SYSTEM.fullmatch(subject) and subject not in consumers.systems:
            unregistered.append(
                Finding(
                    where,
                    f"no API key is registered for the system {subject}: it covers no one yet",
                )
            )
    return unknown, unregistered


def _elements(catalog: Catalog) -> Iterator[Finding]:
    """Two items holding one data element are one fact: served differently, the stricter
    terms of one provider are bypassed by asking the other."""
    holders: dict[str, list[tuple[Resource, DataItem]]] = {}
    for resource in catalog.resources.values():
        for item in resource.items:
            if item.element:
                holders.setdefault(item.element, []).append((resource, item))
    for element, held in sorted(holders.items()):
        if len({_terms(item) for _, item in held}) > 1:
            resource, item = held[0]
            listed = ", ".join(f"{r.id}.{i.name} ({_described(i)})" for r, i in held)
            yield Finding(
                _catalog_place(catalog, resource, item),
                f"one fact served two ways: {listed} hold the same data element {element} "
                "under different share types or masks",
            )


def _terms(item: DataItem) -> tuple[object, ...]:
    """How an item is served to departments: its share type, a conditional item's mask."""
    if item.share_type is not ShareType.CONDITIONAL or item.mask is None:
        return (item.share_type,)
    return (item.share_type, item.mask, item.masked_for)


def _described(item: DataItem) -> str:
    if len(_terms(item)) == 1:
        return item.share_type.value
    assert item.mask is not None
    return f"conditional, masked ({item.mask.rule}) for {item.masked_for.value}"


def _catalog_place(catalog: Catalog, resource: Resource, item: DataItem) -> str:
    department = catalog.provider_of[resource.id].department.code
    file = catalog.files.get(department, Path("catalog"))
    return f"{file}: resources({resource.id}).items({item.name})"


def _where(basis: str, policy_dir: Path) -> str:
    """A rule's basis as a place an admin opens: `policies/rules/x.csv:3`, `grant 4`."""
    if basis.startswith("grant:"):
        return basis.replace(":", " ")
    return shown(policy_dir / "rules" / basis)


def shown(path: Path) -> str:
    """A path as the admin would type it: relative to where they stand, if inside it."""
    here, there = Path.cwd(), path.absolute()
    return str(there.relative_to(here) if there.is_relative_to(here) else there)
