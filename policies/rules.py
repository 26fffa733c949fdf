"""Load the Casbin model, the admins' rule files and the stored grants, refusing rules
that make no sense.

A rule that names an unknown resource or item, grants a not_shared item (Art. 4),
touches an item the catalog already shares unconditionally, or masks an item the
catalog gives no mask is a start-up error naming its file and line: a policy admin's
typo must not silently grant or withhold data. Grants are checked the same way when
they are made (`python -m policies grant`).
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import functools
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import casbin

from catalog import Catalog, CatalogClass, ItemKind, ShareType
from errors import ConfigurationError
from policies.caller import PUBLIC_ROLE, Purpose
from policies.decision import Action
from policies.scope import Scope

DEPARTMENT = re.compile(r"[0-9A-Z]{18}")
SYSTEM = re.compile(r"[0-9A-Z]{18}/[a-z0-9][a-z0-9-]*")
GROUP = re.compile(r"group:[a-z0-9_]+")
PURPOSES = frozenset(p.value for p in Purpose) | {"*"}
ACTIONS = frozenset(a.value for a in Action)


@functools.lru_cache(maxsize=64)
def instant(moment: datetime.datetime) -> str:
    """A time as the model compares it: UTC, fixed width, so text order is time order.

    Remembered: a request asks it once per decision with one `now` (strftime was
    about 5 µs a call, a dozen calls a request)."""
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Rule:
    """One `p` tuple of the model, from a rule file line or a stored grant."""

    subject: str
    obj: str
    action: str
    purpose: str
    scope: str = ""
    valid_from: str = ""
    valid_until: str = ""
    basis: str = ""

    def values(self) -> list[str]:
        return list(dataclasses.astuple(self))

    @property
    def resource_id(self) -> str:
        return self.obj.partition(".")[0]


def grant_rules(
    consumer: str,
    obj_items: tuple[str, Sequence[str]],
    action: str,
    purposes: Sequence[str],
    scope: str,
    window: tuple[datetime.datetime | None, datetime.datetime | None],
    grant_id: int | None,
) -> list[Rule]:
    """A grant as the model reads it: one rule per (item, purpose), its basis naming the
    grant. `obj_items` is the resource id and the items."""
    resource_id, items = obj_items
    valid_from, valid_until = (instant(moment) if moment else "" for moment in window)
    return [
        Rule(
            consumer,
            f"{resource_id}.{item}",
            action,
            purpose,
            scope,
            valid_from,
            valid_until,
            f"grant:{grant_id}",
        )
        for item in items
        for purpose in purposes
    ]


@dataclass(frozen=True)
class RuleSet:
    enforcer: casbin.Enforcer
    version: str
    rules: tuple[Rule, ...] = ()
    scopes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """The scopes rules name, per resource: what the server asks the model about."""

    def next_change(self, resource_id: str, item: str, now: str) -> str | None:
        """The earliest rule start or end after `now` that could touch this item: a
        cached decision for it is stale from then on."""
        times = [
            moment
            for rule in self.rules
            if rule.resource_id == resource_id and rule.obj.partition(".")[2] in ("*", item)
            for moment in (rule.valid_from, rule.valid_until)
            if moment > now
        ]
        return min(times, default=None)


def rule_files(policy_dir: Path) -> list[Path]:
    """The model, then the rule files in name order: everything rules are read from."""
    model = policy_dir / "model.conf"
    if not model.is_file():
        raise ConfigurationError(str(model), "", "the Casbin model file is missing")
    return [model, *sorted((policy_dir / "rules").glob("*.csv"))]


@dataclass(frozen=True)
class RuleLine:
    """One line of a rule file that is neither blank nor a comment, as cells."""

    path: Path
    number: int
    cells: tuple[str, ...]

    @property
    def basis(self) -> str:
        """How a rule from this line names its origin: `<file>:<line>`."""
        return f"{self.path.name}:{self.number}"


def read_lines(policy_dir: Path) -> list[RuleLine]:
    """Every line of the rule files that says something, in the order they are loaded."""
    return _lines([(path, path.read_bytes()) for path in rule_files(policy_dir)[1:]])


def load_rules(policy_dir: Path, catalog: Catalog, grants: Sequence[Rule] = ()) -> RuleSet:
    """The rule files, then `grants` (already checked when they were made).

    Each file is read once, so the version is that of the very text the rules come from,
    even if a file changes while it is read."""
    (model, model_text), *files = [(path, path.read_bytes()) for path in rule_files(policy_dir)]
    enforcer = casbin.Enforcer(casbin.Enforcer.new_model(text=model_text.decode()))
    lines = _lines(files)
    groups = groups_named(lines)
    rules = [_add(enforcer, catalog, groups, line) for line in lines]
    for grant in grants:
        enforcer.add_named_policy("p", *grant.values())
    every = tuple(rule for rule in [*rules, *grants] if rule is not None)
    scopes: dict[str, set[str]] = {}
    for rule in every:
        if rule.scope:
            scopes.setdefault(rule.resource_id, set()).add(rule.scope)
    return RuleSet(
        enforcer,
        _version(catalog.version, [(model, model_text), *files], grants),
        every,
        {resource: tuple(sorted(texts)) for resource, texts in scopes.items()},
    )


def _version(catalog: str, files: Sequence[tuple[Path, bytes]], grants: Sequence[Rule]) -> str:
    """Derived from all a policy is made of, never counted: the same catalog, files and
    grants give the same version on every instance and after every restart, and a
    change to any of them gives another. Short enough for the audit record's column."""
    digest = hashlib.new("sm3", catalog.encode() + b"\0")
    for path, text in files:
        digest.update(path.name.encode() + b"\0" + text + b"\0")
    for grant in grants:
        digest.update("\0".join(grant.values()).encode() + b"\n")
    return digest.hexdigest()[:16]


def _lines(files: Sequence[tuple[Path, bytes]]) -> list[RuleLine]:
    lines = []
    for path, text in files:
        # utf-8-sig: spreadsheet programs save CSV with a byte-order mark.
        for number, line in enumerate(text.decode("utf-8-sig").splitlines(), start=1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            cells = tuple(cell.strip() for cell in next(csv.reader([line])))
            lines.append(RuleLine(path, number, cells))
    return lines


def groups_named(lines: Sequence[RuleLine]) -> set[str]:
    """The groups some `g` line gives a member: the only ones a rule may name."""
    return {line.cells[2] for line in lines if line.cells[0] == "g" and len(line.cells) == 3}


def line_problem(catalog: Catalog, groups: set[str], line: RuleLine) -> str | None:
    """Why the line cannot be loaded (None: it can)."""
    kind, *values = line.cells
    if kind == "g" and len(values) == 2:
        return _group_problem(*values)
    if kind == "p" and len(values) == 4:
        subject, obj, action, purpose = values
        return subject_problem(subject, groups) or rule_problem(
            catalog, subject, obj, action, purpose
        )
    return "expected 'p, subject, resource.item, action, purpose' or 'g, member, group'"


def _add(
    enforcer: casbin.Enforcer, catalog: Catalog, groups: set[str], line: RuleLine
) -> Rule | None:
    problem = line_problem(catalog, groups, line)
    if problem:
        raise ConfigurationError(str(line.path), f"line {line.number}", problem)
    kind, *values = line.cells
    if kind == "g":
        enforcer.add_named_grouping_policy("g", *values)
        return None
    subject, obj, action, purpose = values
    rule = Rule(subject, obj, action, purpose, basis=line.basis)
    enforcer.add_named_policy("p", *rule.values())
    return rule


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
