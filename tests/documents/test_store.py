"""Persisted documents in the platform store, on SQLite and on PostgreSQL as the
server's writer role: registered once per owner system, found by that system only, by
any instance, and never changed."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from documents import DocumentStore, Owner, sha256_of
from store.tables import persisted_documents
from tests.audit.conftest import Store

pytestmark = pytest.mark.anyio

TEXT = "{ enterprises(first: 1) { edges { node { name } } } }"
MARRIAGE = Owner("11410581005000006G", "marriage-registry")
TAX = Owner("11410581005000005D", "tax-admin")


def server_engine(store: Store) -> AsyncEngine:
    return store.engine_as("writer") if store.dialect == "postgresql" else store.engine


async def test_registered_once_and_found_by_its_owner_only(store: Store) -> None:
    documents = DocumentStore(server_engine(store))
    assert await documents.by_hash(MARRIAGE, sha256_of(TEXT)) is None
    for _ in range(2):
        assert await documents.register(MARRIAGE, TEXT) == sha256_of(TEXT)
    another_instance = DocumentStore(server_engine(store))
    assert (await another_instance.by_hash(MARRIAGE, sha256_of(TEXT))).text == TEXT  # type: ignore[union-attr]
    assert await another_instance.by_hash(TAX, sha256_of(TEXT)) is None
    await another_instance.register(TAX, TEXT, custom_id="relay-1")
    assert (await documents.by_custom_id(TAX, "relay-1")).text == TEXT  # type: ignore[union-attr]
    assert await documents.by_custom_id(MARRIAGE, "relay-1") is None
    async with store.engine.connect() as connection:
        count = sa.select(sa.func.count()).select_from(persisted_documents)
        assert (await connection.execute(count)).scalar_one() == 2


async def test_the_writer_cannot_change_a_document(postgres_store: Store) -> None:
    await DocumentStore(postgres_store.engine_as("writer")).register(MARRIAGE, TEXT)
    with pytest.raises(DBAPIError, match="permission denied"):
        async with postgres_store.engine_as("writer").begin() as connection:
            await connection.execute(sa.update(persisted_documents).values(text="{ __typename }"))
