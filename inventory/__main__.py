"""Print the inventory of sources (Art. 16) for the coordination office: a table, or
JSON with `--json`. Run on the server's data directory and settings (`tool_settings`):
it reads the audit records of the platform store and asks each source once when its
resources were last updated.

    python -m inventory [--json] [--idle-days N]

Exit status: 0 printed, 2 cannot take it (a setting, the catalog or the store).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import sys
from collections.abc import Sequence

from sqlalchemy.exc import SQLAlchemyError

from catalog import load_catalog
from connectors import SOURCE_KINDS, Connector, DropOptions
from drops.staging import Staging
from errors import ConfigurationError
from freshness import FreshnessWatch
from inventory.usage import SourceInventory, take_inventory
from settings import Settings, tool_settings
from store import store_engine

PRINTED, CANNOT = 0, 2
COLUMNS = ("source", "last read", "last update", "callers 30d", "error rate", "retire?")


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    try:
        settings = tool_settings()
        idle_days = arguments.idle_days or settings.inventory_idle_days
        inventory = asyncio.run(_take(settings, idle_days))
    except ConfigurationError as error:
        print(f"inventory: {error}", file=sys.stderr)
        return CANNOT
    except SQLAlchemyError as error:
        print(
            f"inventory: the platform store cannot be read ({type(error).__name__})",
            file=sys.stderr,
        )
        return CANNOT
    if arguments.json:
        print(json.dumps([found.as_json() for found in inventory], ensure_ascii=False, indent=2))
    else:
        print(_table(inventory))
    return PRINTED


async def _take(settings: Settings, idle_days: int) -> list[SourceInventory]:
    catalog = load_catalog(settings.catalog_dir)
    timeout = settings.statement_timeout_seconds
    sources: dict[str, Connector] = {}
    stagings: dict[str, Staging] = {}
    for name in sorted({department.source for department in catalog.departments}):
        setting = settings.source_setting(name)
        _, options = SOURCE_KINDS.options(name, setting, timeout_seconds=timeout)
        if isinstance(options, DropOptions):
            stagings[name] = Staging(options.staging_url.get_secret_value())
        else:
            sources[name] = SOURCE_KINDS.open(name, setting, timeout_seconds=timeout)
    watch = FreshnessWatch(lambda: catalog, sources, stagings)
    store = store_engine(settings.store_url())
    try:
        now = datetime.datetime.now(datetime.UTC)
        freshness = await watch.check(now)
        return await take_inventory(store, catalog, freshness, now=now, idle_days=idle_days)
    finally:
        await store.dispose()
        await watch.close()
        for connector in sources.values():
            await connector.close()


def _table(inventory: list[SourceInventory]) -> str:
    rows = [COLUMNS] + [
        (
            found.source,
            _day(found.last_read),
            _day(found.last_update),
            str(len(found.callers)),
            "-" if found.error_rate is None else f"{found.error_rate:.1%}",
            "; ".join(found.retire_because) or "no",
        )
        for found in inventory
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def _day(value: datetime.datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else "never"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m inventory", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--idle-days",
        type=int,
        help="a source neither read nor updated for this long is a candidate for retirement "
        "(default GOV_SHARE_INVENTORY_IDLE_DAYS)",
    )
    return parser


if __name__ == "__main__":
    sys.exit(main())
