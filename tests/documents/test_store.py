"""Persisted documents in the platform store, on SQLite and on PostgreSQL as the
server's writer role: registered once per owner system, found by that system only, by
any instance, and never changed."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from documents import DocumentStore, Owner, normalised, sha256_of
from documents.cache import SharedCache
from documents.modes import Mode, Modes, count_unknown, set_mode, unknown_of
from documents.store import RegistrationRefused, Terms
from policies import Purpose
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


async def test_a_manifest_registers_all_or_nothing_with_its_shares(store: Store) -> None:
    documents = DocumentStore(server_engine(store))
    terms = Terms(frozenset({Purpose.WORK_REFERENCE}), frozenset({TAX}), "gs-admin", "review")
    other = "{ enterprises(first: 2) { edges { node { name } } } }"
    await documents.register_all(MARRIAGE, [(TEXT, "relay-1", None)], terms)
    found = await documents.by_hash(TAX, sha256_of(TEXT))
    assert found is not None and found.owner == MARRIAGE and found.custom_id == "relay-1"
    assert found.purposes == frozenset({Purpose.WORK_REFERENCE})
    respaced = TEXT.replace(" ", "\n  ")
    assert await documents.matching(MARRIAGE, normalised(respaced)) == found
    changed = Terms(None, frozenset(), "gs-admin", "review")
    with pytest.raises(RegistrationRefused, match="never changed"):
        await documents.register_all(
            MARRIAGE, [(other, None, None), (TEXT, "relay-1", None)], changed
        )
    assert [d.custom_id for d, _ in await documents.listed(MARRIAGE)] == ["relay-1"]
    assert await documents.by_hash(MARRIAGE, sha256_of(other)) is None


async def test_documents_are_shared_through_redis_and_found_without_it(
    store: Store, redis_url: str
) -> None:
    prefix = f"gov-share-test:{uuid.uuid4().hex}:"
    writer = DocumentStore(server_engine(store), shared=SharedCache(redis_url, prefix))
    await writer.register(MARRIAGE, TEXT)
    assert (await writer.by_hash(MARRIAGE, sha256_of(TEXT))) is not None
    cached = await writer.shared.get(f"{MARRIAGE}:sha256:{sha256_of(TEXT)}")  # type: ignore[union-attr]
    assert cached is not None and cached["text"] == TEXT
    gone = DocumentStore(server_engine(store), shared=SharedCache("redis://127.0.0.1:1/0", prefix))
    found = await gone.by_hash(MARRIAGE, sha256_of(TEXT))
    assert (
        found is not None and found.text == TEXT and gone.shared is not None and gone.shared.failing
    )
    for cache in (writer.shared, gone.shared):
        assert cache is not None
        await cache.close()


async def test_the_server_counts_unknown_operations_and_reads_modes(store: Store) -> None:
    """As the writer role on PostgreSQL: it counts and reads; only admins set a mode."""
    await set_mode(store.engine, MARRIAGE, Mode.LOG_UNKNOWN, operator="gs-admin", reason="r")
    server = server_engine(store)
    modes = Modes(server, refresh_seconds=60)
    assert await modes.mode_of(MARRIAGE) is Mode.LOG_UNKNOWN
    assert await modes.mode_of(TAX) is Mode.OPEN
    for _ in range(3):
        await count_unknown(server, MARRIAGE, sha256_of(TEXT), "Names")
    [counted] = await unknown_of(server, MARRIAGE)
    assert (counted.name, counted.count) == ("Names", 3)
    assert counted.first_seen <= counted.last_seen
    if store.dialect == "postgresql":
        with pytest.raises(DBAPIError, match="permission denied"):
            await set_mode(server, MARRIAGE, Mode.OPEN, operator="gs-admin", reason="r")
