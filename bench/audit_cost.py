"""The audit log's cost: end-to-end throughput with the log on and off, and the bytes
it stores per request.

    uv run --frozen python bench/audit_cost.py [--quick] [--seconds S] [--n 1,100]
        [--concurrency 16] [--stores sqlite,postgresql] [--size-n 1,100,1000]
        [--size-requests K] [--pg-admin URL]

A script of its own; `bench/run.py` is unchanged. Variants, on one running app:
  log on   (d) end-to-end: create_app(settings) via httpx.ASGITransport, with the
           platform's AuditLog (SM3 hash chain, group commit; SQLite in WAL with
           synchronous=FULL)
  log off  the same, with `app.state.platform.audit` replaced after start-up by a
           bench-only writer that stores nothing (bench/audit_switch.py)
for each platform store: SQLite in the temp dir, and PostgreSQL in a database made for
the run (`gsbench_<random>`, dropped afterwards with its audit roles; bench/pgstore.py).
Department sources are SQLite files generated into the temp dir, as in bench/run.py.

Target (issue "Accountability log, part 1", point 6): log-on throughput at least 0.85
of log-off, N = 1 and 100, concurrency 16, on both stores. Then bytes stored per
request at N = 1, 100, 1000 (bench/audit_size.py), measured on each store while it is
fresh, before the throughput cells. Exit status 0 when every cell passes; a `--quick`
smoke run is too short to judge, so it exits 0 unless it broke.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import asyncio
import contextlib
import gc
import json
import tempfile
import time
from collections.abc import AsyncIterator, Sequence

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.ext.asyncio import AsyncEngine

from audit import verify
from bench.audit_report import Cell, Report, header, sizes_table, throughput_table
from bench.audit_size import growth
from bench.audit_switch import AuditSwitch, log_on_and_off, restore
from bench.governed import Running
from bench.measure import Budget, measure
from bench.options import budget, positive_ints, timing_parser
from bench.pgstore import ADMIN_URL, temporary_store
from bench.workload import generated

STORES = ("sqlite", "postgresql")
QUICK = Budget(seconds=1.0, warmup=16, min_requests=4, rounds=2)
FULL = Budget(seconds=12.0, warmup=32, min_requests=20, rounds=4)


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    with tempfile.TemporaryDirectory(prefix="gov-share-audit-bench-") as directory:
        return asyncio.run(_bench(args, Path(directory)))


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = timing_parser(
        __doc__, n=(1, 100), n_help="N of the timed cells", concurrency=(16,), full=FULL
    )
    parser.add_argument("--stores", type=_stores, default=STORES, help="sqlite,postgresql")
    parser.add_argument(
        "--size-n", type=positive_ints, default=(1, 100, 1000), help="N of the sizes"
    )
    parser.add_argument("--size-requests", type=int, help="requests per size (default 100)")
    parser.add_argument("--pg-admin", default=ADMIN_URL, help="PostgreSQL admin connection")
    args = parser.parse_args(argv)
    args.budget = budget(args, quick=QUICK, full=FULL)
    if args.size_requests is None:
        args.size_requests = 10 if args.quick else 100
    return args


def _stores(text: str) -> tuple[str, ...]:
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    if not names or set(names) - set(STORES):
        raise argparse.ArgumentTypeError(f"a comma-separated list of {', '.join(STORES)}")
    return names


async def _bench(args: argparse.Namespace, directory: Path) -> int:
    started = time.perf_counter()
    paths, _ = await generated(directory / "sources")
    header(args)
    report = Report()
    for store in args.stores:
        if store == "postgresql" and (unreachable := await _unreachable(args.pg_admin)):
            report.skipped.append(f"{store}: {unreachable}")
            continue
        async with _platform(store, paths, directory, args.pg_admin, report) as running:
            await _store_run(args, store, running, report)
    sizes_table(report.sizes)
    verdict = throughput_table(report, args)
    for note in report.notes:
        print(note)
    print(f"\ntotal wall time {time.perf_counter() - started:.0f} s")
    # A smoke run is too short to judge a ratio: it fails only when it broke.
    return 0 if verdict == "PASS" or args.quick else 1


@contextlib.asynccontextmanager
async def _platform(
    store: str, paths: dict[str, Path], directory: Path, admin_url: str, report: Report
) -> AsyncIterator[Running]:
    """The platform started on `store`: SQLite in the temp dir, or PostgreSQL in a
    database made for the run and dropped after it."""
    async with contextlib.AsyncExitStack() as stack:
        settings: dict[str, str] = {}
        if store == "postgresql":
            made = await stack.enter_async_context(temporary_store(admin_url))
            report.notes.append(
                f"postgresql: store in database {made.database} (dropped), roles"
                f" {made.role_prefix}_* (dropped); {await _pg_settings(admin_url)}"
            )
            settings = {"platform_store_url": made.url, "audit_role_prefix": made.role_prefix}
        running = Running(paths, directory / f"platform-{store}", **settings)
        await running.start()
        try:
            yield running
        finally:
            await running.close()


async def _store_run(
    args: argparse.Namespace, store: str, running: Running, report: Report
) -> None:
    on, off = log_on_and_off(running)
    try:
        await _same_answers(on, off, sorted({*args.n, *args.size_n}))
        for n in args.size_n:
            size = await growth(on, store, n, args.size_requests)
            report.sizes.append(size)
            print(
                f"  sized    {store:<10} N={n:<5} {size.indexed:10.0f} B/request"
                f" (table and indexes)",
                file=sys.stderr,
            )
        gc.collect()
        gc.freeze()  # as the server does after start-up: set-up objects stay out of GC passes
        engine = running.platform.store
        rows, sent = await _rows(engine), on.sent
        for n in args.n:
            for concurrency in args.concurrency:
                cell = await measure(
                    {"on": on, "off": off}, n, concurrency, args.budget, palindrome=True
                )
                report.cells.append(Cell(store, n, concurrency, cell["on"], cell["off"]))
                print(
                    f"  measured {store:<10} N={n:<5} c={concurrency:<3} on"
                    f" {cell['on'].rate:8.1f} req/s, off {cell['off'].rate:8.1f} req/s",
                    file=sys.stderr,
                )
        stored = await _rows(engine) - rows
        if stored != on.sent - sent:
            raise RuntimeError(
                f"{store}: {on.sent - sent} log-on requests stored {stored} audit records"
            )
        verification = await verify(engine)
        if not verification.ok:
            raise RuntimeError(str(verification))
        report.notes.append(
            f"{store}: log on stored {stored} records in the timed cells ({on.sent - sent}"
            f" requests; log off sent {off.sent}, stored none); chain verified intact,"
            f" {verification.records} records"
        )
    finally:
        restore(on)
        gc.unfreeze()


async def _same_answers(on: AuditSwitch, off: AuditSwitch, ns: Sequence[int]) -> None:
    for n in ns:
        first, second = await on.run(n), await off.run(n)
        if json.dumps(first) != json.dumps(second) or len(first["enterprises"]["edges"]) != n:
            raise RuntimeError(f"N={n}: log on and log off answer differently, or not N rows")


async def _rows(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        count = await connection.exec_driver_sql("SELECT count(*) FROM audit_records")
        return int(count.scalar_one())


async def _unreachable(admin_url: str) -> str | None:
    try:
        admin = await asyncpg.connect(admin_url)
    except (OSError, asyncpg.PostgresError) as error:
        return f"not reachable at {admin_url} ({type(error).__name__}: {error})"
    await admin.close()
    return None


async def _pg_settings(admin_url: str) -> str:
    admin = await asyncpg.connect(admin_url)
    try:
        version = await admin.fetchval("SHOW server_version")
        names = ("fsync", "synchronous_commit", "wal_sync_method")
        values = [f"{name}={await admin.fetchval(f'SHOW {name}')}" for name in names]
    finally:
        await admin.close()
    return f"PostgreSQL {version}, {', '.join(values)}"


if __name__ == "__main__":
    sys.exit(main())
