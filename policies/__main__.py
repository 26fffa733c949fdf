"""The policy admin's command line: `python -m policies <verb>`.

    grant | grants [--all | --history] | revoke   grants in the platform store, each change
                                                  naming its --operator and --reason
    check     rules and grants against the catalog; exit 1 naming each problem
    explain   why a caller gets what it gets for an item, purpose and time
    test      files of expected decisions (policies/tests/*_test.yaml); exit 1 on a miss
    diff      who gains or loses which item between two rule versions (folders or git)
    replay    the audit log's decisions, decided again by a candidate policy folder

Times without a zone are Asia/Shanghai; the store keeps UTC. Exit status 2: a bad
argument, a malformed file or a refused change, said on stderr. This module parses,
dispatches and reads the store; the work is in `policies.<verb>` and `grants`.
"""

from __future__ import annotations

import argparse
import datetime
import sys
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from audit import records_between
from catalog import Catalog, load_catalog
from errors import ConfigurationError
from grants import Grant, GrantStore, rules_of
from grants import command_line as grant_verbs
from policies import check, diff, expectations, explain, replay
from policies.arguments import parser
from policies.caller import Purpose
from policies.decision import Action
from policies.engine import SharingPolicy
from policies.named import find_item, parse_caller
from policies.revisions import UnknownVersion, policy_folder
from policies.rule import Rule
from policies.rules import RuleSet, load_rules
from settings import Settings, tool_settings
from store.command_line import REFUSED, run_on_store

FAILED = 1

Verb = Callable[[Settings, AsyncEngine, argparse.Namespace], Awaitable[int]]


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    if arguments.command == "test":
        return _test(arguments)
    verb = VERBS[arguments.command]
    return run_on_store(
        "python -m policies", lambda settings, engine: verb(settings, engine, arguments)
    )


def _now(given: datetime.datetime | None) -> datetime.datetime:
    return given or datetime.datetime.now(datetime.UTC)


def _policy_dir(settings: Settings, given: str | None) -> Path:
    return Path(given) if given else settings.policy_dir


async def _in_force(engine: AsyncEngine, moment: datetime.datetime) -> list[Grant]:
    """The grants a server would have decided with at `moment`."""
    every = await GrantStore(engine).listed(include_revoked=True)
    return [grant for grant in every if grant.in_force_at(moment)]


async def _check(settings: Settings, engine: AsyncEngine, arguments: argparse.Namespace) -> int:
    catalog = load_catalog(settings.catalog_dir)
    holders = await grant_verbs.holders(engine, settings)
    consumers = check.Consumers(
        frozenset(entry.department.code for entry in catalog.departments)
        | {holder.department for holder in holders},
        frozenset(f"{h.department}/{h.system}" for h in holders if h.in_force),
    )
    grants = rules_of(await GrantStore(engine).listed())
    policy_dir = _policy_dir(settings, arguments.policy)
    found = check.check(catalog, policy_dir, grants, consumers, _now(arguments.now))
    for warning in found.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for problem in found.problems:
        print(problem)
    for note in found.notes:
        print(f"note: {note}", file=sys.stderr)
    if found.problems:
        print(f"{len(found.problems)} problems", file=sys.stderr)
        return FAILED
    print(f"{check.shown(policy_dir)}: rules and grants agree with the catalog")
    return 0


async def _explain(settings: Settings, engine: AsyncEngine, arguments: argparse.Namespace) -> int:
    catalog = load_catalog(settings.catalog_dir)
    try:
        caller = parse_caller(arguments.caller, dict(arguments.attribute))
        resource, item = find_item(catalog, arguments.item)
    except ValueError as error:
        print(f"python -m policies explain: {error}", file=sys.stderr)
        return REFUSED
    known = {entry.department.code for entry in catalog.departments} | {
        holder.department for holder in await grant_verbs.holders(engine, settings)
    }
    if caller.department is not None and caller.department not in known:
        print(
            f"python -m policies explain: caller department {caller.department} is unknown: "
            "the catalog does not have it and no API key was registered for it",
            file=sys.stderr,
        )
        return REFUSED
    now = _now(arguments.now)
    grants = rules_of(await _in_force(engine, now))
    rules = load_rules(_policy_dir(settings, arguments.policy), catalog, grants)
    asked = explain.Asked(
        caller,
        resource,
        item,
        Purpose(arguments.purpose) if arguments.purpose else None,
        now,
        Action.VERIFY if arguments.action == "verify" else Action.READ_CLEAR,
        dict(arguments.row) if arguments.row else None,
    )
    print(explain.render(explain.explain(SharingPolicy(catalog, rules), asked)))
    return 0


def _test(arguments: argparse.Namespace) -> int:
    """No store: a test file's grants are its own."""
    try:
        settings = tool_settings()
        catalog = load_catalog(settings.catalog_dir)
        policy_dir = _policy_dir(settings, arguments.policy)
        # The shipped expectations, whichever folder they are run against.
        paths = [Path(path) for path in arguments.paths] or [settings.policy_dir / "tests"]
        results = expectations.run(catalog, policy_dir, expectations.expectation_files(paths))
    except (ConfigurationError, expectations.Malformed) as error:
        print(f"python -m policies test: {error}", file=sys.stderr)
        return REFUSED
    for failure in results.failures:
        print(f"FAILED {failure}")
    passed = results.cases - len(results.failures)
    failed = f", {len(results.failures)} failed" if results.failures else ""
    ran = f"{_counted(results.files, 'file')}, {_counted(results.cases, 'case')}"
    print(f"{ran}: {passed} passed{failed}")
    return FAILED if results.failures else 0


def _counted(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


async def _diff(settings: Settings, engine: AsyncEngine, arguments: argparse.Namespace) -> int:
    catalog = load_catalog(settings.catalog_dir)
    now = _now(arguments.now)
    grants = rules_of(await _in_force(engine, now))
    with tempfile.TemporaryDirectory() as before, tempfile.TemporaryDirectory() as after:
        try:
            old = _version(catalog, settings, arguments.before, Path(before), grants)
            new = _version(catalog, settings, arguments.after, Path(after), grants)
        except UnknownVersion as error:
            print(f"python -m policies diff: {error}", file=sys.stderr)
            return REFUSED
        print(diff.render(diff.differences(catalog, old, new, now)))
    return 0


def _version(
    catalog: Catalog, settings: Settings, version: str | None, scratch: Path, grants: list[Rule]
) -> RuleSet:
    folder = (
        policy_folder(version, settings.policy_dir, scratch) if version else settings.policy_dir
    )
    return load_rules(folder, catalog, grants)


async def _replay(settings: Settings, engine: AsyncEngine, arguments: argparse.Namespace) -> int:
    catalog = load_catalog(settings.catalog_dir)
    candidate = Path(arguments.policy)
    load_rules(candidate, catalog)  # a candidate that does not load stops here, named
    until = _now(arguments.until)
    since = until - datetime.timedelta(days=arguments.days)
    every = await GrantStore(engine).listed(include_revoked=True)
    made: dict[tuple[int | None, ...], RuleSet] = {}

    def policy_at(moment: datetime.datetime) -> SharingPolicy:
        in_force = [grant for grant in every if grant.in_force_at(moment)]
        key = tuple(grant.id for grant in in_force)
        if key not in made:
            made[key] = load_rules(candidate, catalog, rules_of(in_force))
        return SharingPolicy(catalog, made[key])

    done = replay.replay(catalog, await records_between(engine, since, until), policy_at)
    print(replay.render(done, arguments.days))
    return 0


VERBS: dict[str, Verb] = {
    "grant": grant_verbs.grant,
    "grants": grant_verbs.grants,
    "revoke": grant_verbs.revoke,
    "check": _check,
    "explain": _explain,
    "diff": _diff,
    "replay": _replay,
}


if __name__ == "__main__":
    sys.exit(main())
