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
import os
import platform
import sqlite3
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.ext.asyncio import AsyncEngine

from audit import verify
from bench.audit_size import Growth, growth
from bench.audit_switch import AuditSwitch, log_on_and_off, restore
from bench.governed import Running
from bench.measure import Budget, Stats, measure, positive_ints
from bench.pgstore import ADMIN_URL, temporary_store
from bench.workload import DEPARTMENT, PURPOSE, SCALE, SYSTEM, generate, query_one_line
from catalog import load_catalog
from settings import ROOT

TARGET = 0.85
STORES = ("sqlite", "postgresql")


@dataclass(frozen=True)
class Cell:
    store: str
    n: int
    concurrency: int
    on: Stats
    off: Stats

    @property
    def ratio(self) -> float:
        return self.on.rate / self.off.rate


@dataclass
class Report:
    cells: list[Cell] = field(default_factory=list)
    sizes: list[Growth] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    with tempfile.TemporaryDirectory(prefix="gov-share-audit-bench-") as directory:
        return asyncio.run(_bench(args, Path(directory)))


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--n", type=positive_ints, default=(1, 100), help="N of the timed cells")
    parser.add_argument("--concurrency", type=positive_ints, default=(16,), help="asyncio tasks")
    parser.add_argument(
        "--seconds", type=float, help="timed seconds per variant and cell (default 12)"
    )
    parser.add_argument("--stores", type=_stores, default=STORES, help="sqlite,postgresql")
    parser.add_argument(
        "--size-n", type=positive_ints, default=(1, 100, 1000), help="N of the sizes"
    )
    parser.add_argument("--size-requests", type=int, help="requests per size (default 100)")
    parser.add_argument("--pg-admin", default=ADMIN_URL, help="PostgreSQL admin connection")
    args = parser.parse_args(argv)
    seconds = args.seconds if args.seconds is not None else (1.0 if args.quick else 12.0)
    args.budget = (
        Budget(seconds=seconds, warmup=16, min_requests=4, rounds=2)
        if args.quick
        else Budget(seconds=seconds, warmup=32, min_requests=20, rounds=4)
    )
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
    catalog = load_catalog(ROOT / "catalog" / "departments")
    paths, _ = await asyncio.to_thread(generate, catalog, directory / "sources")
    _header(args)
    report = Report()
    for store in args.stores:
        if store == "postgresql" and (unreachable := await _unreachable(args.pg_admin)):
            report.skipped.append(f"{store}: {unreachable}")
            continue
        async with _platform(store, paths, directory, args.pg_admin, report) as running:
            await _store_run(args, store, running, report)
    _sizes_table(report.sizes)
    verdict = _throughput_table(report, args)
    for note in report.notes:
        print(note)
    print(f"\ntotal wall time {time.perf_counter() - started:.0f} s")
    # A smoke run is too short to judge a ratio: it fails only when it broke.
    return 0 if verdict == "PASS" or args.quick else 1


@contextlib.asynccontextmanager
async def _platform(
    store: str, paths: dict[str, Path], directory: Path, admin_url: str, report: Report
) -> AsyncIterator[Running]:
    if store == "sqlite":
        running = Running(paths, directory / "platform-sqlite")
        await running.start()
        try:
            yield running
        finally:
            await running.close()
        return
    async with temporary_store(admin_url) as made:
        report.notes.append(
            f"postgresql: store in database {made.database} (dropped), roles"
            f" {made.role_prefix}_* (dropped); {await _pg_settings(admin_url)}"
        )
        running = Running(
            paths,
            directory / "platform-postgresql",
            platform_store_url=made.url,
            audit_role_prefix=made.role_prefix,
        )
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


def _header(args: argparse.Namespace) -> None:
    print("gov-share benchmark: the audit log's cost, log on vs log off, in the same run")
    print(f"query:  {query_one_line('N')}")
    print(f"caller: demo system {SYSTEM} ({DEPARTMENT}), X-Purpose: {PURPOSE}")
    print(
        f"sources: synthetic SQLite, {SCALE.persons} persons, {SCALE.enterprises} enterprises"
        f" (SQLite {sqlite3.sqlite_version}); platform stores: {', '.join(args.stores)}"
    )
    print(
        "log on:  (d) end-to-end via httpx.ASGITransport, the platform's AuditLog"
        " (SM3 chain, group commit; SQLite WAL, synchronous=FULL)"
    )
    print("log off: the same app, audit writer replaced by a bench-only one storing nothing")
    budget = args.budget
    print(
        f"host: Python {platform.python_version()}, {os.cpu_count()} CPUs, temp dir on"
        f" {tempfile.gettempdir()}; per variant and cell: warm-up {budget.warmup} requests,"
        f" then {budget.seconds:g} s and at least {budget.min_requests} requests, closed loop,"
        f" in {budget.rounds} turns each, alternating on/off, off/on"
    )
    print(f"sizes: {args.size_requests} requests per N, one at a time, on each store while fresh")


def _sizes_table(sizes: Sequence[Growth]) -> None:
    print("\nbytes stored per request (audit_records; log on, concurrency 1)")
    print(
        f"{'store':<10} {'N':>5} {'requests':>8} {'table B':>10} {'+indexes B':>11}"
        f" {'fields JSON':>11} {'stored':>7} {'records JSON':>12} {'stored':>7}  method"
    )
    for size in sizes:
        print(
            f"{size.store:<10} {size.n:>5} {size.requests:>8} {size.table:>10.0f}"
            f" {size.indexed:>11.0f} {size.fields:>11.0f} {size.fields_stored:>7.0f}"
            f" {size.records:>12.0f} {size.records_stored:>7.0f}  {size.method}"
        )
    print(
        "  table: SQLite b-tree with overflow pages / PostgreSQL heap and TOAST;"
        " +indexes: with its indexes\n  (both grow by whole pages: error at most a page"
        " over the requests, 4 KiB SQLite, 8 KiB PostgreSQL)\n"
        "  JSON: average bytes per request as text; stored: pg_column_size (after"
        " compression) on PostgreSQL, the text itself on SQLite"
    )


def _throughput_table(report: Report, args: argparse.Namespace) -> str:
    print(f"\nthroughput, log on vs log off (target: on/off >= {TARGET})")
    print(
        f"{'store':<10} {'N':>5} {'conc':>4} {'on req/s':>9} {'off req/s':>9} {'on/off':>7}"
        f" {'p50 on':>7} {'p50 off':>7} {'p99 on':>7} {'p99 off':>7}"
        f" {'store stmts/req on':>18} {'off':>4} {'CPU ms/req on':>13} {'off':>5}  verdict"
    )
    verdicts: list[bool] = []
    for cell in report.cells:
        passed = cell.ratio >= TARGET
        verdicts.append(passed)
        on, off = cell.on, cell.off
        print(
            f"{cell.store:<10} {cell.n:>5} {cell.concurrency:>4} {on.rate:>9.1f}"
            f" {off.rate:>9.1f} {cell.ratio:>7.3f} {on.percentile(50):>7.1f}"
            f" {off.percentile(50):>7.1f} {on.percentile(99):>7.1f} {off.percentile(99):>7.1f}"
            f" {_per_request(on):>18} {_per_request(off):>4} {on.cpu_per_request:>13.2f}"
            f" {off.cpu_per_request:>5.2f}  {'PASS' if passed else 'FAIL'}"
        )
    print(
        "  latencies in ms; store stmts: platform-store statements (key lookup, audit append);"
        "\n  CPU: the process's, all threads; a ratio below CPU off/on is time spent waiting"
    )
    for skipped in report.skipped:
        print(f"  not measured: {skipped}")
    wanted = len(args.stores) * len(args.n) * len(args.concurrency)
    if not all(verdicts):
        overall = "FAIL"
    elif report.skipped or len(verdicts) < wanted:
        overall = "NOT DETERMINED"
    else:
        overall = "PASS"
    print(f"  overall: {overall}")
    return overall


def _per_request(stats: Stats) -> str:
    if stats.store_statements is None:
        return "-"
    return f"{stats.store_statements / stats.requests:.2f}"


if __name__ == "__main__":
    sys.exit(main())
