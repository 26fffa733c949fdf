"""Before the server serves: its settings read and checked, every problem found at once,
told in one block of text; and fresh secrets for serving outside demo mode.

    python -m platform_setup keys    # prints `export GOV_SHARE_…=…` lines
"""

from __future__ import annotations

import argparse
import datetime
import functools
import json
import secrets
import shlex
from collections.abc import Sequence

from alembic.util import CommandError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from audit.checkpoint import signing_key
from catalog import load_catalog
from connectors import SOURCE_KINDS
from errors import ConfigurationError
from policies import load_rules
from settings import SECRETS, Settings, read_settings, record_run_mode
from store import upgrade
from workdays import load_calendar

# The exit status of a server that cannot start for its configuration.
CONFIGURATION_ERROR = 2


def settings_to_serve(*, demo: bool) -> Settings:
    """The server's settings, checked, with the run mode recorded for the command lines
    and the platform store migrated; raises an ExceptionGroup of every
    ConfigurationError found."""
    settings = read_settings(**({"demo": True} if demo else {}))
    check(settings)
    try:
        record_run_mode(settings)
        _migrate(settings.store_url())
    except ConfigurationError as problem:
        raise ExceptionGroup("the platform cannot start", [problem]) from None
    return settings


def check(settings: Settings) -> None:
    """What can be found wrong with the settings and the files they name before serving,
    all of it at once (an ExceptionGroup of ConfigurationError): a missing secret
    and a broken catalog file are both reported on the first try."""
    problems: list[ConfigurationError] = []
    for needed in (
        settings.audit_key,
        settings.cursor_secret,
        functools.partial(signing_key, settings),
    ):
        try:
            needed()
        except ConfigurationError as problem:
            problems.append(problem)
    problems += _url_problems(settings)
    try:
        load_rules(settings.policy_dir, load_catalog(settings.catalog_dir))
    except ConfigurationError as problem:
        problems.append(problem)
    try:
        load_calendar(settings.calendar_dir)
    except ConfigurationError as problem:
        problems.append(problem)
    if problems:
        raise ExceptionGroup("the platform cannot start", problems)


def _migrate(url: str) -> None:
    """A store that cannot be reached is most often a wrong URL, user or password: said
    here, before serving, with the URL's password hidden."""
    try:
        upgrade(url)
    except (SQLAlchemyError, OSError, CommandError) as error:
        shown = make_url(url).render_as_string(hide_password=True)
        cause = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
        raise ConfigurationError(
            "settings",
            "GOV_SHARE_PLATFORM_STORE_URL",
            f"the platform store {shown} cannot be reached or migrated: "
            f"{type(error).__name__}{': ' + cause if cause else ''}",
        ) from None


def _url_problems(settings: Settings) -> list[ConfigurationError]:
    """URLs are never shown: they may hold a password."""
    problems = []
    store = settings.store_url()
    try:
        dialect = make_url(store).get_dialect()
        if dialect.name not in ("sqlite", "postgresql") or not dialect.is_async:
            problems.append(
                ConfigurationError(
                    "settings",
                    "GOV_SHARE_PLATFORM_STORE_URL",
                    "the platform store is SQLite or PostgreSQL through an async driver: "
                    "sqlite+aiosqlite:// or postgresql+asyncpg://",
                )
            )
    except (ArgumentError, NoSuchModuleError):
        problems.append(
            ConfigurationError(
                "settings", "GOV_SHARE_PLATFORM_STORE_URL", "not a SQLAlchemy database URL"
            )
        )
    for source in sorted(settings.sources):
        try:
            SOURCE_KINDS.options(
                source,
                settings.source_setting(source),
                timeout_seconds=settings.statement_timeout_seconds,
            )
        except ConfigurationError as problem:
            problems.append(problem)
    return problems


def describe(found: BaseExceptionGroup[ConfigurationError]) -> str:
    """One block for a person at a terminal: each problem's file (or setting), place and
    problem, then how to make the secrets if any is missing or malformed."""
    problems = _flat(found)
    count = "a problem" if len(problems) == 1 else f"{len(problems)} problems"
    lines = [f"gov-share cannot start: {count} with its configuration"]
    for problem in problems:
        lines.append("")
        if problem.file == "settings":
            lines.append(f"  setting: {problem.where}")
        else:
            lines.append(f"  file:    {problem.file}")
            if problem.where:
                lines.append(f"  place:   {problem.where}")
        lines.append(f"  problem: {problem.problem}")
    if any(name in problem.where for problem in problems for name in SECRETS):
        lines += [
            "",
            "Make fresh secrets with `python -m platform_setup keys` (it prints them as "
            "`export GOV_SHARE_…=…` lines: keep them out of logs and version control), "
            "or serve the demo with `python server.py --demo`.",
        ]
    return "\n".join(lines)


def _flat(found: BaseExceptionGroup[ConfigurationError]) -> list[ConfigurationError]:
    return [
        problem
        for member in found.exceptions
        for problem in (_flat(member) if isinstance(member, BaseExceptionGroup) else [member])
    ]


def fresh_secrets(today: datetime.date) -> dict[str, str]:
    """A value for each of SECRETS, from the operating system's random source."""
    key_id = f"audit-{today:%Y%m%d}"
    signing = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    made = {
        "GOV_SHARE_AUDIT_KEY_ID": key_id,
        "GOV_SHARE_AUDIT_KEYS": json.dumps({key_id: secrets.token_hex(32)}),
        "GOV_SHARE_AUDIT_SIGNING_KEY": signing.hex(),
        "GOV_SHARE_CURSOR_KEY": secrets.token_hex(16),
    }
    assert tuple(made) == SECRETS
    return made


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m platform_setup")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("keys", help="print fresh secrets as shell export lines")
    parser.parse_args(argv)
    print(
        "# gov-share secrets: keep them out of logs and version control. When you replace "
        "the audit key, keep the old one in GOV_SHARE_AUDIT_KEYS (old records are hashed "
        "with it); give auditors `python -m audit public-key`."
    )
    for name, value in fresh_secrets(datetime.datetime.now(datetime.UTC).date()).items():
        print(f"export {name}={shlex.quote(value)}")
    return 0
