"""The auditors' answers on a big log: a subject search and a month's misuse signals on
PostgreSQL, at two or more log sizes, and how their cost grows.

    uv run --frozen python bench/audit_search.py [--sizes 250000,1000000] [--pg-admin URL]

Makes a database for the run (bench/pgstore.py, dropped afterwards), migrates it, fills
it with bench/audit_log_gen.py's busy month to the first size, times each answer (the
median of five, after one warm-up), fills on to the next size and times again, then
prints each answer's time per size and the ratio largest/smallest. An answer read
through indexes grows little with the log; one that reads every record of the month
grows with it. Target (issue 15, point 6): under a second each at 1,000,000 records.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import asyncio
import collections
import datetime
import functools
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence

from audit.search import AuditFilter, search
from audit.signals import misuse_signals
from bench.audit_log_gen import FOLLOWED, KEY, generate, subject
from bench.options import positive_ints
from bench.pgstore import ADMIN_URL, temporary_store
from settings import Settings
from store import store_engine, upgrade
from workdays.calendar import SHANGHAI, WorkingCalendar

MONTH = datetime.date(2026, 11, 1)


async def _timed(answer: Callable[[], Awaitable[object]]) -> float:
    await answer()
    times = []
    for _ in range(5):
        started = time.perf_counter()
        await answer()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


async def _bench(sizes: Sequence[int], admin_url: str) -> None:
    start = datetime.datetime.combine(MONTH, datetime.time(), SHANGHAI)
    end = datetime.datetime.combine(datetime.date(2026, 12, 1), datetime.time(), SHANGHAI)
    settings, calendar = Settings(), WorkingCalendar()
    rows: list[tuple[int, float, float, int, int]] = []
    async with temporary_store(admin_url) as store:
        await asyncio.to_thread(upgrade, store.url)
        held = 0
        for size in sizes:
            took = await generate(store.url, size - held, seed=size, month=MONTH)
            print(f"generated {size - held} records in {took:.0f} s", flush=True)
            held = size
            engine = store_engine(store.url)
            async with engine.connect() as connection:
                await connection.exec_driver_sql("ANALYZE")
            where = AuditFilter(subject=subject(FOLLOWED))
            found = await search(engine, where, [KEY], first=50)
            signals = await misuse_signals(engine, settings, calendar, start, end)
            searched = await _timed(functools.partial(search, engine, where, [KEY], first=50))
            signalled = await _timed(
                functools.partial(misuse_signals, engine, settings, calendar, start, end)
            )
            await engine.dispose()
            rows.append((size, searched, signalled, len(found.records), len(signals)))
            kinds = collections.Counter(signal.kind for signal in signals)
            print(f"  at {size}: signals by kind {dict(sorted(kinds.items()))}", flush=True)
    print("records     subject search       month's signals")
    for size, searched, signalled, found_count, signal_count in rows:
        print(
            f"{size:>9}  {searched * 1000:9.1f} ms ({found_count:>2} found)"
            f"  {signalled * 1000:9.1f} ms ({signal_count} signals)"
        )
    first, last = rows[0], rows[-1]
    print(
        f"ratio {last[0]}/{first[0]} records: search {last[1] / first[1]:.2f}, "
        f"signals {last[2] / first[2]:.2f}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=positive_ints, default=(250_000, 1_000_000))
    parser.add_argument("--pg-admin", default=ADMIN_URL, help="PostgreSQL admin connection")
    args = parser.parse_args(argv)
    asyncio.run(_bench(sorted(args.sizes), args.pg_admin))
    return 0


if __name__ == "__main__":
    sys.exit(main())
