"""Manage grants in the platform store: `python -m policies grant | grants | revoke`.

Times without a zone are Asia/Shanghai; they are stored in UTC. A running server picks
up a new or revoked grant within `policy_refresh_seconds`. A grant's consumer must be
a department of the catalog or one holding an API key; a grant that would cover no
one yet (a system without a key, a scope attribute no key of the consumer carries) is
recorded only with --force.
"""

from __future__ import annotations

import argparse
import datetime
import sys
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from auth.lifecycle import listed as listed_keys
from catalog import Catalog, load_catalog
from grants import (
    Announcements,
    Grant,
    GrantRefused,
    GrantStore,
    KeyHolder,
    checked,
    consumer_problem,
    coverage_warnings,
)
from policies.caller import Purpose
from policies.decision import Action
from settings import Settings
from store.command_line import REFUSED, run_on_store

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _moment(text: str) -> datetime.datetime:
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            "expected an ISO 8601 time such as 2026-12-01T08:00 or 2026-12-01T08:00+08:00 "
            f"(Asia/Shanghai if no zone is given), not {text!r}"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m policies")
    commands = parser.add_subparsers(dest="command", required=True)
    grant = commands.add_parser("grant", help="record a provider's approval as a grant")
    grant.add_argument("--consumer", required=True, help="department code or '<code>/<system>'")
    grant.add_argument("--resource", required=True, help="resource id, e.g. person")
    grant.add_argument("--items", required=True, help="comma-separated item names, or '*'")
    grant.add_argument("--action", required=True, choices=[a.value for a in Action])
    grant.add_argument(
        "--purpose", required=True, action="append", choices=[p.value for p in Purpose]
    )
    grant.add_argument("--reference", required=True, help="the approval's document number")
    grant.add_argument("--scope", default="", help="rows covered: 'item=attribute[ & …]'")
    grant.add_argument("--valid-from", type=_moment, help="ISO time; Asia/Shanghai if no zone")
    grant.add_argument("--valid-until", type=_moment, help="ISO time, exclusive")
    grant.add_argument(
        "--force", action="store_true", help="record a grant that would cover no one yet"
    )
    listing = commands.add_parser("grants", help="list grants")
    listing.add_argument("--all", action="store_true", help="include revoked grants")
    revoke = commands.add_parser("revoke", help="revoke a grant by id")
    revoke.add_argument("id", type=int)
    return parser


async def _run(settings: Settings, engine: AsyncEngine, arguments: argparse.Namespace) -> int:
    store = GrantStore(engine, Announcements.from_settings(settings))
    if arguments.command == "grant":
        grant = Grant(
            consumer=arguments.consumer,
            resource_id=arguments.resource,
            items=tuple(item.strip() for item in arguments.items.split(",") if item.strip()),
            action=Action(arguments.action),
            purposes=tuple(Purpose(p) for p in arguments.purpose),
            reference=arguments.reference,
            scope=arguments.scope,
            valid_from=arguments.valid_from,
            valid_until=arguments.valid_until,
        )
        catalog = load_catalog(settings.catalog_dir)
        refused = await _refusal(engine, grant, catalog, force=arguments.force)
        if refused:
            print(f"grant refused: {refused}", file=sys.stderr)
            return REFUSED
        added = await store.add(grant, catalog)
        print(f"grant {added.id} recorded")
        return 0
    if arguments.command == "revoke":
        if await store.revoke(arguments.id):
            print(f"grant {arguments.id} revoked")
            return 0
        print(f"no grant {arguments.id} in force", file=sys.stderr)
        return 1
    for listed in await store.listed(include_revoked=arguments.all):
        print(_line(listed))
    return 0


async def _refusal(engine: AsyncEngine, grant: Grant, catalog: Catalog, *, force: bool) -> str:
    """Why the grant is not recorded ("" if it is); warnings go to stderr either way."""
    now = datetime.datetime.now(datetime.UTC)
    holders = [
        KeyHolder(
            key.system.department_code,
            key.system.system_id,
            frozenset(key.system.attributes),
            key.in_force(now),
        )
        for key in await listed_keys(engine)
    ]
    problems = [consumer_problem(grant.consumer, catalog, holders)]
    try:
        checked(grant, catalog)
    except GrantRefused as refused:
        problems.append(str(refused))
    found = "; ".join(problem for problem in problems if problem)
    if found:
        return found
    warnings = coverage_warnings(grant, holders)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return (
        "it would cover no one yet: give --force to record it anyway"
        if warnings and not force
        else ""
    )


def _line(grant: Grant) -> str:
    def local(moment: datetime.datetime | None) -> str:
        return moment.astimezone(SHANGHAI).isoformat(timespec="minutes") if moment else "-"

    state = f" revoked {local(grant.revoked_at)}" if grant.revoked_at else ""
    return (
        f"{grant.id}\t{grant.consumer}\t{grant.resource_id}.{{{','.join(grant.items)}}}\t"
        f"{grant.action.value}\t{','.join(p.value for p in grant.purposes)}\t"
        f"scope={grant.scope or '*'}\t{local(grant.valid_from)}..{local(grant.valid_until)}\t"
        f"{grant.reference}{state}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    return run_on_store(
        "python -m policies", lambda settings, engine: _run(settings, engine, arguments)
    )


if __name__ == "__main__":
    sys.exit(main())
