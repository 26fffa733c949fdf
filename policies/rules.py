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
from policies.index import MATCHER, RuleIndex
from policies.rule import Rule
from policies.scope import Scope

DEPARTMENT = re.compile(r"[0-9A-Z]{18}")
SYSTEM = re.compile(r"[0-9A-Z]{18}/[a-z0-9][a-z0-9-]*")
GROUP = re.compile(r"group:[a-z0-9_]+")
PURPOSES = frozenset(p.value for p in Purpose) | {"*"}
ACTIONS = frozenset(a.value for a in Action)


@dataclass(frozen=True)
class RuleSet:
    model: str
    """The text of `model.conf`: what the Casbin oracle (`enforcer`) is made from."""
    version: str
    rules: tuple[Rule, ...] = ()
    groups: tuple[tuple[str, str], ...] = ()
    """(member, group) of every `g` line."""
    scopes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """The scopes rules name, per resource: what the server asks the model about."""
    index: RuleIndex = field(default_factory=lambda: RuleIndex.of((), ()))
    """What serves decisions: the same rules, found without a scan."""

    @functools.cached_property
    def enforcer(self) -> casbin.Enforcer:
        """The Casbin model over the same rules: the reference the index is checked
        against (tests, `python -m policies explain`), never asked while serving."""
        enforcer = casbin.Enforcer(casbin.Enforcer.new_model(text=self.model))
        for member, group in self.groups:
            enforcer.add_named_grouping_policy("g", member, group)
        # As `add_named_policy` adds a rule, less its check for a duplicate, which scans
        # every rule added before (9 s for 30,000): each rule here names its own line or
        # grant, so none is a duplicate, and the model has no priorities to order by.
        assertion = enforcer.get_model()["p"]["p"]
        for rule in self.rules:
            values = rule.values()
            assertion.policy.append(values)
            assertion.policy_map[",".join(values)] = len(assertion.policy) - 1
        return enforcer

    @functools.cached_property
    def _by_basis(self) -> dict[str, Rule]:
        return {rule.basis: rule for rule in self.rules}

    def window(self, basis: str) -> tuple[str, str]:
        """When the rules a decision rests on hold together, as (from, until) in the
        model's time format, "" for unbounded: the latest start and the earliest end.
        A basis names one rule or grant, several joined by " | " (one per scope), or
        none at all (the catalog decided): then there is no window."""
        rules = [self._by_basis[b] for b in basis.split(" | ") if b in self._by_basis]
        starts = [rule.valid_from for rule in rules if rule.valid_from]
        ends = [rule.valid_until for rule in rules if rule.valid_until]
        return max(starts, default=""), min(ends, default="")

    def next_change(self, resource_id: str, item: str, now: str) -> str | None:
        """The earliest rule start or end after `now` that could touch this item: a
        cached decision for it is stale from then on."""
        return self.index.next_change(resource_id, item, now)

    def changed(self, added: Sequence[Rule], removed: Sequence[Rule]) -> RuleSet:
        """These rules with `added` after them and `removed` gone (grants made and
        revoked): a new set sharing what did not change, not one loaded again. The
        version is the files' (`version`); what grants are in force, the caller knows."""
        gone = set(removed)
        bases = {rule.basis for rule in gone}  # a string's hash is kept; a rule's is not
        rules = (*(r for r in self.rules if r.basis not in bases or r not in gone), *added)
        scopes = dict(self.scopes)
        for resource_id in {rule.resource_id for rule in (*added, *gone) if rule.scope}:
            named = {r.scope for r in rules if r.scope and r.resource_id == resource_id}
            scopes[resource_id] = tuple(sorted(named))
        return RuleSet(
            self.model,
            self.version,
            rules,
            self.groups,
            {resource: texts for resource, texts in scopes.items() if texts},
            self.index.changed(added, gone),
        )


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
    model_source = _checked_model(model, model_text)
    lines = _lines(files)
    groups = groups_named(lines)
    read = [_read(catalog, groups, line) for line in lines]
    members = tuple(each for each in read if isinstance(each, tuple))
    every = (*(each for each in read if isinstance(each, Rule)), *grants)
    scopes: dict[str, set[str]] = {}
    for rule in every:
        if rule.scope:
            scopes.setdefault(rule.resource_id, set()).add(rule.scope)
    return RuleSet(
        model_source,
        _version(catalog.version, [(model, model_text), *files]),
        every,
        members,
        {resource: tuple(sorted(texts)) for resource, texts in scopes.items()},
        RuleIndex.of(every, members),
    )


def _checked_model(path: Path, text: bytes) -> str:
    """The model's text, if its matcher is the one `RuleIndex` implements: decisions are
    served by the index, so a different matcher would be silently ignored."""
    source = text.decode()
    try:
        model = casbin.Enforcer.new_model(text=source)
        matcher = model["m"]["m"].value
    except Exception as exc:  # pycasbin raises bare errors for a malformed model
        raise ConfigurationError(str(path), "", f"not a Casbin model: {exc}") from None
    if _spaceless(matcher) != _spaceless(MATCHER):
        raise ConfigurationError(
            str(path),
            "[matchers]",
            "the matcher is not the sharing model's; decisions "
            "are served by an index of that matcher (policies/index.py)",
        )
    return source


def _spaceless(text: str) -> str:
    """pycasbin keeps `r.dept` as `r_dept`; spacing is the author's."""
    return "".join(text.replace(".", "_").split())


def _version(catalog: str, files: Sequence[tuple[Path, bytes]]) -> str:
    """Derived from the catalog and the files, never counted: the same give the same
    version on every instance and after every restart, and a change to any of them
    gives another. The grants are not hashed (100,000 of them would cost a reload tens
    of milliseconds): the policy in force adds the grant store's change sequence
    (`grants.policy_source.derived_version`). Short enough for the audit record."""
    digest = hashlib.new("sm3", catalog.encode() + b"\0")
    for path, text in files:
        digest.update(path.name.encode() + b"\0" + text + b"\0")
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


def _read(catalog: Catalog, groups: set[str], line: RuleLine) -> Rule | tuple[str, str]:
    """A `p` line as a rule, a `g` line as (member, group)."""
    problem = line_problem(catalog, groups, line)
    if problem:
        raise ConfigurationError(str(line.path), f"line {line.number}", problem)
    kind, *values = line.cells
    if kind == "g":
        member, group = values
        return member, group
    subject, obj, action, purpose = values
    return Rule(subject, obj, action, purpose, basis=line.basis)


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
