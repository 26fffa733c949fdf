"""Load a department's delivered file by hand, and see what each resource was last
loaded from; the server loads the files dropped in the folder itself (`watcher.py`).

    python -m drops load <source> <resource> <file>
    python -m drops status <source>

The source is a file-drop source of `GOV_SHARE_SOURCES` (a `file://` folder), whose
staging database the load writes. Exit status: 0 loaded (or shown), 1 the file is
refused (the message names the row, the column and the problem), 2 cannot load (a
setting, the catalog or the staging database).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from catalog import load_catalog
from connectors import SOURCE_KINDS, DropOptions
from drops.load import Refused, load_file
from drops.staging import Staging
from errors import ConfigurationError
from settings import Settings, tool_settings

LOADED, REFUSED, CANNOT_LOAD = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    try:
        settings = tool_settings()
        options = drop_options(settings, arguments.source)
        if arguments.command == "load":
            return asyncio.run(_load(settings, options, arguments.resource, arguments.file))
        return asyncio.run(_status(options))
    except ExceptionGroup as invalid:
        for problem in invalid.exceptions:
            print(f"drops: {problem}", file=sys.stderr)
    except (ConfigurationError, OSError) as error:
        print(f"drops: {error}", file=sys.stderr)
    except SQLAlchemyError as error:
        print(
            f"drops: the staging database of {arguments.source} cannot be written or read "
            f"({type(error).__name__})",
            file=sys.stderr,
        )
    return CANNOT_LOAD


def drop_options(settings: Settings, source: str) -> DropOptions:
    """The options of a file-drop source; a ConfigurationError for any other."""
    _, options = SOURCE_KINDS.options(
        source, settings.source_setting(source), timeout_seconds=settings.statement_timeout_seconds
    )
    if not isinstance(options, DropOptions):
        raise ConfigurationError(
            "settings",
            f"GOV_SHARE_SOURCES ({source})",
            "not a file-drop source: its url is file:///<the drop folder>",
        )
    return options


async def _load(settings: Settings, options: DropOptions, resource: str, file: Path) -> int:
    catalog = load_catalog(settings.catalog_dir)
    staging = Staging(options.staging_url.get_secret_value())
    try:
        await staging.prepare()
        stamp = await load_file(staging, catalog, resource, file)
    except Refused as refusal:
        print(f"drops: {file.name} refused: {refusal}", file=sys.stderr)
        return REFUSED
    finally:
        await staging.close()
    print(
        f"loaded {stamp.record_count} records of {resource} from {stamp.file_name} "
        f"(SM3 {stamp.digest[:16]}…) at {stamp.loaded_at:%Y-%m-%d %H:%M:%S} UTC"
    )
    return LOADED


async def _status(options: DropOptions) -> int:
    staging = Staging(options.staging_url.get_secret_value())
    try:
        await staging.prepare()
        stamps = await staging.stamps()
    finally:
        await staging.close()
    for stamp in stamps:
        print(
            f"{stamp.resource}\t{stamp.loaded_at:%Y-%m-%d %H:%M:%S} UTC\t{stamp.record_count} "
            f"records\t{stamp.file_name}\tSM3 {stamp.digest}"
        )
    if not stamps:
        print("no file loaded yet")
    return LOADED


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m drops", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    load = commands.add_parser(
        "load", help="load a CSV or XLSX file as all of a resource's records"
    )
    load.add_argument("source", help="a file-drop source of GOV_SHARE_SOURCES")
    load.add_argument("resource", help="the resource id in the catalog")
    load.add_argument("file", type=Path)
    status = commands.add_parser("status", help="what each resource was last loaded from")
    status.add_argument("source")
    return parser


if __name__ == "__main__":
    sys.exit(main())
