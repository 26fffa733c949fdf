"""An API key's life: issued, rotated, revoked, expired; and the list of keys.

Every change is one transaction with its audit record (`auth._audited`): a key is
never issued, rotated or revoked without the record saying who did it, to which key
of which system, and when; the record never holds key material. Its columns:

    outcome            key_registered | key_rotated | key_revoked
    operator           who made the change (`--operator`, default the OS user)
    caller_department  the department and system whose key changed
    caller_system
    operation_name     what was done, with the key ids: "auth revoke key 7"
    purpose_reference  the reason for a revocation, the old key's end for a rotation,
                       a new key's expiry
    http_status        0: not an HTTP request
    hash_key_id, catalog_version, policy_version: empty (no hashes, no decisions)
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from audit import AuditRecord
from auth._audited import audited
from auth.keys import hash_key, new_key, registration_problems
from store import api_keys

REASON_LENGTH = 200  # the store's revoked_reason and purpose_reference columns
OPERATOR_LENGTH = 100  # the audit record's operator column


class KeyChangeRefused(ValueError):
    """A key that cannot be issued, rotated or revoked as asked; nothing was changed."""

    def __init__(self, *reasons: str) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


class NoSuchKey(KeyChangeRefused):
    pass


@dataclass(frozen=True)
class System:
    """A department system as a key names it."""

    department_code: str
    department_name: str
    system_id: str
    system_name: str
    attributes: Mapping[str, str] = field(default_factory=dict)
    """What grant scopes compare rows with (township, industry): vouched for by the
    platform when the key is issued, never taken from a request."""


@dataclass(frozen=True)
class ApiKey:
    """A registered key as operators see it: never the key, never its hash."""

    id: int
    system: System
    demo: bool
    created_at: datetime.datetime
    expires_at: datetime.datetime | None
    revoked_at: datetime.datetime | None
    revoked_reason: str | None
    replaces: int | None

    def in_force(self, now: datetime.datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


@dataclass(frozen=True)
class Issued:
    key: str
    """Shown once, to be handed to the system; only its hash is stored."""
    api_key: ApiKey


async def listed(engine: AsyncEngine) -> list[ApiKey]:
    async with engine.connect() as connection:
        rows = (await connection.execute(sa.select(api_keys).order_by(api_keys.c.id))).all()
    return [_api_key(row._mapping) for row in rows]


async def issue(
    engine: AsyncEngine,
    system: System,
    *,
    operator: str | None,
    expires_at: datetime.datetime | None = None,
    catalog_names: Mapping[str, str] | None = None,
) -> Issued:
    """A new key for `system`. `catalog_names` (department code -> name) are the
    catalog's: a department it has must be named as it names it."""
    problems = registration_problems(
        system.department_code,
        system.department_name,
        system.system_id,
        system.system_name,
        catalog_names or {},
    ) + _operator_problems(operator)
    expires_at = utc(expires_at) if expires_at else None  # SQLite keeps no zone: store UTC
    now = _now()
    if expires_at is not None and expires_at <= now:
        problems.append(f"the expiry {_text(expires_at)} is not in the future")
    if problems:
        raise KeyChangeRefused(*problems)
    key = new_key()

    def change(connection: sa.Connection) -> tuple[Issued, AuditRecord]:
        issued = _insert(connection, key, system, now, expires_at, replaces=None)
        until = f"expires {_text(expires_at)}" if expires_at else None
        operation = f"auth register key {issued.api_key.id}"
        return issued, _record("key_registered", operation, system, operator, until)

    return await audited(engine, change)


async def revoke(engine: AsyncEngine, key_id: int, *, reason: str, operator: str | None) -> ApiKey:
    reason = reason.strip()
    problems = _operator_problems(operator)
    if not reason or len(reason) > REASON_LENGTH:
        problems.append(f"a revocation needs a reason of 1 to {REASON_LENGTH} characters")
    if problems:
        raise KeyChangeRefused(*problems)

    def change(connection: sa.Connection) -> tuple[ApiKey, AuditRecord]:
        old = _changeable(connection, key_id, "revoked")
        if old.revoked_at is not None:
            raise KeyChangeRefused(f"key {key_id} was revoked already, at {_text(old.revoked_at)}")
        now = _now()
        connection.execute(
            api_keys.update()
            .where(api_keys.c.id == key_id)
            .values(revoked_at=now, revoked_reason=reason)
        )
        revoked = ApiKey(**{**old.__dict__, "revoked_at": now, "revoked_reason": reason})
        operation = f"auth revoke key {key_id}"
        return revoked, _record("key_revoked", operation, old.system, operator, reason)

    return await audited(engine, change)


async def rotate(
    engine: AsyncEngine,
    key_id: int,
    *,
    overlap: datetime.timedelta,
    operator: str | None,
    expires_at: datetime.datetime | None = None,
) -> tuple[Issued, ApiKey]:
    """A new key for the system of key `key_id`, which keeps working for `overlap` (or
    until its own expiry, if sooner) so the system can switch without a gap."""
    problems = _operator_problems(operator)
    expires_at = utc(expires_at) if expires_at else None  # SQLite keeps no zone: store UTC
    if overlap < datetime.timedelta(0):
        problems.append("the overlap cannot be negative")
    if expires_at is not None and expires_at <= _now() + overlap:
        problems.append(f"the new key's expiry {_text(expires_at)} is not after the overlap")
    if problems:
        raise KeyChangeRefused(*problems)
    key = new_key()

    def change(connection: sa.Connection) -> tuple[tuple[Issued, ApiKey], AuditRecord]:
        old = _changeable(connection, key_id, "rotated")
        now = _now()
        if not old.in_force(now):
            state = "revoked" if old.revoked_at else f"expired at {_text(old.expires_at)}"
            raise KeyChangeRefused(f"key {key_id} is {state}: register a new key instead")
        successor = connection.execute(
            sa.select(api_keys.c.id).where(
                api_keys.c.replaces == key_id, api_keys.c.revoked_at.is_(None)
            )
        ).scalar()
        if successor is not None:
            raise KeyChangeRefused(f"key {key_id} was rotated already: key {successor} replaces it")
        ends = min(now + overlap, old.expires_at or now + overlap)
        issued = _insert(connection, key, old.system, now, expires_at, replaces=key_id)
        connection.execute(api_keys.update().where(api_keys.c.id == key_id).values(expires_at=ends))
        ended = ApiKey(**{**old.__dict__, "expires_at": ends})
        operation = f"auth rotate key {key_id} to key {issued.api_key.id}"
        ending = f"key {key_id} expires {_text(ends)}"
        return (issued, ended), _record("key_rotated", operation, old.system, operator, ending)

    return await audited(engine, change)


def _operator_problems(operator: str | None) -> list[str]:
    if operator is not None and not 0 < len(operator.strip()) <= OPERATOR_LENGTH:
        return [f"the operator is named in 1 to {OPERATOR_LENGTH} characters"]
    return []


def _changeable(connection: sa.Connection, key_id: int, done: str) -> ApiKey:
    row = connection.execute(sa.select(api_keys).where(api_keys.c.id == key_id)).first()
    if row is None:
        raise NoSuchKey(f"there is no key {key_id} (`python -m auth keys` lists them)")
    key = _api_key(row._mapping)
    if key.demo:
        raise KeyChangeRefused(
            f"key {key_id} is a demo key: derived from the seed and made again at every demo "
            f"start, it cannot be {done}; register a key to try this with"
        )
    return key


def _insert(
    connection: sa.Connection,
    key: str,
    system: System,
    now: datetime.datetime,
    expires_at: datetime.datetime | None,
    *,
    replaces: int | None,
) -> Issued:
    result = connection.execute(
        api_keys.insert().values(
            key_hash=hash_key(key),
            department_code=system.department_code,
            department_name=system.department_name,
            system_id=system.system_id,
            system_name=system.system_name,
            attributes=dict(system.attributes),
            demo=False,
            created_at=now,
            expires_at=expires_at,
            replaces=replaces,
        )
    )
    assert result.inserted_primary_key is not None
    key_id = int(result.inserted_primary_key[0])
    return Issued(key, ApiKey(key_id, system, False, now, expires_at, None, None, replaces))


def _record(
    outcome: str, operation: str, system: System, operator: str | None, reference: str | None
) -> AuditRecord:
    return AuditRecord(
        request_id=str(uuid.uuid4()),
        occurred_at=datetime.datetime.now(datetime.UTC),
        outcome=outcome,
        http_status=0,
        hash_key_id="",
        catalog_version="",
        policy_version="",
        duration_ms=0.0,
        caller_department=system.department_code,
        caller_system=system.system_id,
        operator=operator,
        operation_name=operation,
        purpose_reference=reference,
    )


def _api_key(row: Any) -> ApiKey:
    system = System(
        row["department_code"],
        row["department_name"],
        row["system_id"],
        row["system_name"],
        {str(name): str(value) for name, value in (row["attributes"] or {}).items()},
    )
    return ApiKey(
        id=row["id"],
        system=system,
        demo=bool(row["demo"]),
        created_at=utc(row["created_at"]),
        expires_at=utc(row["expires_at"]) if row["expires_at"] else None,
        revoked_at=utc(row["revoked_at"]) if row["revoked_at"] else None,
        revoked_reason=row["revoked_reason"],
        replaces=row["replaces"],
    )


def utc(moment: datetime.datetime) -> datetime.datetime:
    """Stored in UTC; SQLite keeps no zone, so a naive time read back is UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=datetime.UTC)
    return moment.astimezone(datetime.UTC)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _text(moment: datetime.datetime | None) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else "-"
