"""The grant verbs of `python -m policies`: grant, grants (--all, --history) and revoke.

A grant's consumer must be a department of the catalog or one holding an API key; a
grant that would cover no one yet (a system without a key, a scope attribute no key of
the consumer carries) is recorded only with --force. Every change names its operator
and reason, kept with the grant's history. A running server picks up a new or revoked
grant within `policy_refresh_seconds`.
"""

from __future__ import annotations

import argparse
import datetime
import sys
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncEngine

from auth import DEMO_SYSTEMS
from auth.lifecycle import listed as listed_keys
from catalog import Catalog, load_catalog
from grants.announcements import Announcements
from grants.model import (
    Grant,
    GrantChange,
    GrantRefused,
    KeyHolder,
    accountability_problems,
    checked,
    consumer_problem,
    coverage_warnings,
)
from grants.store import GrantStore
from policies.caller import Purpose
from policies.decision import Action
from policies.outcomes import local
from policies.table import aligned
from settings import Settings
from store.command_line import REFUSED


async def grant(settings: Settings, engine: AsyncEngine, arguments: argparse.Namespace) -> int:
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
    refused = "; ".join(accountability_problems(arguments.operator, arguments.reason)) or (
        await _refusal(engine, settings, grant, catalog, force=arguments.force)
    )
    try:
        if refused:
            raise GrantRefused(refused)
        store = GrantStore(engine, Announcements.from_settings(settings))
        added = await store.add(
            grant, catalog, operator=arguments.operator, reason=arguments.reason
        )
    except GrantRefused as refusal:
        print(f"grant refused: {refusal}", file=sys.stderr)
        return REFUSED
    print(f"grant {added.id} recorded")
    return 0


async def revoke(settings: Settings, engine: AsyncEngine, arguments: argparse.Namespace) -> int:
    try:
        store = GrantStore(engine, Announcements.from_settings(settings))
        revoked = await store.revoke(
            arguments.id, operator=arguments.operator, reason=arguments.reason
        )
    except GrantRefused as refusal:
        print(f"revoke refused: {refusal}", file=sys.stderr)
        return REFUSED
    if revoked:
        print(f"grant {arguments.id} revoked")
        return 0
    print(f"no grant {arguments.id} in force", file=sys.stderr)
    return 1


async def grants(settings: Settings, engine: AsyncEngine, arguments: argparse.Namespace) -> int:
    store = GrantStore(engine)
    if arguments.history:
        print(_history(await store.history()))
        return 0
    for listed in await store.listed(include_revoked=arguments.all):
        print(_line(listed))
    return 0


async def holders(engine: AsyncEngine, settings: Settings) -> list[KeyHolder]:
    """The systems holding a key; a demo key counts only in demo mode, where it works."""
    now = datetime.datetime.now(datetime.UTC)
    holders = [
        KeyHolder(
            key.system.department_code,
            key.system.system_id,
            frozenset(key.system.attributes),
            key.in_force(now),
        )
        for key in await listed_keys(engine)
        if settings.demo or not key.demo
    ]
    if settings.demo:  # every demo start registers these
        holders += [
            KeyHolder(s.department_code, s.system_id, frozenset(dict(s.attributes)), True)
            for s in DEMO_SYSTEMS
        ]
    return holders


async def _refusal(
    engine: AsyncEngine, settings: Settings, grant: Grant, catalog: Catalog, *, force: bool
) -> str:
    """Why the grant is not recorded ("" if it is); warnings go to stderr either way."""
    known = await holders(engine, settings)
    problems = [consumer_problem(grant.consumer, catalog, known)]
    try:
        checked(grant, catalog)
    except GrantRefused as refused:
        problems.append(str(refused))
    found = "; ".join(problem for problem in problems if problem)
    if found:
        return found
    warnings = coverage_warnings(grant, known)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return (
        "it would cover no one yet: give --force to record it anyway"
        if warnings and not force
        else ""
    )


def _terms(grant: Grant) -> str:
    items = ",".join(grant.items)
    purposes = ",".join(purpose.value for purpose in grant.purposes)
    return f"{grant.consumer} {grant.resource_id}.{{{items}}} {grant.action.value} {purposes}"


def _line(grant: Grant) -> str:
    def shown(moment: datetime.datetime | None) -> str:
        return local(moment) if moment else "-"

    state = f" revoked {shown(grant.revoked_at)}" if grant.revoked_at else ""
    return (
        f"{grant.id}\t{grant.consumer}\t{grant.resource_id}.{{{','.join(grant.items)}}}\t"
        f"{grant.action.value}\t{','.join(p.value for p in grant.purposes)}\t"
        f"scope={grant.scope or '*'}\t{shown(grant.valid_from)}..{shown(grant.valid_until)}\t"
        f"{grant.reference}{state}"
    )


def _history(changes: Sequence[GrantChange]) -> str:
    if not changes:
        return "no grant has been made yet"
    rows = [
        [
            change.changed_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            local(change.changed_at),
            str(change.grant.id),
            change.change.value,
            change.operator or "(not recorded)",
            change.reason or "(not recorded)",
            _terms(change.grant),
        ]
        for change in changes
    ]
    headers = ["changed (UTC)", "Asia/Shanghai", "grant", "change", "operator", "reason", "what"]
    return aligned(headers, rows)
