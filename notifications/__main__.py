"""The webhook deliveries, for the platform's operators: the delivery history, the
dead-letter list, and a dead delivery tried again by id (the running servers send it at
their next look).

    python -m notifications deliveries [--dead]
    python -m notifications retry ID

Exit status: 0 done, 1 no dead delivery of that id, 2 cannot take it.
"""

from __future__ import annotations

import argparse
import datetime
import sys
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncEngine

from applications import ApplicationStore
from grants import GrantStore
from notifications.outbox import DeliveryState, Outbox
from policies.outcomes import local
from policies.table import aligned
from settings import Settings
from store.command_line import run_on_store
from workdays import WorkingCalendar

HEADERS = ["id", "to", "event", "application", "state", "attempts", "last", "made", "delivered"]


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)

    async def run(settings: Settings, engine: AsyncEngine) -> int:
        applications = ApplicationStore(engine, GrantStore(engine), WorkingCalendar())
        outbox = Outbox(engine, applications, frozenset(settings.application_webhooks))
        if arguments.verb == "retry":
            if await outbox.retry(arguments.id, datetime.datetime.now(datetime.UTC)):
                print(f"delivery {arguments.id} will be tried again")
                return 0
            print(f"no dead delivery {arguments.id}", file=sys.stderr)
            return 1
        state = DeliveryState.DEAD if arguments.dead else None
        rows = [
            [
                str(d.id),
                d.recipient,
                d.event,
                str(d.application_id),
                d.state.value,
                str(d.attempts),
                d.last_error or (str(d.last_status) if d.last_status else "-"),
                local(d.created_at),
                local(d.delivered_at) if d.delivered_at else "-",
            ]
            for d in await outbox.listed(state)
        ]
        print(aligned(HEADERS, rows) if rows else "no deliveries")
        return 0

    return run_on_store("notifications", run)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m notifications", description=__doc__)
    verbs = parser.add_subparsers(dest="verb", required=True)
    listed = verbs.add_parser("deliveries", help="the delivery history")
    listed.add_argument("--dead", action="store_true", help="the dead-letter list only")
    retry = verbs.add_parser("retry", help="try a dead delivery again")
    retry.add_argument("id", type=int)
    return parser


if __name__ == "__main__":
    sys.exit(main())
