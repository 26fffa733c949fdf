"""Manage department systems' API keys in the platform store.

    python -m auth register --department CODE --department-name NAME --system ID
                            --system-name NAME [--attribute NAME=VALUE ...] [--expires WHEN]
    python -m auth keys
    python -m auth revoke ID --reason TEXT
    python -m auth rotate ID [--overlap 24h] [--expires WHEN]
    python -m auth demo-token --person NAME --department CODE --role ROLE [--role ROLE ...]

A new key is printed once, alone on stdout, and stored only as its hash. Every change
is audited with the operator who made it (`--operator`, default the OS user). Times
without a zone are Asia/Shanghai. Exit status: 0 done, 1 no such key to change,
2 refused (the reason on stderr, one line each).

`demo-token` prints a token of the demo sign-on (`auth.demo_sign_on`), for a demo
server only: a person of a demo department with the roles given, for 15 minutes.
"""

from __future__ import annotations

import argparse
import datetime
import getpass
import os
import re
import sys
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from auth.demo_sign_on import demo_token
from auth.lifecycle import (
    ApiKey,
    KeyChangeRefused,
    NoSuchKey,
    System,
    issue,
    listed,
    revoke,
    rotate,
)
from catalog import load_catalog
from errors import ConfigurationError
from policies.caller import Role
from settings import Settings, tool_settings
from store.command_line import REFUSED, run_on_store

SHANGHAI = ZoneInfo("Asia/Shanghai")
DONE, NO_SUCH_KEY = 0, 1
_DURATION = re.compile(r"(\d+)([mhd])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def _attribute(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not re.fullmatch(r"[a-z][a-z0-9_]*", name) or not value:
        raise argparse.ArgumentTypeError(f"expected name=value, not {text!r}")
    return name, value


def _moment(text: str) -> datetime.datetime:
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an ISO 8601 date or time such as 2027-06-30 or 2027-06-30T18:00 "
            f"(Asia/Shanghai if no zone is given), not {text!r}"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)


def _overlap(text: str) -> datetime.timedelta:
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(
            f"expected a number of minutes, hours or days such as 30m, 24h or 7d, not {text!r}"
        )
    return datetime.timedelta(**{_UNITS[match[2]]: int(match[1])})


def default_operator() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry (a container)
        return f"uid {os.getuid()}"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m auth", description=__doc__.split("\n")[0])
    operator = argparse.ArgumentParser(add_help=False)
    operator.add_argument(
        "--operator", default=default_operator(), help="who makes the change (default: the OS user)"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    register = commands.add_parser(
        "register", parents=[operator], help="issue a key for a department system"
    )
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
    register.add_argument("--expires", type=_moment, help="when the key stops working")
    commands.add_parser("keys", help="list keys: never the keys themselves")
    revocation = commands.add_parser("revoke", parents=[operator], help="revoke a key now")
    revocation.add_argument("id", type=int)
    revocation.add_argument("--reason", required=True, help="why, for the audit log")
    rotation = commands.add_parser(
        "rotate", parents=[operator], help="issue a new key for a key's system; the old one ends"
    )
    rotation.add_argument("id", type=int)
    rotation.add_argument(
        "--overlap",
        type=_overlap,
        default=datetime.timedelta(hours=24),
        help="how long the old key keeps working, e.g. 30m, 24h (default), 7d; 0m ends it now",
    )
    rotation.add_argument("--expires", type=_moment, help="when the new key stops working")
    demo = commands.add_parser(
        "demo-token", help="print a demo sign-on token for a person (demo mode only)"
    )
    demo.add_argument("--person", required=True, help="the person's id, e.g. '审批员 王'")
    demo.add_argument("--department", required=True, help="a demo department's code")
    demo.add_argument(
        "--role",
        choices=[role.value for role in Role],
        action="append",
        default=[],
        help="a role the person holds (again for more); none: a plain user",
    )
    return parser


def _demo_token(arguments: argparse.Namespace) -> int:
    """The token on stdout; refused when the server on this data directory did not
    start in demo mode, since only a demo server trusts the demo sign-on."""
    settings = tool_settings()
    if not settings.demo:
        print(
            "python -m auth demo-token: the server on this data directory is not a demo "
            "server (python server.py --demo), and only a demo server trusts demo tokens",
            file=sys.stderr,
        )
        return REFUSED
    try:
        token = demo_token(
            settings.seed,
            person=arguments.person,
            department=arguments.department,
            roles=frozenset(Role(name) for name in arguments.role),
            claims=settings.sso_claims,
        )
    except ConfigurationError as wrong:
        print(f"python -m auth demo-token: {wrong.problem}", file=sys.stderr)
        return REFUSED
    print(token)
    return DONE


async def _run(settings: Settings, engine: AsyncEngine, arguments: argparse.Namespace) -> int:
    if arguments.command == "keys":
        _print_keys(await listed(engine))
        return DONE
    if arguments.command == "register":
        catalog = load_catalog(settings.catalog_dir)
        system = System(
            arguments.department,
            arguments.department_name,
            arguments.system,
            arguments.system_name,
            dict(arguments.attribute),
        )
        issued = await issue(
            engine,
            system,
            operator=arguments.operator,
            expires_at=arguments.expires,
            catalog_names={d.department.code: d.department.name for d in catalog.departments},
        )
        print(issued.key)
        print(f"key {issued.api_key.id} registered for {_holder(issued.api_key)}", file=sys.stderr)
        return DONE
    if arguments.command == "revoke":
        revoked = await revoke(
            engine, arguments.id, reason=arguments.reason, operator=arguments.operator
        )
        print(f"key {revoked.id} of {_holder(revoked)} revoked")
        return DONE
    issued, ended = await rotate(
        engine,
        arguments.id,
        overlap=arguments.overlap,
        operator=arguments.operator,
        expires_at=arguments.expires,
    )
    print(issued.key)
    print(
        f"key {issued.api_key.id} replaces key {ended.id} of {_holder(ended)}, "
        f"which stops working at {_local(ended.expires_at)}",
        file=sys.stderr,
    )
    return DONE


def _holder(key: ApiKey) -> str:
    return f"{key.system.department_code}/{key.system.system_id}"


def _local(moment: datetime.datetime | None) -> str:
    return moment.astimezone(SHANGHAI).isoformat(timespec="minutes") if moment else "-"


def _print_keys(keys: Sequence[ApiKey]) -> None:
    print("id\tdepartment\tsystem\tcreated\texpires\trevoked\tdemo")
    for key in keys:
        revoked = f"{_local(key.revoked_at)} {key.revoked_reason}" if key.revoked_at else "-"
        replaces = f" (replaces key {key.replaces})" if key.replaces else ""
        print(
            f"{key.id}\t{key.system.department_code} {key.system.department_name}\t"
            f"{key.system.system_id}{replaces}\t{_local(key.created_at)}\t"
            f"{_local(key.expires_at)}\t{revoked}\t{'demo' if key.demo else '-'}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    if arguments.command == "demo-token":
        return _demo_token(arguments)
    try:
        return run_on_store(
            "python -m auth", lambda settings, engine: _run(settings, engine, arguments)
        )
    except KeyChangeRefused as refused:
        for reason in refused.reasons:
            print(f"python -m auth {arguments.command}: {reason}", file=sys.stderr)
        return NO_SUCH_KEY if isinstance(refused, NoSuchKey) else REFUSED


if __name__ == "__main__":
    sys.exit(main())
