"""Art. 12's figures as CSV, for the coordination office's evaluation of sharing work:
per provider (answer times in working hours, answered in time, refusals, overdue) or
per consumer (approvals used and never used, from the audit log).

    python -m applications figures providers
    python -m applications figures consumers

Exit status: 0 printed, 2 cannot take it (a setting or the store).
"""

from __future__ import annotations

import argparse
import csv
import datetime
import io
import sys
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncEngine

from applications.figures import provider_figures
from applications.store import ApplicationStore
from applications.usage import consumer_figures
from grants import GrantStore
from settings import Settings
from store.command_line import run_on_store
from workdays import load_calendar

PROVIDER_COLUMNS = (
    "provider_code",
    "applications",
    "answered",
    "median_answer_working_hours",
    "p90_answer_working_hours",
    "answered_in_time",
    "refusals",
    "overdue",
)
CONSUMER_COLUMNS = ("consumer_department", "approvals", "used", "never_used")


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)

    async def run(settings: Settings, engine: AsyncEngine) -> int:
        calendar = load_calendar(settings.calendar_dir)
        store = ApplicationStore(engine, GrantStore(engine), calendar)
        applications = await store.listed()
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        if arguments.who == "providers":
            writer.writerow(PROVIDER_COLUMNS)
            now = datetime.datetime.now(datetime.UTC)
            for found in provider_figures(applications, calendar, now):
                writer.writerow([_cell(getattr(found, column)) for column in _fields()])
        else:
            writer.writerow(CONSUMER_COLUMNS)
            for used in await consumer_figures(engine, applications):
                writer.writerow(
                    [used.consumer_department, used.approvals, used.used, used.never_used]
                )
        sys.stdout.write(out.getvalue())
        return 0

    return run_on_store("applications", run)


def _fields() -> tuple[str, ...]:
    renamed = {
        "median_answer_working_hours": "median_answer_hours",
        "p90_answer_working_hours": "p90_answer_hours",
    }
    return tuple(renamed.get(column, column) for column in PROVIDER_COLUMNS)


def _cell(value: object) -> object:
    """Empty for no value (no answers yet); shares and hours rounded for a reader."""
    if value is None:
        return ""
    return round(value, 3) if isinstance(value, float) else value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m applications", description=__doc__)
    verbs = parser.add_subparsers(dest="verb", required=True)
    figures = verbs.add_parser("figures", help="Art. 12's figures as CSV")
    figures.add_argument("who", choices=("providers", "consumers"))
    return parser


if __name__ == "__main__":
    sys.exit(main())
