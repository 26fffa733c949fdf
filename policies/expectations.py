"""`python -m policies test`: files of expected decisions, run against the catalog and
the rule files, in the spirit of Cerbos's `*_test.yaml`.

A file (`policies/tests/<name>_test.yaml`) says what each case must get:

    description: what the file covers
    now: 2026-12-15T09:00:00+08:00       # its cases' time (Asia/Shanghai if no zone)
    grants:                              # grants the cases assume, as the store keeps them
      - {id: 1, consumer: 11410581005000008N/school-enrolment, resource: person,
         items: [householdAddress], action: read_clear, purposes: [administrative_basis],
         scope: township=township, valid_from: 2026-12-01T08:00:00+08:00}
    cases:
      - name: the marriage registry reads addresses for administrative decisions
        caller: 11410581005000006G/marriage-registry   # public, a department or a system
        attributes: {township: 开元街道}                 # the caller's key attributes
        item: person.householdAddress
        purpose: administrative_basis                  # left out: none declared
        action: verify                                 # read (the default) or verify
        now: 2026-12-15T09:00:00+08:00                 # overrides the file's
        row: {township: 开元街道}                       # the row, for a scoped decision
        expect: denied                                 # clear | masked | verified | denied
        code: APPLICATION_REQUIRED                     # a denied case's code, required
        basis: public_security.csv:3                   # optional: what must decide it

Grants come only from the file, never from the store, so a file means the same on
every machine. A malformed file stops the run naming the file and the case.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from catalog import Catalog
from errors import DenialReason
from policies.caller import Purpose
from policies.decision import Action, Outcome
from policies.engine import SharingPolicy
from policies.named import find_item, parse_caller
from policies.outcomes import SHANGHAI, describe, for_row
from policies.rule import Rule, grant_rules
from policies.rule_problems import rule_problem, subject_problem
from policies.rules import RuleSet, load_rules
from policies.scope import Scope

SUFFIX = "_test.yaml"


def _zoned(moment: datetime.datetime) -> datetime.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)


Moment = Annotated[datetime.datetime, AfterValidator(_zoned)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GrantFixture(_Strict):
    id: int
    consumer: str
    resource: str
    items: Annotated[list[str], Field(min_length=1)]
    action: Action
    purposes: Annotated[list[Purpose], Field(min_length=1)]
    scope: str = ""
    valid_from: Moment | None = None
    valid_until: Moment | None = None


class Case(_Strict):
    name: Annotated[str, Field(min_length=1)]
    caller: str
    attributes: dict[str, str] = Field(default_factory=dict)
    item: str
    purpose: Purpose | None = None
    action: Literal["read", "verify"] = "read"
    now: Moment | None = None
    row: dict[str, str] | None = None
    expect: Outcome
    code: str | None = None
    basis: str | None = None


class Suite(_Strict):
    description: str
    now: Moment | None = None
    grants: list[GrantFixture] = Field(default_factory=list)
    cases: Annotated[list[Case], Field(min_length=1)]


class Malformed(ValueError):
    """A test file that cannot be run as written: its file, and the case if one is at fault."""


@dataclass(frozen=True)
class Failure:
    file: Path
    case: str
    problem: str

    def __str__(self) -> str:
        return f"{self.file}: {self.case}: {self.problem}"


@dataclass
class Results:
    files: int = 0
    cases: int = 0
    failures: list[Failure] = field(default_factory=list)


def expectation_files(paths: Sequence[Path]) -> list[Path]:
    """The files named, and every `*_test.yaml` under the folders named."""
    found = []
    for path in paths:
        if path.is_dir():
            found += sorted(path.rglob(f"*{SUFFIX}"))
        elif path.is_file():
            found.append(path)
        else:
            raise Malformed(f"{path}: no such file or folder")
    if not found:
        raise Malformed(f"no test files (*{SUFFIX}) in {', '.join(map(str, paths))}")
    return found


def run(catalog: Catalog, policy_dir: Path, files: Sequence[Path]) -> Results:
    results = Results()
    for path in files:
        suite = _read(path)
        rules = load_rules(policy_dir, catalog, _fixture_rules(catalog, path, suite.grants))
        results.files += 1
        for number, case in enumerate(suite.cases, start=1):
            results.cases += 1
            problem = _run_case(catalog, rules, path, number, case, suite.now)
            if problem:
                results.failures.append(Failure(path, case.name, problem))
    return results


def _read(path: Path) -> Suite:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}:" if mark is not None else ""
        said = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise Malformed(f"{path}:{where} not valid YAML: {said}") from None
    try:
        return Suite.model_validate(raw)
    except ValidationError as invalid:
        first = invalid.errors()[0]
        raise Malformed(f"{path}: {_place(raw, first['loc'])}: {first['msg']}") from None


def _place(raw: Any, loc: tuple[int | str, ...]) -> str:
    """`case 3 ('the public …') expect`, or the top-level key at fault."""
    if len(loc) >= 2 and loc[0] in ("cases", "grants") and isinstance(loc[1], int):
        entries = raw.get(loc[0]) if isinstance(raw, dict) else None
        entry = entries[loc[1]] if isinstance(entries, list) and loc[1] < len(entries) else None
        label = entry.get("name", entry.get("id")) if isinstance(entry, dict) else None
        named = f" ({label!r})" if label is not None else ""
        rest = ".".join(str(part) for part in loc[2:])
        return f"{loc[0][:-1]} {loc[1] + 1}{named}" + (f" {rest}" if rest else "")
    return ".".join(str(part) for part in loc) or "the file"


def _fixture_rules(catalog: Catalog, path: Path, grants: Sequence[GrantFixture]) -> list[Rule]:
    rules = []
    for grant in grants:
        try:
            scope = Scope.parse(grant.scope).text if grant.scope else ""
        except ValueError as error:
            raise Malformed(f"{path}: grant {grant.id}: {error}") from None
        made = grant_rules(
            grant.consumer,
            (grant.resource, grant.items),
            grant.action.value,
            [purpose.value for purpose in grant.purposes],
            scope,
            (grant.valid_from, grant.valid_until),
            grant.id,
        )
        for rule in made:
            problem = subject_problem(rule.subject, None) or rule_problem(
                catalog, rule.subject, rule.obj, rule.action, rule.purpose, rule.scope
            )
            if problem:
                raise Malformed(f"{path}: grant {grant.id}: {problem}")
        rules += made
    return rules


def _run_case(
    catalog: Catalog,
    rules: RuleSet,
    path: Path,
    number: int,
    case: Case,
    default_now: datetime.datetime | None,
) -> str | None:
    """What is wrong with the outcome (None: as expected); raises Malformed for a case
    that cannot be decided as written."""
    where = f"{path}: case {number} ({case.name!r})"
    try:
        caller = parse_caller(case.caller, case.attributes)
        resource, item = find_item(catalog, case.item)
    except ValueError as error:
        raise Malformed(f"{where}: {error}") from None
    now = case.now or default_now
    if now is None:
        raise Malformed(f"{where}: no `now`: give the file or the case a fixed time")
    if (case.expect is Outcome.DENIED) != (case.code is not None):
        raise Malformed(f"{where}: a denied case names its code, and only a denied case does")
    if case.code is not None and case.code not in set(DenialReason):
        codes = ", ".join(DenialReason)
        raise Malformed(f"{where}: {case.code!r} is not a denial code ({codes})")
    action = Action.VERIFY if case.action == "verify" else Action.READ_CLEAR
    decision = SharingPolicy(catalog, rules).decide(
        caller, resource, item, case.purpose, now, action
    )
    served = for_row(decision, action, case.row, case.attributes)
    if served is None:
        return f"the decision is scoped ({describe(decision)}): give the case a row"
    expected = f"{case.expect.value} {case.code}" if case.code else case.expect.value
    wrong_basis = case.basis is not None and case.basis != served.basis
    if served.text != expected or wrong_basis:
        wanted = f"{expected} ({case.basis})" if case.basis else expected
        return f"expected {wanted}, got {served.text} ({served.basis})"
    return None
