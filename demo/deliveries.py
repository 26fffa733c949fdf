"""The demo's file-drop department: its records written as the CSV file it would
deliver, for the platform to load like any department's file (`drops`).

The header is the items' Chinese names, as a department's own export has them; the
not_shared items are left out, as a department sends only what it shares. Values are
written as the loader reads them back: amounts to the fen, dates in ISO form, NULL as
an empty cell. UTF-8 with a byte-order mark, as Excel saves "CSV UTF-8".
"""

from __future__ import annotations

import csv
import datetime
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from catalog import Resource, ShareType
from demo.world import Row


def write_delivery(resource: Resource, rows: Sequence[Row], folder: Path) -> Path:
    """`rows` as the file `<folder>/<resource id>.csv`, written whole under a temporary
    name and then renamed, so a watcher never reads half of it."""
    items = [item for item in resource.items if item.share_type is not ShareType.NOT_SHARED]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{resource.id}.csv"
    partial = folder / f".{path.name}.partial"
    with partial.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow([item.name_zh for item in items])
        for row in rows:
            fields = row._asdict()
            writer.writerow([_cell(fields[item.column]) for item in items])
    partial.replace(path)
    return path


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)
