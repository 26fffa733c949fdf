"""A policy source over copies of the real rule files and catalog, free to edit, and a
fresh SQLite grant store: what a running server's holder reloads, without the server."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path

import pytest

from catalog import Catalog, load_catalog
from connectors import Connector, MemoryConnector
from grants import GrantStore, PolicySource
from resolvers import Executor, Limits, Served
from schema.build import build_schema
from settings import ROOT
from store import store_engine, upgrade


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    """A copy of the real model and rule files, free to edit."""
    directory = tmp_path / "policies"
    shutil.copytree(ROOT / "policies" / "rules", directory / "rules")
    shutil.copy(ROOT / "policies" / "model.conf", directory / "model.conf")
    return directory


@pytest.fixture
async def grants(tmp_path: Path) -> AsyncIterator[GrantStore]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'platform.db'}"
    await asyncio.to_thread(upgrade, url)
    engine = store_engine(url)
    yield GrantStore(engine)
    await engine.dispose()


def serving(
    connectors: Mapping[str, Connector] | None = None,
) -> Callable[[Catalog], Served]:
    """Serve a catalog as the platform does: its two schemas, and its resources read
    from `connectors` (by resource id; an empty in-memory source for the others)."""
    given = dict(connectors or {})

    def serve(catalog: Catalog) -> Served:
        schema, meanings = build_schema(catalog, default_first=20)
        public_schema, _ = build_schema(catalog, default_first=20, public=True)
        empty = MemoryConnector("empty", {})
        by_resource = {resource: given.get(resource, empty) for resource in catalog.resources}
        return Served(schema._schema, public_schema._schema, meanings, by_resource, catalog.version)

    return serve


async def load(
    catalog_dir: Path,
    policy_dir: Path,
    grants: GrantStore,
    connectors: Mapping[str, Connector] | None = None,
) -> PolicySource[Served]:
    return await PolicySource.load(
        load_catalog(catalog_dir),
        catalog_dir=catalog_dir,
        policy_dir=policy_dir,
        grants=grants,
        serve=serving(connectors),
    )


@pytest.fixture
async def source(catalog_dir: Path, policy_dir: Path, grants: GrantStore) -> PolicySource[Served]:
    return await load(catalog_dir, policy_dir, grants)


def executor(source: PolicySource[Served]) -> Executor:
    return Executor(
        source,
        cursor_key=bytes(16),
        limits=Limits(max_first=100, batch_bound=1000, max_tokens=5000),
    )
