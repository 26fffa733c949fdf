"""The persisted documents of the platform store, per owner system, behind a small
in-process cache.

A document is found only by the system that registered it: the owner is the
authenticated caller's department and system, never anything the request says. Its id
is the SHA-256 of its exact text (what Apollo's automatic persisted queries and the
GraphQL-over-HTTP appendix's `sha256:` ids name), or a manifest's own id.

A stored document never changes, so a hit can be remembered for good (least recently
used forgotten first); a miss is never remembered, as another instance may register the
document a moment later. The cache is per process: instances share the store, not the
cache (a shared Redis cache can come later if lookups show up in the latency).
"""

from __future__ import annotations

import datetime
import hashlib
from collections import OrderedDict
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from store import StoreUnavailable
from store.tables import persisted_documents

CACHED_DOCUMENTS = 1024
"""Document texts remembered at most, across all systems."""


@dataclass(frozen=True)
class Owner:
    """The system a document belongs to: the authenticated caller's."""

    department: str
    system: str


def sha256_of(text: str) -> str:
    """The document's id: lowercase hex SHA-256 of its exact UTF-8 text, as clients hash it."""
    return hashlib.sha256(text.encode()).hexdigest()


class DocumentStore:
    def __init__(self, engine: AsyncEngine, *, cache_size: int = CACHED_DOCUMENTS) -> None:
        self.engine = engine
        self.cache_size = cache_size
        self._known: OrderedDict[tuple[Owner, str, str], str] = OrderedDict()
        """(owner, "sha256" or "custom", id) -> text."""

    async def by_hash(self, owner: Owner, sha256: str) -> str | None:
        return await self._find(owner, "sha256", sha256)

    async def by_custom_id(self, owner: Owner, custom_id: str) -> str | None:
        return await self._find(owner, "custom", custom_id)

    async def register(self, owner: Owner, text: str, custom_id: str | None = None) -> str:
        """Store `text` for `owner` under its SHA-256 (returned); registering it again, or
        two instances registering it at once, leaves the one row."""
        sha256 = sha256_of(text)
        row = {
            "owner_department": owner.department,
            "owner_system": owner.system,
            "sha256": sha256,
            "custom_id": custom_id,
            "text": text,
            "created_at": datetime.datetime.now(datetime.UTC),
        }
        try:
            async with self.engine.begin() as connection:
                await connection.execute(persisted_documents.insert(), row)
        except IntegrityError:
            pass  # already there: the same hash is the same text
        except SQLAlchemyError:
            raise StoreUnavailable from None
        self._remember((owner, "sha256", sha256), text)
        return sha256

    async def _find(self, owner: Owner, kind: str, identifier: str) -> str | None:
        key = (owner, kind, identifier)
        text = self._known.get(key)
        if text is not None:
            self._known.move_to_end(key)
            return text
        column = (
            persisted_documents.c.sha256 if kind == "sha256" else persisted_documents.c.custom_id
        )
        query = sa.select(persisted_documents.c.text).where(
            persisted_documents.c.owner_department == owner.department,
            persisted_documents.c.owner_system == owner.system,
            column == identifier,
        )
        try:
            async with self.engine.connect() as connection:
                text = (await connection.execute(query)).scalar_one_or_none()
        except SQLAlchemyError:
            raise StoreUnavailable from None
        if text is not None:
            self._remember(key, text)
        return text

    def _remember(self, key: tuple[Owner, str, str], text: str) -> None:
        self._known[key] = text
        self._known.move_to_end(key)
        if len(self._known) > self.cache_size:
            self._known.popitem(last=False)
