"""Load the Casbin model, the admins' rule files and the stored grants, refusing rules
that make no sense.

A line that makes no sense (`rule_problems.py`: an unknown resource or item, a
not_shared item granted, …) is a start-up error naming its file and line: a policy
admin's typo must not silently grant or withhold data. Grants are checked the same way
when they are made (`python -m policies grant`). The rules are served through an
index (`index.py`); the Casbin model over them is built only when asked for.
"""

from __future__ import annotations

import csv
import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import casbin

from catalog import Catalog
from errors import ConfigurationError
from policies.index import MATCHER, RuleIndex
from policies.rule import Rule
from policies.rule_problems import line_problem


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


def _read(catalog: Catalog, groups: set[str], line: RuleLine) -> Rule | tuple[str, str]:
    """A `p` line as a rule, a `g` line as (member, group)."""
    problem = line_problem(catalog, groups, line.cells)
    if problem:
        raise ConfigurationError(str(line.path), f"line {line.number}", problem)
    kind, *values = line.cells
    if kind == "g":
        member, group = values
        return member, group
    subject, obj, action, purpose = values
    return Rule(subject, obj, action, purpose, basis=line.basis)
