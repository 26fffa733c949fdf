"""What a registered document saves the server: a call by hash against the same text sent
in full and against a text no request sent before, in server CPU per request.

    uv run --frozen python bench/persisted.py [--quick] [--n 1,100] [--concurrency 16]
        [--seconds S]

One `server.py --demo` process (bench/servers.py) on the benchmark's synthetic city
(bench/workload.py: SQLite sources in a temp dir, removed at exit), called over
loopback HTTP by httpx as the marriage registry's system. The server's own CPU (user
and system, all its threads, from /proc) is read around each turn, so the client's
work beside it is not counted. Variants, the same query (bench/workload.py) at each N:
  persisted   the hash alone (Apollo's `extensions.persistedQuery`), the document
              registered before timing by sending it once with its text
  text        the same text in full, as a client without persisted queries sends it
  miss        the text behind a comment no other request has (`# 17`): nothing about
              it is known, so it is hashed, parsed, validated, planned and decided anew
The ratios are against the text call measured in the same run: this machine is shared,
and its absolute times drift between runs. The persisted call should cost the server
less than the text call in every cell; the exit status is 1 when it does not (a
`--quick` smoke run is too short to judge, so it exits 0 unless it broke).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import asyncio
import gc
import hashlib
import itertools
import json
import platform
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx

from auth import demo_key
from bench.measure import Budget, Stats, measure
from bench.options import budget, timing_parser
from bench.servers import Server, demo_server
from bench.workload import (
    PURPOSE,
    SCALE,
    SEED,
    SYSTEM,
    async_urls,
    generated,
    query,
    query_one_line,
)

QUICK = Budget(seconds=1.0, warmup=16, min_requests=4, rounds=2)
FULL = Budget(seconds=12.0, warmup=32, min_requests=20, rounds=4)
VARIANTS = ("persisted", "text", "miss")
Json = dict[str, Any]


class Call:
    """One way of sending the benchmark's query: `body(n)` is what is posted."""

    statements = 0
    """The sources are read in the server process: not counted from here."""

    def __init__(self, name: str, client: httpx.AsyncClient, body: Callable[[int], Json]) -> None:
        self.name = name
        self.client = client
        self.body = body

    async def run(self, n: int) -> Json:
        response = await self.client.post("/graphql", json=self.body(n))
        answer = response.json()
        if response.status_code != 200 or "errors" in answer:
            raise RuntimeError(f"{self.name} failed: {response.status_code} {answer}")
        data: Json = answer["data"]
        return data

    async def close(self) -> None:
        return None


def persisted_query(text: str) -> Json:
    """Apollo's `extensions` naming `text` by its SHA-256."""
    sha256 = hashlib.sha256(text.encode()).hexdigest()
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256}}


def calls(client: httpx.AsyncClient) -> dict[str, Call]:
    unseen = itertools.count()
    return {
        "persisted": Call("persisted", client, lambda n: {"extensions": persisted_query(query(n))}),
        "text": Call("text", client, lambda n: {"query": query(n)}),
        "miss": Call("miss", client, lambda n: {"query": f"# {next(unseen)}\n{query(n)}"}),
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    with tempfile.TemporaryDirectory(prefix="gov-share-persisted-bench-") as directory:
        return asyncio.run(_bench(args, Path(directory)))


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = timing_parser(
        __doc__, n=(1, 100), n_help="enterprises(first: N)", concurrency=(16,), full=FULL
    )
    args = parser.parse_args(argv)
    args.budget = budget(args, quick=QUICK, full=FULL)
    return args


async def _bench(args: argparse.Namespace, directory: Path) -> int:
    started = time.perf_counter()
    paths, _ = await generated(directory / "sources")
    env = {"GOV_SHARE_DATA_DIR": str(directory / "platform")}
    env["GOV_SHARE_SOURCES"] = json.dumps(async_urls(paths))
    headers = {
        "Accept": "application/graphql-response+json",
        "Authorization": f"Bearer {demo_key(SEED, SYSTEM)}",
        "X-Purpose": PURPOSE,
    }
    async with (
        demo_server(env, directory / "platform") as server,
        httpx.AsyncClient(base_url=server.base, headers=headers, timeout=60) as client,
    ):
        variants = calls(client)
        _header(args)
        await _registered_and_same(client, variants, args.n)
        results: dict[tuple[str, int, int], Stats] = {}
        for n in args.n:
            for concurrency in args.concurrency:
                gc.collect()
                cell = await measure(
                    variants, n, concurrency, args.budget, palindrome=True, cpu=server.cpu_seconds
                )
                for key, stats in cell.items():
                    results[(key, n, concurrency)] = stats
                _progress(server, n, concurrency, cell)
    cheaper = _table(results, args.n, args.concurrency)
    print(f"\ntotal wall time {time.perf_counter() - started:.0f} s")
    return 0 if cheaper or args.quick else 1


async def _registered_and_same(
    client: httpx.AsyncClient, variants: Mapping[str, Call], ns: Sequence[int]
) -> None:
    """Each N's document registered (hash and text, as Apollo Client's second request),
    then every variant checked to answer the same N rows before any is timed."""
    for n in ns:
        registered = await client.post(
            "/graphql", json={"query": query(n), "extensions": persisted_query(query(n))}
        )
        if registered.status_code != 200:
            raise RuntimeError(f"N={n}: the document was not registered: {registered.text}")
        answers = {key: json.dumps(await call.run(n)) for key, call in variants.items()}
        if len(set(answers.values())) != 1:
            raise RuntimeError(f"N={n}: the variants answer differently")
        if len(json.loads(answers["text"])["enterprises"]["edges"]) != n:
            raise RuntimeError(f"N={n}: the data has fewer than N enterprises")
        print(f"checked N={n}: {', '.join(variants)} return identical data", flush=True)


def _header(args: argparse.Namespace) -> None:
    budget = args.budget
    print("gov-share benchmark: a registered document called by hash, its text, a text unseen")
    print(f"query (N = {', '.join(map(str, args.n))}):  {query_one_line('N')}")
    print(
        f"caller: demo system {SYSTEM}, X-Purpose: {PURPOSE}; data: synthetic SQLite,"
        f" {SCALE.persons} persons, {SCALE.enterprises} enterprises"
    )
    print(
        f"host: Python {platform.python_version()}; one server process, loopback HTTP;"
        f" per variant and cell: warm-up {budget.warmup} requests, then {budget.seconds:g} s"
        f" and at least {budget.min_requests} requests, closed loop, in {budget.rounds}"
        " turns, the variants in order and then in reverse order",
        flush=True,
    )


def _progress(server: Server, n: int, concurrency: int, cell: Mapping[str, Stats]) -> None:
    rates = ", ".join(f"{key} {stats.rate:.1f}" for key, stats in cell.items())
    print(f"  measured N={n:<4} c={concurrency:<3} req/s: {rates} ({server.base})", file=sys.stderr)


def _table(
    results: Mapping[tuple[str, int, int], Stats], ns: Sequence[int], concurrencies: Sequence[int]
) -> bool:
    """Prints the figures; whether the persisted call cost the server less CPU per
    request than the text call in every cell."""
    print(
        f"\n{'N':>5} {'conc':>4}  {'variant':<10} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}"
        f" {'server CPU ms/req':>18} {'CPU / text':>10} {'requests':>8}"
    )
    cheaper = True
    for n in ns:
        for concurrency in concurrencies:
            text = results[("text", n, concurrency)]
            for key in VARIANTS:
                stats = results[(key, n, concurrency)]
                ratio = stats.cpu_per_request / text.cpu_per_request
                print(
                    f"{n:>5} {concurrency:>4}  {key:<10} {stats.rate:8.1f}"
                    f" {stats.percentile(50):8.2f} {stats.percentile(99):8.2f}"
                    f" {stats.cpu_per_request:18.3f} {ratio:10.3f} {stats.requests:>8}"
                )
            persisted = results[("persisted", n, concurrency)]
            cheaper &= persisted.cpu_per_request < text.cpu_per_request
            print()
    print(
        "persisted call cheaper in server CPU per request than the text call in every cell:"
        f" {'yes' if cheaper else 'NO'}"
    )
    return cheaper


if __name__ == "__main__":
    sys.exit(main())
