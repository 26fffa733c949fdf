"""What the audit-cost benchmark prints: its set-up, bytes stored per request, and
throughput with the log on and off with a verdict per cell against the target.

Apart from the measuring (bench/audit_cost.py), so that the run and the reading of its
figures change for their own reasons.
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field

from bench.audit_size import Growth
from bench.measure import Stats
from bench.workload import DEPARTMENT, PURPOSE, SCALE, SYSTEM, query_one_line

TARGET = 0.85


@dataclass(frozen=True)
class Cell:
    """One (store, N, concurrency) measured with the log on and with it off."""

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
    """What a run gathers, store by store, until the tables are printed at its end."""

    cells: list[Cell] = field(default_factory=list)
    sizes: list[Growth] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def header(args: argparse.Namespace) -> None:
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


def sizes_table(sizes: Sequence[Growth]) -> None:
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


def throughput_table(report: Report, args: argparse.Namespace) -> str:
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
