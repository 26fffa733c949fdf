"""The command line of policy admins, `python -m policies <verb>`, as arguments: what
each verb takes and how a bad value is refused (exit status 2, naming the argument)."""

from __future__ import annotations

import argparse
import datetime
import re

from policies.caller import Purpose
from policies.decision import Action
from policies.outcomes import SHANGHAI

POLICY_HELP = "the policy folder (model.conf, rules/*.csv); default the settings' policy_dir"


def moment(text: str) -> datetime.datetime:
    try:
        parsed = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            "expected an ISO 8601 time such as 2026-12-01T08:00 or 2026-12-01T08:00+08:00 "
            f"(Asia/Shanghai if no zone is given), not {text!r}"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=SHANGHAI)


def pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name) or not value:
        raise argparse.ArgumentTypeError(f"expected name=value, not {text!r}")
    return name, value


def days(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value <= 3660:
        raise argparse.ArgumentTypeError(f"expected a number of days above 0, not {text!r}")
    return value


def parser() -> argparse.ArgumentParser:
    made = argparse.ArgumentParser(prog="python -m policies")
    verbs = made.add_subparsers(dest="command", required=True)
    _grant(verbs.add_parser("grant", help="record a provider's approval as a grant"))
    listing = verbs.add_parser("grants", help="list grants")
    listing.add_argument("--all", action="store_true", help="include revoked grants")
    listing.add_argument(
        "--history", action="store_true", help="every change: who, when, what, why"
    )
    revoke = verbs.add_parser("revoke", help="revoke a grant by id")
    revoke.add_argument("id", type=int)
    _accountable(revoke)
    check = verbs.add_parser("check", help="rules and grants against the catalog")
    check.add_argument("--policy", help=POLICY_HELP)
    check.add_argument("--now", type=moment, help="the time to check at; default now")
    _explain(verbs.add_parser("explain", help="why a caller gets what it gets for an item"))
    test = verbs.add_parser("test", help="run files of expected decisions (*_test.yaml)")
    test.add_argument(
        "paths", nargs="*", help="files or folders; default the shipped policies/tests"
    )
    test.add_argument("--policy", help=POLICY_HELP)
    diff = verbs.add_parser("diff", help="who gains or loses what between two rule versions")
    diff.add_argument("--from", dest="before", required=True, help="a folder or git revision")
    diff.add_argument("--to", dest="after", help="a folder or git revision; default the policy")
    diff.add_argument("--now", type=moment, help="the time to decide at; default now")
    replay = verbs.add_parser("replay", help="logged decisions, decided by a candidate policy")
    replay.add_argument("--policy", required=True, help="the candidate policy folder")
    replay.add_argument("--days", type=days, default=7.0, help="how far back (default 7)")
    replay.add_argument("--until", type=moment, help="the end of the period; default now")
    return made


def _grant(grant: argparse.ArgumentParser) -> None:
    grant.add_argument("--consumer", required=True, help="department code or '<code>/<system>'")
    grant.add_argument("--resource", required=True, help="resource id, e.g. person")
    grant.add_argument("--items", required=True, help="comma-separated item names, or '*'")
    grant.add_argument("--action", required=True, choices=[a.value for a in Action])
    grant.add_argument(
        "--purpose", required=True, action="append", choices=[p.value for p in Purpose]
    )
    grant.add_argument("--reference", required=True, help="the approval's document number")
    grant.add_argument("--scope", default="", help="rows covered: 'item=attribute[ & …]'")
    grant.add_argument("--valid-from", type=moment, help="ISO time; Asia/Shanghai if no zone")
    grant.add_argument("--valid-until", type=moment, help="ISO time, exclusive")
    grant.add_argument(
        "--force", action="store_true", help="record a grant that would cover no one yet"
    )
    _accountable(grant)


def _accountable(change: argparse.ArgumentParser) -> None:
    change.add_argument("--operator", required=True, help="who makes the change (a staff id)")
    change.add_argument("--reason", required=True, help="why, in a sentence")


def _explain(explain: argparse.ArgumentParser) -> None:
    explain.add_argument(
        "--caller", required=True, help="'public', a department code or '<code>/<system>'"
    )
    explain.add_argument(
        "--attribute", type=pair, action="append", default=[], help="the caller's, name=value"
    )
    explain.add_argument("--item", required=True, help="resource.item, e.g. person.phone")
    explain.add_argument("--purpose", choices=[p.value for p in Purpose])
    explain.add_argument("--action", choices=["read", "verify"], default="read")
    explain.add_argument("--now", type=moment, help="the time asked about; default now")
    explain.add_argument(
        "--row", type=pair, action="append", default=[], help="a row's item value, name=value"
    )
    explain.add_argument("--policy", help=POLICY_HELP)
