"""Audit log tools, for auditors and operators.

    python -m audit verify [--store-url URL] [--checkpoints PATH] [--public-key PATH ...]
    python -m audit verify-export [FILE ...] [--public-key PATH ...]
    python -m audit public-key
    python -m audit retain [--store-url URL]
    python -m audit search --auditor NAME [--subject ID] [filters ...] [--format csv|jsonl]
    python -m audit report --auditor NAME --subject ID [--from T] [--until T] > report.html
    python -m audit signals --auditor NAME [--from T] [--until T]
    python -m audit sealing-key --private-key PATH     (prints the public half)
    python -m audit subjects --auditor NAME --private-key PATH --request-id ID

Settings come from `GOV_SHARE_*` as for the server, and from the demo marker a server
started with --demo leaves in the data directory (`settings.tool_settings`). Exit
status: 0 intact (or done), 1 the log is not intact (the message names the first
problem), 2 cannot check.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from audit.checkpoint import (
    PUBLIC_KEY_FORMS,
    Checkpointer,
    checkpoint_path,
    key_id,
    parse_public_key,
    public_key_pem,
    signing_key,
)
from audit.export import BrokenSegment, verify_export
from audit.listing import add_key_arguments, add_listing_arguments, list_subjects, make_key_pair
from audit.retention import retain
from audit.searching import (
    add_arguments,
    add_report_arguments,
    add_signal_arguments,
    report_command,
    search_command,
    signals_command,
)
from audit.verify import verify
from errors import ConfigurationError, GovShareError
from settings import Settings, tool_settings
from store import store_engine

INTACT, NOT_INTACT, CANNOT_CHECK = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    url = getattr(arguments, "store_url", None) or ""
    try:
        settings = tool_settings()
    except ExceptionGroup as invalid:
        for problem in invalid.exceptions:
            print(f"audit: {problem}", file=sys.stderr)
        return CANNOT_CHECK
    except ConfigurationError as marker:
        print(f"audit: {marker}", file=sys.stderr)
        return CANNOT_CHECK
    try:
        if arguments.command == "public-key":
            print(public_key_pem(signing_key(settings).public_key()), end="")
            return INTACT
        if arguments.command == "verify-export":
            return _verify_exports(arguments, settings)
        url = url or settings.store_url()
        if arguments.command == "verify":
            return asyncio.run(_verify(url, arguments, settings))
        if arguments.command == "search":
            print(asyncio.run(search_command(url, arguments, settings)), end="")
            return INTACT
        if arguments.command == "sealing-key":
            print(make_key_pair(arguments), end="")
            return INTACT
        if arguments.command == "subjects":
            print(asyncio.run(list_subjects(url, arguments, settings)), end="")
            return INTACT
        if arguments.command == "report":
            print(asyncio.run(report_command(url, arguments, settings)), end="")
            return INTACT
        if arguments.command == "signals":
            print(asyncio.run(signals_command(url, arguments, settings)), end="")
            return INTACT
        return asyncio.run(_retain(url, settings))
    except (ConfigurationError, ValueError, OSError, GovShareError) as error:
        print(f"audit: {error}", file=sys.stderr)
        return CANNOT_CHECK
    except SQLAlchemyError as error:
        shown = make_url(url).render_as_string(hide_password=True)
        print(
            f"audit: the store at {shown} cannot be read ({type(error).__name__}); "
            "is it migrated to the newest revision?",
            file=sys.stderr,
        )
        return CANNOT_CHECK


async def _verify(url: str, arguments: argparse.Namespace, settings: Settings) -> int:
    checkpoints: Path | None = arguments.checkpoints
    if checkpoints is None and checkpoint_path(settings).exists():
        checkpoints = checkpoint_path(settings)
    keys = _public_keys(arguments.public_key, settings, required=checkpoints is not None)
    engine = store_engine(url)
    try:
        result = await verify(engine, checkpoint_file=checkpoints, public_keys=keys)
    finally:
        await engine.dispose()
    print(result)
    return INTACT if result.ok else NOT_INTACT


def _verify_exports(arguments: argparse.Namespace, settings: Settings) -> int:
    """The files named, or every export retention has written."""
    files: list[Path] = arguments.file or sorted(_export_dir(settings).glob("*.jsonl.gz"))
    if not files:
        print(
            f"no exported segments in {_export_dir(settings)} yet: `python -m audit retain` "
            f"exports records older than {settings.audit_retention_days} days"
        )
        return INTACT
    keys = _public_keys(arguments.public_key, settings)
    intact = True
    for path in files:
        result = verify_export(path, keys)
        print(f"{path}: {result}")
        intact = intact and result.ok
    return INTACT if intact else NOT_INTACT


def _export_dir(settings: Settings) -> Path:
    return settings.data_dir / "audit-export"


async def _retain(url: str, settings: Settings) -> int:
    engine = store_engine(url)
    try:
        retained = await retain(
            engine,
            checkpointer=Checkpointer.from_settings(settings),
            export_dir=_export_dir(settings),
            retention_days=settings.audit_retention_days,
        )
    except BrokenSegment as error:
        print(f"audit: {error}", file=sys.stderr)
        return NOT_INTACT
    finally:
        await engine.dispose()
    if retained is None:
        print(f"nothing is older than {settings.audit_retention_days} days")
        return INTACT
    segment = retained.segment
    print(
        f"exported records {segment.from_seq} to {segment.to_seq} ({segment.count}) "
        f"to {segment.path} (SM3 {segment.file_sm3}) and removed them from the store"
    )
    return INTACT


def _public_keys(
    paths: list[Path] | None, settings: Settings, *, required: bool = True
) -> dict[str, Ed25519PublicKey]:
    """The auditor's keys; without --public-key, the one the settings sign with."""
    if paths:
        keys = [_public_key(path) for path in paths]
    else:
        try:
            keys = [signing_key(settings).public_key()]
        except ConfigurationError:
            if required:
                raise ValueError("give --public-key: the checkpoints' signatures need it") from None
            keys = []
    return {key_id(key): key for key in keys}


def _public_key(path: Path) -> Ed25519PublicKey:
    try:
        return parse_public_key(path.read_text(encoding="utf-8", errors="replace"))
    except ValueError as error:
        raise ValueError(
            f"the public key file {path} is {error}: expected {PUBLIC_KEY_FORMS}"
        ) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m audit", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("verify", help="walk the chain and check it against checkpoints")
    check.add_argument("--store-url", help="SQLAlchemy async URL (default: from settings)")
    check.add_argument("--checkpoints", type=Path, help="checkpoint JSONL (default: settings)")
    check.add_argument("--public-key", type=Path, action="append", help="PEM or hex; repeatable")
    exported = commands.add_parser(
        "verify-export", help="check exported segment files (default: every export)"
    )
    exported.add_argument("file", type=Path, nargs="*")
    exported.add_argument("--public-key", type=Path, action="append", help="PEM or hex")
    commands.add_parser("public-key", help="print the checkpoint signing key's public half")
    retention = commands.add_parser("retain", help="export and remove records past retention")
    retention.add_argument("--store-url", help="SQLAlchemy async URL (default: from settings)")
    add_arguments(
        commands.add_parser("search", help="find audit records (the search is on record)")
    )
    add_key_arguments(
        commands.add_parser("sealing-key", help="make the auditor's key pair for sealed subjects")
    )
    add_listing_arguments(
        commands.add_parser("subjects", help="list a request's subjects (the auditor's key)")
    )
    add_report_arguments(
        commands.add_parser("report", help="a subject access report as printable HTML (Chinese)")
    )
    add_signal_arguments(
        commands.add_parser("signals", help="misuse signals of a period, with their records")
    )
    return parser


if __name__ == "__main__":
    sys.exit(main())
