"""Grants in the platform store: a provider's conditional approval, as data.

A grant names a consumer (a department or one of its systems), items of one resource,
what it permits (read_clear, read_masked or verify), the purposes, a row scope and a
validity window. It is checked against the catalog when it is made, then enters the
sharing model as ordinary rules (`Grant.rules`), so the server and the tests' oracle
read it the same way. Grants are never deleted: revoking one stamps `revoked_at`.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from catalog import Catalog
from policies.caller import Purpose
from policies.decision import Action
from policies.rules import Rule, instant, rule_problem, subject_problem
from policies.scope import Scope
from store.tables import grants as grants_table


class GrantRefused(ValueError):
    """A grant that names something the catalog does not have, or cannot permit."""


@dataclass(frozen=True)
class Grant:
    consumer: str
    resource_id: str
    items: tuple[str, ...]
    """Item names, or ("*",) for every conditional item of the resource."""
    action: Action
    purposes: tuple[Purpose, ...]
    reference: str
    """The approval it rests on (an application or document number), for auditors."""
    scope: str = ""
    valid_from: datetime.datetime | None = None
    valid_until: datetime.datetime | None = None
    id: int | None = None
    revoked_at: datetime.datetime | None = None

    def rules(self) -> list[Rule]:
        """One model rule per (item, purpose); the basis names the grant."""
        return [
            Rule(
                self.consumer,
                f"{self.resource_id}.{item}",
                self.action.value,
                purpose.value,
                self.scope,
                instant(self.valid_from) if self.valid_from else "",
                instant(self.valid_until) if self.valid_until else "",
                f"grant:{self.id}",
            )
            for item in self.items
            for purpose in self.purposes
        ]


def checked(grant: Grant, catalog: Catalog) -> Grant:
    """The grant with its scope in canonical form and times in UTC; raises GrantRefused
    naming every problem found."""
    problems = [subject_problem(grant.consumer, None)]
    scope = ""
    if grant.scope:
        try:
            scope = Scope.parse(grant.scope).text
        except ValueError as exc:
            problems.append(str(exc))
    if not grant.items or not grant.purposes:
        problems.append("a grant names at least one item and one purpose")
    moments = [moment for moment in (grant.valid_from, grant.valid_until) if moment is not None]
    if any(moment.tzinfo is None for moment in moments):
        problems.append("validity times need a time zone (e.g. +08:00)")
    elif grant.valid_from and grant.valid_until and grant.valid_until <= grant.valid_from:
        problems.append("valid_until must be after valid_from")
    problems += [
        rule_problem(
            catalog,
            grant.consumer,
            f"{grant.resource_id}.{item}",
            grant.action,
            purpose,
            scope or grant.scope,
        )
        for item in grant.items
        for purpose in grant.purposes
    ]
    found = [problem for problem in problems if problem]
    if found:
        raise GrantRefused("; ".join(dict.fromkeys(found)))
    return Grant(
        **{
            **grant.__dict__,
            "scope": scope,
            "valid_from": _utc(grant.valid_from),
            "valid_until": _utc(grant.valid_until),
        }
    )


@dataclass(frozen=True)
class KeyHolder:
    """A system holding a registered API key, as far as a grant needs to know it."""

    department: str
    system: str
    attributes: frozenset[str]
    """The names of the attributes its key carries (township, industry)."""
    in_force: bool


def consumer_problem(consumer: str, catalog: Catalog, holders: Sequence[KeyHolder]) -> str | None:
    """A grant to a department nobody knows is a typo waiting to be trusted: a consumer
    department is one of the catalog's, or one that holds an API key."""
    department = consumer.partition("/")[0]
    if department in {entry.department.code for entry in catalog.departments}:
        return None
    if any(holder.department == department for holder in holders):
        return None
    return (
        f"consumer department {department} is unknown: the catalog does not have it and no "
        "API key was registered for it (`python -m auth register` first)"
    )


def coverage_warnings(grant: Grant, holders: Sequence[KeyHolder]) -> list[str]:
    """Why a grant would cover nobody today: no key in force for the system it names,
    or a scope attribute no key of its consumer carries (a scope compares rows with
    the caller's attributes, so such a grant matches no row)."""
    department, _, system = grant.consumer.partition("/")
    consumers = [
        holder
        for holder in holders
        if holder.in_force and holder.department == department and system in ("", holder.system)
    ]
    if system and not consumers:
        return [f"no API key in force is registered for the system {grant.consumer}"]
    try:
        terms = Scope.parse(grant.scope).terms if grant.scope else ()
    except ValueError:
        return []  # refused as malformed anyway
    return [
        f"no API key in force of {grant.consumer} carries the attribute {term.attribute!r} "
        f"that the scope compares {term.item} with, so the grant would cover no rows "
        f"(`python -m auth register … --attribute {term.attribute}=…`)"
        for term in terms
        if not any(term.attribute in holder.attributes for holder in consumers)
    ]


class GrantStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def add(self, grant: Grant, catalog: Catalog) -> Grant:
        grant = checked(grant, catalog)
        now = datetime.datetime.now(datetime.UTC)
        async with self.engine.begin() as connection:
            result = await connection.execute(
                grants_table.insert().values(
                    consumer=grant.consumer,
                    resource_id=grant.resource_id,
                    items=list(grant.items),
                    action=grant.action.value,
                    purposes=[purpose.value for purpose in grant.purposes],
                    scope=grant.scope,
                    valid_from=grant.valid_from,
                    valid_until=grant.valid_until,
                    reference=grant.reference,
                    created_at=now,
                    changed_at=now,
                )
            )
        assert result.inserted_primary_key is not None
        return Grant(**{**grant.__dict__, "id": result.inserted_primary_key[0]})

    async def revoke(self, grant_id: int) -> bool:
        """True if a grant in force was revoked; revoking twice changes nothing."""
        now = datetime.datetime.now(datetime.UTC)
        async with self.engine.begin() as connection:
            result = await connection.execute(
                grants_table.update()
                .where(grants_table.c.id == grant_id, grants_table.c.revoked_at.is_(None))
                .values(revoked_at=now, changed_at=now)
            )
        return bool(result.rowcount)

    async def listed(self, *, include_revoked: bool = False) -> list[Grant]:
        statement = sa.select(grants_table).order_by(grants_table.c.id)
        if not include_revoked:
            statement = statement.where(grants_table.c.revoked_at.is_(None))
        async with self.engine.connect() as connection:
            rows = (await connection.execute(statement)).all()
        return [_grant(row._mapping) for row in rows]

    async def version(self) -> tuple[int, datetime.datetime | None]:
        """Changes when any grant is added or revoked: what a server polls."""
        statement = sa.select(sa.func.count(), sa.func.max(grants_table.c.changed_at))
        async with self.engine.connect() as connection:
            count, latest = (await connection.execute(statement)).one()
        return int(count), latest


def rules_of(grants: Sequence[Grant]) -> list[Rule]:
    return [rule for grant in grants if grant.revoked_at is None for rule in grant.rules()]


def _grant(row: Any) -> Grant:
    return Grant(
        consumer=row["consumer"],
        resource_id=row["resource_id"],
        items=tuple(row["items"]),
        action=Action(row["action"]),
        purposes=tuple(Purpose(p) for p in row["purposes"]),
        reference=row["reference"],
        scope=row["scope"],
        valid_from=_utc(row["valid_from"]),
        valid_until=_utc(row["valid_until"]),
        id=row["id"],
        revoked_at=_utc(row["revoked_at"]),
    )


def _utc(moment: datetime.datetime | None) -> datetime.datetime | None:
    """Stored in UTC; SQLite keeps no zone, so a naive time read back is UTC."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=datetime.UTC)
    return moment.astimezone(datetime.UTC)
