"""Write the synthetic city into each department's own database."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, MetaData, Table

from catalog import DepartmentCatalog, Resource, files_version
from demo.deliveries import write_delivery
from demo.engines import in_transaction
from demo.tables import build_table, joined_items
from demo.world import DemoScale, Row, build_world

_BATCH = 1000


def generate_demo_data(
    departments: Sequence[DepartmentCatalog],
    urls: Mapping[str, str],
    *,
    seed: int = 20201,
    scale: DemoScale = DemoScale(),  # noqa: B008 - frozen, so one shared default is safe
) -> None:
    """(Re)create every catalogued table in its source database and fill it.

    `urls` maps each department's `source` to a SQLAlchemy URL, synchronous or async
    (`sqlite+aiosqlite`, `postgresql+asyncpg`, `mysql+asyncmy`); call it where no event
    loop is running. Tables are dropped first, so a rerun replaces the data instead of
    adding to it.
    """
    generate_demo_city(departments, urls, {}, seed=seed, scale=scale)


def generate_demo_city(
    departments: Sequence[DepartmentCatalog],
    urls: Mapping[str, str],
    deliveries: Mapping[str, Path],
    *,
    seed: int = 20201,
    scale: DemoScale = DemoScale(),  # noqa: B008 - frozen, so one shared default is safe
) -> None:
    """As `generate_demo_data`, from the same world, except that each source named in
    `deliveries` is a file-drop department: its resources are written as the files it
    delivers, `<folder>/<resource id>/<resource id>.csv`, for the platform to load."""
    world = build_world(random.Random(seed), scale)
    joined = joined_items(departments)
    for source, resources in _resources_by_source(departments).items():
        if source in deliveries:
            for resource in resources:
                folder = deliveries[source] / resource.id
                write_delivery(resource, _rows_for(resource, world), folder)
        elif source in urls:
            _write_source(urls[source], resources, joined, world)
        else:
            raise KeyError(f"no database URL for source {source!r}")


def generator_version() -> str:
    """A digest of the generator's own modules. Databases are kept while seed, catalog
    and this stay the same; an older generator's may tell what the catalog withholds."""
    return files_version(sorted(Path(__file__).resolve().parent.glob("*.py")))


def _resources_by_source(
    departments: Sequence[DepartmentCatalog],
) -> dict[str, list[Resource]]:
    """Departments may share a source; each source is written in one transaction."""
    grouped: dict[str, list[Resource]] = {}
    for department in departments:
        grouped.setdefault(department.source, []).extend(department.resources)
    return grouped


def _write_source(
    url: str,
    resources: Sequence[Resource],
    joined: set[tuple[str, str]],
    world: Mapping[str, Sequence[Row]],
) -> None:
    metadata = MetaData()
    contents = [(build_table(metadata, r, joined), _rows_for(r, world)) for r in resources]

    def replace(connection: Connection) -> None:
        metadata.drop_all(connection)
        metadata.create_all(connection)
        for table, rows in contents:
            _insert(connection, table, rows)

    in_transaction(url, replace)


def _rows_for(resource: Resource, world: Mapping[str, Sequence[Row]]) -> Sequence[Row]:
    if resource.id not in world:
        raise ValueError(f"the demo generates no data for resource {resource.id!r}")
    return world[resource.id]


def _insert(connection: Connection, table: Table, rows: Sequence[Row]) -> None:
    """Batched executemany, taking only the table's columns from each row."""
    names = [column.name for column in table.columns]
    try:
        records = [{name: fields[name] for name in names} for fields in map(_fields, rows)]
    except KeyError as missing:
        raise ValueError(f"the demo generates no column {table.name}.{missing}") from None
    for start in range(0, len(records), _BATCH):
        connection.execute(table.insert(), records[start : start + _BATCH])


def _fields(row: Row) -> dict[str, Any]:
    return row._asdict()
