"""Load one delivered file into its resource's staging table: the header matched to the
catalog's items, every cell parsed to its item's data type, the key present and unique.
The first problem refuses the whole file, naming the row and the column, and nothing
of it is served (`staging.py` swaps the table in only once every row is written).

A not_shared item is never kept: its column may be in the file or not, and its cells
are neither read nor stored (the staging database holds only what may be shared).

A problem's words hold positions, catalog names and what was expected, never a cell's
value: they are logged, printed, and written next to the refused file.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from catalog import Catalog, DataItem, Resource, ShareType
from drops.files import Cells, Unreadable, column_letter, delivered, digest
from drops.staging import Staging, Stamp
from drops.values import Parse, parser

BATCH = 1000
"""Rows written per statement."""


class Refused(Exception):
    """The file is not loaded; `str()` says why, where in the file."""


@dataclass(frozen=True)
class _Column:
    index: int
    item: DataItem
    parse: Parse

    @property
    def named(self) -> str:
        return f"column {column_letter(self.index)} ({self.item.column})"


async def load_file(staging: Staging, catalog: Catalog, resource_id: str, path: Path) -> Stamp:
    """Load `path` as all the records of the resource; `Refused` if any row is wrong."""
    resource = catalog.resources.get(resource_id)
    if resource is None:
        raise Refused(f"no resource {resource_id!r} in the catalog")
    try:
        with delivered(path, resource.drop) as file:
            columns = _columns(resource, file.header)
            rows = _records(resource, columns, len(file.header), file.rows)
            return await staging.replace(
                catalog, resource, _batches(rows), file_name=path.name, digest=digest(path)
            )
    except Unreadable as problem:
        raise Refused(str(problem)) from None


def _columns(resource: Resource, header: Sequence[str]) -> list[_Column]:
    declared = resource.drop.headers if resource.drop else {}
    by_header: dict[str, DataItem] = {}
    for item in resource.items:
        if item.column in declared:
            by_header[declared[item.column]] = item
        else:
            by_header.setdefault(item.column, item)
            by_header.setdefault(item.name_zh, item)
    columns: list[_Column] = []
    placed: dict[str, int] = {}
    for index, text in enumerate(header):
        letter = column_letter(index)
        if not text:
            raise Refused(f"row 1, column {letter}: no header")
        found = by_header.get(text)
        if found is None:
            raise Refused(
                f"row 1, column {letter}: the header is not an item of {resource.id} "
                "(its column, its Chinese name, or the catalog's drop.headers)"
            )
        item = found
        if item.column in placed:
            first = column_letter(placed[item.column])
            raise Refused(f"row 1, columns {first} and {letter}: both are {item.column}")
        placed[item.column] = index
        if item.share_type is not ShareType.NOT_SHARED:
            columns.append(_Column(index, item, parser(item)))
    missing = [
        f"{item.column} ({item.name_zh})"
        for item in resource.items
        if item.column not in placed and item.share_type is not ShareType.NOT_SHARED
    ]
    if missing:
        raise Refused(f"row 1: no column for {', '.join(missing)}")
    return columns


def _records(
    resource: Resource, columns: list[_Column], width: int, rows: Iterator[tuple[int, Cells]]
) -> Iterator[dict[str, Any]]:
    key = next(column for column in columns if column.item.name == resource.key_item)
    seen: dict[Any, int] = {}
    for number, cells in rows:
        if len(cells) < width:
            raise Refused(f"row {number}: {len(cells)} cells where the header has {width}")
        beyond = [i for i in range(width, len(cells)) if cells[i] not in (None, "")]
        if beyond:
            raise Refused(
                f"row {number}, column {column_letter(beyond[0])}: a value past the header"
            )
        record: dict[str, Any] = {}
        for column in columns:
            try:
                record[column.item.column] = column.parse(cells[column.index])
            except ValueError as problem:
                raise Refused(f"row {number}, {column.named}: {problem}") from None
        value = record[key.item.column]
        if value is None:
            raise Refused(f"row {number}, {key.named}: the key is empty")
        if value in seen:
            raise Refused(f"row {number}, {key.named}: the same key as row {seen[value]}")
        seen[value] = number
        yield record
    if not seen:
        raise Refused(
            "no records after the header: a file replaces all of its resource's records, "
            "so an empty one is refused"
        )


def _batches(records: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for record in records:
        batch.append(record)
        if len(batch) == BATCH:
            yield batch
            batch = []
    yield batch
