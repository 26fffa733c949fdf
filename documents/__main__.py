"""The trusted documents' command line: `python -m documents <verb>`.

    register --system D/S --manifest FILE   register a system's manifest (Apollo's or
             [--purpose P]… [--share D/S]…  Relay's), bound to purposes, shared with
             --operator --reason              other systems; prints the policy report
    list     --system D/S                   the system's documents and its mode
    mode     --system D/S --mode M          set open, log-unknown or persisted-only
             --operator --reason
    unknown  --system D/S                   free text the system sent in log-unknown
                                            mode that matches no document

A registration or mode change names its operator and reason, as a grant does, and is
announced to the running servers over Redis when `GOV_SHARE_REDIS_URL` is set (else
they follow it within `policy_refresh_seconds`). Exit status 2: a refused change or a
bad argument, said on stderr; nothing of a refused manifest is registered.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from catalog import load_catalog
from documents.modes import Mode, Modes, set_mode, unknown_of
from documents.registration import owner_named, registering_system
from documents.room import announcements_of
from documents.store import DocumentStore, Owner, RegistrationRefused
from grants import GrantStore, policy_in_force
from grants.model import accountability_problems
from platform_setup import limits_of
from policies.caller import Purpose
from policies.outcomes import local
from policies.table import aligned
from schema.build import build_schema
from schema.document_review import Reviewed, register_manifest
from settings import Settings
from store.command_line import REFUSED, run_on_store

PROG = "python -m documents"
Verb = Callable[[Settings, AsyncEngine, argparse.Namespace], Awaitable[int]]


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    verb = VERBS[arguments.command]
    return run_on_store(PROG, lambda settings, engine: verb(settings, engine, arguments))


def parser() -> argparse.ArgumentParser:
    made = argparse.ArgumentParser(prog=PROG, description="Trusted documents per system.")
    verbs = made.add_subparsers(dest="command", required=True)
    register = verbs.add_parser("register", help="register a system's manifest")
    _system(register)
    register.add_argument("--manifest", type=Path, required=True, help="the manifest's JSON file")
    register.add_argument(
        "--purpose",
        action="append",
        default=[],
        choices=[p.value for p in Purpose],
        help="a purpose the documents may be called for (repeat; default any)",
    )
    register.add_argument(
        "--share", action="append", default=[], help="another system that may call them, D/S"
    )
    _accountable(register)
    _system(verbs.add_parser("list", help="a system's documents and mode"))
    mode = verbs.add_parser("mode", help="set a system's mode")
    _system(mode)
    mode.add_argument("--mode", required=True, choices=[m.value for m in Mode])
    _accountable(mode)
    _system(verbs.add_parser("unknown", help="free text a system still sends"))
    return made


def _system(verb: argparse.ArgumentParser) -> None:
    verb.add_argument("--system", required=True, help="'<department code>/<system id>'")


def _accountable(change: argparse.ArgumentParser) -> None:
    change.add_argument("--operator", required=True, help="who makes the change (a staff id)")
    change.add_argument("--reason", required=True, help="why, in a sentence")


async def _register(settings: Settings, engine: AsyncEngine, arguments: argparse.Namespace) -> int:
    try:
        owner = owner_named(arguments.system)
        shares = [owner_named(shared) for shared in arguments.share]
        manifest = _read(arguments.manifest)
        system = await registering_system(engine, settings, owner)
        catalog = load_catalog(settings.catalog_dir)
        policy, _ = await policy_in_force(catalog, settings.policy_dir, GrantStore(engine))
        schema, meanings = build_schema(catalog, default_first=settings.default_first())
        reviewed = await register_manifest(
            DocumentStore(engine),
            system,
            manifest,
            purposes=[Purpose(p) for p in arguments.purpose],
            shared_with=shares,
            operator=arguments.operator,
            reason=arguments.reason,
            schema=schema._schema,
            meanings=meanings,
            policy=policy,
            limits=limits_of(settings),
        )
    except RegistrationRefused as refused:
        print(f"registration refused: {refused}", file=sys.stderr)
        return REFUSED
    await _announce(settings)
    count = len(reviewed)
    print(f"{count} document{'' if count == 1 else 's'} registered for {owner}")
    print(policy_report(reviewed))
    return 0


def policy_report(reviewed: Sequence[Reviewed]) -> str:
    """What the policy in force withholds, per operation and purpose."""
    rows = [
        [
            r.name or "-",
            report.purpose.value,
            f"{item.resource}.{item.item}",
            item.access.value,
            item.code or "-",
        ]
        for r in reviewed
        for report in r.report
        for item in report.withheld
    ]
    if not rows:
        return "the policy in force serves every item of every operation in clear"
    return aligned(["operation", "purpose", "item", "access", "code"], rows)


async def _list(settings: Settings, engine: AsyncEngine, arguments: argparse.Namespace) -> int:
    owner = _owner(arguments)
    if owner is None:
        return REFUSED
    mode = await Modes(engine, refresh_seconds=0).mode_of(owner)
    print(f"{owner}: mode {mode.value}")
    rows = [
        [
            document.document_id,
            document.name or "-",
            document.operation_type or "-",
            ",".join(sorted(document.purposes)) if document.purposes else "any",
            ",".join(str(s) for s in shares) or "-",
        ]
        for document, shares in await DocumentStore(engine).listed(owner)
    ]
    print(
        aligned(["id", "name", "type", "purposes", "shared with"], rows) if rows else "no document"
    )
    return 0


async def _mode(settings: Settings, engine: AsyncEngine, arguments: argparse.Namespace) -> int:
    owner = _owner(arguments)
    problems = accountability_problems(arguments.operator, arguments.reason)
    if owner is None or problems:
        for problem in problems:
            print(f"mode refused: {problem}", file=sys.stderr)
        return REFUSED
    mode = Mode(arguments.mode)
    await set_mode(
        engine, owner, mode, operator=arguments.operator.strip(), reason=arguments.reason.strip()
    )
    await _announce(settings)
    print(f"{owner}: mode {mode.value}")
    return 0


async def _unknown(settings: Settings, engine: AsyncEngine, arguments: argparse.Namespace) -> int:
    owner = _owner(arguments)
    if owner is None:
        return REFUSED
    rows = [
        [
            operation.name or "(anonymous)",
            operation.normalised_sha256,
            str(operation.count),
            local(operation.first_seen),
            local(operation.last_seen),
        ]
        for operation in await unknown_of(engine, owner)
    ]
    headers = ["operation", "normalised sha256", "count", "first seen", "last seen"]
    print(aligned(headers, rows) if rows else f"{owner} has sent no unknown operation")
    return 0


def _owner(arguments: argparse.Namespace) -> Owner | None:
    try:
        return owner_named(arguments.system)
    except RegistrationRefused as refused:
        print(f"{PROG}: {refused}", file=sys.stderr)
        return None


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RegistrationRefused(
            f"{path}: cannot be read as UTF-8 ({type(error).__name__})"
        ) from None


async def _announce(settings: Settings) -> None:
    announcements = announcements_of(settings)
    if announcements is not None:
        await announcements.announce(0)


VERBS: dict[str, Verb] = {
    "register": _register,
    "list": _list,
    "mode": _mode,
    "unknown": _unknown,
}

if __name__ == "__main__":
    sys.exit(main())
