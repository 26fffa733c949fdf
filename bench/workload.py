"""What every variant answers: one query, one caller, one synthetic city in a temp dir."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import sqlalchemy as sa

from catalog import Catalog, load_catalog
from demo import DemoScale, generate_demo_data
from demo.tables import build_table, joined_items
from demo.world import build_world
from settings import ROOT

SEED = 20201
SYSTEM = "marriage-registry"
DEPARTMENT = "11410581005000006G"
PURPOSE = "administrative_basis"
SCALE = DemoScale(persons=10000, enterprises=2000)
NESTED_FIRST = 3
"""`first` of the nested connections (licences, land parcels)."""

QUERY_TEMPLATE = """{
  enterprises(first: %s) {
    edges { node {
      name creditCode legalRepName
      legalRepresentative {
        name idNumber
        licences(first: 3) { edges { node { licenceNumber licenceType } } }
      }
      landParcels(first: 3) { edges { node { parcelCode area } } }
    } }
  }
}"""


def query(n: int | str) -> str:
    return QUERY_TEMPLATE % n


def query_one_line(n: int | str) -> str:
    return " ".join(query(n).split())


def generate(catalog: Catalog, directory: Path) -> tuple[dict[str, Path], list[str]]:
    """Write every source's SQLite file; returns the path of each source, and the
    sources the demo has no generator for yet (created with empty tables, so the
    platform starts; the benchmark query does not read them)."""
    directory.mkdir(parents=True, exist_ok=True)
    sources = sorted({department.source for department in catalog.departments})
    paths = {name: directory / f"{name}.db" for name in sources}
    generated = set(build_world(random.Random(SEED), DemoScale(persons=2, enterprises=2)))
    with_data = [d for d in catalog.departments if all(r.id in generated for r in d.resources)]
    generate_demo_data(
        with_data,
        {d.source: f"sqlite:///{paths[d.source]}" for d in with_data},
        seed=SEED,
        scale=SCALE,
    )
    empty = sorted({d.source for d in catalog.departments} - {d.source for d in with_data})
    for source in empty:
        metadata = sa.MetaData()
        joined = joined_items(catalog.departments)
        for department in catalog.departments:
            if department.source == source:
                for resource in department.resources:
                    build_table(metadata, resource, joined)
        engine = sa.create_engine(f"sqlite:///{paths[source]}")
        try:
            metadata.create_all(engine)
        finally:
            engine.dispose()
    return paths, empty


async def generated(directory: Path) -> tuple[dict[str, Path], list[str]]:
    """`generate` from the project's catalog, off the event loop: what a benchmark
    command does first, into its temp dir."""
    catalog = load_catalog(ROOT / "catalog" / "departments")
    return await asyncio.to_thread(generate, catalog, directory)


def async_urls(paths: dict[str, Path]) -> dict[str, str]:
    """Read-only aiosqlite URLs, as the platform opens its demo sources."""
    return {
        name: f"sqlite+aiosqlite:///file:{path}?mode=ro&uri=true" for name, path in paths.items()
    }
