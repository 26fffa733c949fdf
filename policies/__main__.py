"""Manage grants in the platform store: `python -m policies grant | grants | revoke`.

Times without a zone are Asia/Shanghai; they are stored in UTC. A running server picks
up a new or revoked grant within `policy_refresh_seconds`.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import sys
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from policies.caller import Purpose
from policies.decision import Action
from policies.grants import Grant, GrantRefused, GrantStore
from schema.loader import load_catalog
from settings import Settings
from store import store_engine, upgrade

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _moment(text: str) -> datetime.datetime:
    moment = datetime.datetime.fromisoformat(text)
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
    listing = commands.add_parser("grants", help="list grants")
    listing.add_argument("--all", action="store_true", help="include revoked grants")
    revoke = commands.add_parser("revoke", help="revoke a grant by id")
    revoke.add_argument("id", type=int)
    return parser


async def _run(settings: Settings, engine: AsyncEngine, arguments: argparse.Namespace) -> int:
    store = GrantStore(engine)
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
        try:
            added = await store.add(grant, load_catalog(settings.catalog_dir))
        except GrantRefused as exc:
            print(f"grant refused: {exc}", file=sys.stderr)
            return 2
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


async def _main(arguments: argparse.Namespace) -> int:
    settings = Settings()
    if settings.platform_store_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    await asyncio.to_thread(upgrade, settings.store_url())
    engine = store_engine(settings.store_url())
    try:
        return await _run(settings, engine, arguments)
    finally:
        await engine.dispose()


def main() -> None:
    sys.exit(asyncio.run(_main(_parser().parse_args())))


if __name__ == "__main__":
    main()
