"""The persisted documents of the platform store, per owner system, behind a cache in
the process and, with Redis, one shared by every instance (`documents.cache`).

A document is found by the system that registered it, and by the systems it is shared
with: the reader is the authenticated caller's department and system, never anything
the request says. Its id is the SHA-256 of its exact text (what Apollo's automatic
persisted queries and the GraphQL-over-HTTP appendix's `sha256:` ids name), or a
manifest's own id; free text is matched by the SHA-256 of its text with ignored tokens
stripped (`normalised`).

A stored document never changes, so a hit can be remembered for good (least recently
used forgotten first). A miss by id is never remembered, as another instance may
register the document a moment later; a miss of free text is remembered for at most
`miss_seconds` (or until `forget_misses`, when an instance announces a registration),
since a system sends the same unregistered text again and again.
"""

from __future__ import annotations

import datetime
import hashlib
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from graphql import GraphQLError, OperationDefinitionNode, parse
from graphql.utilities import strip_ignored_characters
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from documents.cache import SharedCache
from policies import Purpose
from store import StoreUnavailable
from store.tables import persisted_document_shares, persisted_documents

CACHED_DOCUMENTS = 1024
"""Document texts remembered at most, across all systems."""
CUSTOM_ID_LIMIT = 200
"""The store's `custom_id` column."""
NAME_LIMIT = 200
"""The store's columns of operation names: longer names are refused in a manifest and
cut when an unknown operation is counted."""


class RegistrationRefused(Exception):
    """A registration that cannot be made, said so it names the operation and the
    problem: nothing of it is registered."""


@dataclass(frozen=True)
class Owner:
    """The system a document belongs to, or a reader: the authenticated caller's."""

    department: str
    system: str

    def __str__(self) -> str:
        return f"{self.department}/{self.system}"


@dataclass(frozen=True)
class Registered:
    """A document as registered: its text, and what its registration bound it to."""

    owner: Owner
    sha256: str
    text: str
    custom_id: str | None = None
    name: str | None = None
    operation_type: str | None = None
    purposes: frozenset[Purpose] | None = None
    """The purposes it may be called for; None: any."""

    @property
    def document_id(self) -> str:
        """What the audit record names it by: the manifest's own id, or `sha256:<hex>`."""
        return self.custom_id or f"sha256:{self.sha256}"


@dataclass(frozen=True)
class Terms:
    """What a registration from a manifest says beside the texts."""

    purposes: frozenset[Purpose] | None
    shared_with: frozenset[Owner]
    operator: str
    reason: str


def sha256_of(text: str) -> str:
    """The document's id: lowercase hex SHA-256 of its exact UTF-8 text, as clients hash it."""
    return hashlib.sha256(text.encode()).hexdigest()


def normalised(text: str) -> str:
    """The SHA-256 of the text with GraphQL's ignored tokens (whitespace, commas,
    comments) stripped: two texts that differ only in these match. Raises GraphQLError
    for text that does not lex."""
    return sha256_of(strip_ignored_characters(text))


class DocumentStore:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        cache_size: int = CACHED_DOCUMENTS,
        shared: SharedCache | None = None,
        miss_seconds: float = 5.0,
    ) -> None:
        self.engine = engine
        self.cache_size = cache_size
        self.shared = shared
        self.miss_seconds = miss_seconds
        self._known: OrderedDict[tuple[Owner, str, str], Registered] = OrderedDict()
        """(reader, "sha256", "custom" or "normalised", id) -> document."""
        self._misses: dict[tuple[Owner, str], float] = {}
        """(reader, normalised hash) -> until when (monotonic) free text is known unmatched."""

    async def by_hash(self, reader: Owner, sha256: str) -> Registered | None:
        return await self._find(reader, "sha256", sha256)

    async def by_custom_id(self, reader: Owner, custom_id: str) -> Registered | None:
        return await self._find(reader, "custom", custom_id)

    async def matching(self, reader: Owner, normalised_sha256: str) -> Registered | None:
        """The registered document free text matches, by its normalised hash."""
        missed = self._misses.get((reader, normalised_sha256))
        if missed is not None and missed > time.monotonic():
            return None
        found = await self._find(reader, "normalised", normalised_sha256)
        if found is None:
            if len(self._misses) >= self.cache_size:
                self._misses.clear()
            self._misses[(reader, normalised_sha256)] = time.monotonic() + self.miss_seconds
        return found

    def forget_misses(self) -> None:
        """Another instance registered documents: free text may match them now."""
        self._misses.clear()

    async def register(self, owner: Owner, text: str, custom_id: str | None = None) -> str:
        """Store `text` for `owner` under its SHA-256 (returned), bound to nothing
        (Apollo's automatic registration); registering it again, or two instances
        registering it at once, leaves the one row."""
        row = _row(owner, text, custom_id, None, None, None)
        try:
            async with self.engine.begin() as connection:
                await connection.execute(persisted_documents.insert(), row)
        except IntegrityError:
            pass  # already there: the same hash is the same text
        except SQLAlchemyError:
            raise StoreUnavailable from None
        self._misses.clear()
        return str(row["sha256"])

    async def register_all(
        self,
        owner: Owner,
        documents: Sequence[tuple[str, str | None, str | None]],
        terms: Terms,
    ) -> None:
        """Register (text, custom id, name) each for `owner` under `terms`, all or none.

        A document the owner registered already is left as it is when the terms agree;
        when they do not, the whole registration is refused (a document never changes:
        one bound to other purposes or shared otherwise is another registration's)."""
        try:
            async with self.engine.begin() as connection:
                for text, custom_id, name in documents:
                    await self._register_one(connection, owner, text, custom_id, name, terms)
        except IntegrityError:
            raise RegistrationRefused(
                "an id of the manifest is registered for this system with another text"
            ) from None
        except SQLAlchemyError:
            raise StoreUnavailable from None
        self._misses.clear()

    async def _register_one(
        self,
        connection: AsyncConnection,
        owner: Owner,
        text: str,
        custom_id: str | None,
        name: str | None,
        terms: Terms,
    ) -> None:
        table = persisted_documents
        existing = (
            await connection.execute(
                sa.select(table.c.id, table.c.custom_id, table.c.purposes).where(
                    *_owned_by(owner), table.c.sha256 == sha256_of(text)
                )
            )
        ).one_or_none()
        purposes = sorted(p.value for p in terms.purposes) if terms.purposes else None
        if existing is not None:
            shares = await _shares(connection, existing.id)
            same = (
                existing.custom_id == custom_id
                and (sorted(existing.purposes) if existing.purposes else None) == purposes
                and shares == terms.shared_with
            )
            if not same:
                raise RegistrationRefused(
                    f"{name or sha256_of(text)} is registered for {owner} already, with "
                    "another id, purposes or sharing: a registered document is never changed"
                )
            return
        row = _row(owner, text, custom_id, name, purposes, terms)
        inserted = await connection.execute(table.insert().returning(table.c.id), row)
        document_id = inserted.scalar_one()
        for reader in sorted(terms.shared_with, key=str):
            await connection.execute(
                persisted_document_shares.insert(),
                {
                    "document_id": document_id,
                    "department": reader.department,
                    "system": reader.system,
                },
            )

    async def listed(self, owner: Owner) -> list[tuple[Registered, list[Owner]]]:
        """The owner's documents, each with the systems it is shared with."""
        table = persisted_documents
        try:
            async with self.engine.connect() as connection:
                rows = (
                    await connection.execute(
                        sa.select(table).where(*_owned_by(owner)).order_by(table.c.id)
                    )
                ).all()
                return [
                    (_registered(row._mapping), sorted(await _shares(connection, row.id), key=str))
                    for row in rows
                ]
        except SQLAlchemyError:
            raise StoreUnavailable from None

    async def _find(self, reader: Owner, kind: str, identifier: str) -> Registered | None:
        key = (reader, kind, identifier)
        found = self._known.get(key)
        if found is not None:
            self._known.move_to_end(key)
            return found
        shared_key = f"{reader}:{kind}:{identifier}"
        if self.shared is not None:
            cached = await self.shared.get(shared_key)
            if cached is not None:
                found = _registered(cached)
                self._remember(key, found)
                return found
        found = await self._from_store(reader, kind, identifier)
        if found is not None:
            self._remember(key, found)
            if self.shared is not None:
                await self.shared.put(shared_key, _as_json(found))
        return found

    async def _from_store(self, reader: Owner, kind: str, identifier: str) -> Registered | None:
        table, shares = persisted_documents, persisted_document_shares
        column = {
            "sha256": table.c.sha256,
            "custom": table.c.custom_id,
            "normalised": table.c.normalised_sha256,
        }[kind]
        shared_with_reader = sa.select(shares.c.document_id).where(
            shares.c.department == reader.department, shares.c.system == reader.system
        )
        own = sa.and_(*_owned_by(reader))
        query = (
            sa.select(table)
            .where(column == identifier, sa.or_(own, table.c.id.in_(shared_with_reader)))
            .order_by(sa.case((own, 0), else_=1), table.c.id)
            .limit(1)
        )
        try:
            async with self.engine.connect() as connection:
                row = (await connection.execute(query)).one_or_none()
        except SQLAlchemyError:
            raise StoreUnavailable from None
        return _registered(row._mapping) if row is not None else None

    def _remember(self, key: tuple[Owner, str, str], document: Registered) -> None:
        self._known[key] = document
        self._known.move_to_end(key)
        if len(self._known) > self.cache_size:
            self._known.popitem(last=False)


def _owned_by(owner: Owner) -> tuple[sa.ColumnElement[bool], ...]:
    table = persisted_documents
    return (table.c.owner_department == owner.department, table.c.owner_system == owner.system)


async def _shares(connection: AsyncConnection, document_id: int) -> frozenset[Owner]:
    shares = persisted_document_shares
    rows = await connection.execute(
        sa.select(shares.c.department, shares.c.system).where(shares.c.document_id == document_id)
    )
    return frozenset(Owner(department, system) for department, system in rows)


def _row(
    owner: Owner,
    text: str,
    custom_id: str | None,
    name: str | None,
    purposes: list[str] | None,
    terms: Terms | None,
) -> dict[str, Any]:
    """A parsed and validated text: its normalised hash and operation are known."""
    try:
        document = parse(text, no_location=True)
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        kind = operations[0].operation.value if len(operations) == 1 else None
        given = operations[0].name if len(operations) == 1 else None
        normalised_sha256: str | None = normalised(text)
    except GraphQLError:
        kind, given, normalised_sha256 = None, None, None
    return {
        "owner_department": owner.department,
        "owner_system": owner.system,
        "sha256": sha256_of(text),
        "custom_id": custom_id,
        "text": text,
        "created_at": datetime.datetime.now(datetime.UTC),
        "name": name or (given.value if given else None),
        "operation_type": kind,
        "normalised_sha256": normalised_sha256,
        "purposes": purposes,
        "operator": terms.operator if terms else None,
        "reason": terms.reason if terms else None,
    }


def _registered(row: Any) -> Registered:
    purposes = row["purposes"]
    return Registered(
        Owner(row["owner_department"], row["owner_system"]),
        row["sha256"],
        row["text"],
        row["custom_id"],
        row["name"],
        row["operation_type"],
        frozenset(Purpose(p) for p in purposes) if purposes else None,
    )


def _as_json(document: Registered) -> dict[str, Any]:
    return {
        "owner_department": document.owner.department,
        "owner_system": document.owner.system,
        "sha256": document.sha256,
        "text": document.text,
        "custom_id": document.custom_id,
        "name": document.name,
        "operation_type": document.operation_type,
        "purposes": sorted(document.purposes) if document.purposes is not None else None,
    }
