"""Register a department system's API key: `python -m auth register --department … --system …`.

The key is printed once and stored only as its hash.
"""

from __future__ import annotations

import argparse
import asyncio
import re

from sqlalchemy.ext.asyncio import create_async_engine

from auth.registry import KeyRegistry
from settings import Settings
from store import upgrade


async def _register(settings: Settings, arguments: argparse.Namespace) -> str:
    engine = create_async_engine(settings.store_url())
    try:
        registry = KeyRegistry(engine, demo=settings.demo)
        return await registry.register(
            arguments.department,
            arguments.department_name,
            arguments.system,
            arguments.system_name,
            dict(arguments.attribute),
        )
    finally:
        await engine.dispose()


def _attribute(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not re.fullmatch(r"[a-z][a-z0-9_]*", name) or not value:
        raise argparse.ArgumentTypeError(f"expected name=value, not {text!r}")
    return name, value


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m auth")
    commands = parser.add_subparsers(dest="command", required=True)
    register = commands.add_parser("register", help="issue a key for a department system")
    register.add_argument("--department", required=True, help="department code (18 characters)")
    register.add_argument("--department-name", required=True)
    register.add_argument("--system", required=True, help="system id, e.g. marriage-registry")
    register.add_argument("--system-name", required=True)
    register.add_argument(
        "--attribute",
        type=_attribute,
        action="append",
        default=[],
        help="name=value a grant's scope compares rows with, e.g. township=开元街道",
    )
    arguments = parser.parse_args()
    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.store_url())
    print(asyncio.run(_register(settings, arguments)))


if __name__ == "__main__":
    main()
