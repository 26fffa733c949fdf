"""Load the Casbin model and the admins' rule files, refusing rules that make no sense.

A rule that names an unknown resource or item, grants a not_shared item (Art. 4) or
touches an item the catalog already shares unconditionally is a start-up error naming
its file and line: a policy admin's typo must not silently grant or withhold data.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import casbin

from errors import ConfigurationError
from policies.caller import Purpose
from schema.catalog import Catalog, ShareType
from schema.loader import files_version

ACTIONS = frozenset({"read"})
DEPARTMENT = re.compile(r"[0-9A-Z]{18}")
SYSTEM = re.compile(r"[0-9A-Z]{18}/[a-z0-9][a-z0-9-]*")
GROUP = re.compile(r"group:[a-z0-9_]+")
PURPOSES = frozenset(p.value for p in Purpose) | {"*"}


@dataclass(frozen=True)
class RuleSet:
    enforcer: casbin.Enforcer
    version: str


def load_rules(policy_dir: Path, catalog: Catalog) -> RuleSet:
    model = policy_dir / "model.conf"
    if not model.is_file():
        raise ConfigurationError(str(model), "", "the Casbin model file is missing")
    files = sorted((policy_dir / "rules").glob("*.csv"))
    enforcer = casbin.Enforcer(str(model))
    rows = [(path, line_no, row) for path in files for line_no, row in _rows(path)]
    groups = {row[2] for _, _, row in rows if row[0] == "g" and len(row) == 3}
    for path, line_no, row in rows:
        _add(enforcer, catalog, groups, path, line_no, row)
    return RuleSet(enforcer, files_version([model, *files]))


def _rows(path: Path) -> list[tuple[int, list[str]]]:
    rows = []
    # utf-8-sig: spreadsheet programs save CSV with a byte-order mark.
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    for line_no, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        rows.append((line_no, [cell.strip() for cell in next(csv.reader([line]))]))
    return rows


def _add(
    enforcer: casbin.Enforcer,
    catalog: Catalog,
    groups: set[str],
    path: Path,
    line_no: int,
    row: list[str],
) -> None:
    where = f"line {line_no}"
    kind, *values = row
    if kind == "g" and len(values) == 2:
        problem = _group_problem(*values)
        if problem:
            raise ConfigurationError(str(path), where, problem)
        enforcer.add_named_grouping_policy("g", *values)
    elif kind == "p" and len(values) == 4:
        problem = _subject_problem(values[0], groups) or _rule_problem(catalog, *values)
        if problem:
            raise ConfigurationError(str(path), where, problem)
        enforcer.add_named_policy("p", *values)
    else:
        raise ConfigurationError(
            str(path),
            where,
            "expected 'p, subject, resource.item, read, purpose' or 'g, member, group'",
        )


def _group_problem(member: str, group: str) -> str | None:
    """Only departments join groups: a department made a 'member' of another would
    silently inherit every rule of that department."""
    if not DEPARTMENT.fullmatch(member):
        return f"a group member must be a department code (18 characters), not {member!r}"
    if not GROUP.fullmatch(group):
        return f"a group must be named 'group:<name>', not {group!r}"
    return None


def _subject_problem(subject: str, groups: set[str]) -> str | None:
    if GROUP.fullmatch(subject):
        return None if subject in groups else f"group {subject!r} has no members (no 'g' line)"
    if DEPARTMENT.fullmatch(subject) or SYSTEM.fullmatch(subject):
        return None
    return (
        f"subject {subject!r} is not a department code, "
        "'<department code>/<system>' or 'group:<name>'"
    )


def _rule_problem(catalog: Catalog, subject: str, obj: str, act: str, purpose: str) -> str | None:
    if act not in ACTIONS:
        return f"unknown action {act!r}; expected one of {sorted(ACTIONS)}"
    if purpose not in PURPOSES:
        return f"unknown purpose {purpose!r}; expected one of {sorted(PURPOSES)}"
    resource_id, _, item_name = obj.partition(".")
    if resource_id not in catalog.resources or not item_name:
        return f"{obj!r} does not name a catalog resource as 'resource.item' or 'resource.*'"
    if item_name == "*":
        return None
    resource = catalog.resources[resource_id]
    if item_name not in {item.name for item in resource.items}:
        return f"{item_name!r} is not a data item of {resource_id!r}"
    share_type = resource.item(item_name).share_type
    if share_type is ShareType.NOT_SHARED:
        return f"{obj} is not_shared: no rule can grant it (Art. 4)"
    if share_type is ShareType.UNCONDITIONAL:
        return f"{obj} is unconditional: every department has it already, a rule is misleading"
    return None
