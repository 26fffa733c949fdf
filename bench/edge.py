"""What the edge costs a small request: the ASGI app's work around the executor.

    uv run --frozen python bench/edge.py [--quick] [--n 1] [--concurrency 1,16] [--seconds S]

Variants, all on the same synthetic SQLite city in one process, measured in turns:
  (c) executor alone   Executor.execute: plan + decide + SQL + execution + accounting
  (d) end-to-end       the ASGI app through httpx: (c) plus everything outside
                       resolvers/ — headers, media type, key, rate limits, body,
                       dispatch, response, the audit record committed, log, metrics
  (h) HTTP floor       the same httpx client and ASGI transport to a bare ASGI app that
                       answers (d)'s body: what the client side of (d) costs

The edge's own cost per request is then d - c - h, in CPU milliseconds of the process
(every thread: the audit writer's too) and in wall time; its ratio to (c) is the
figure issue 17 cares about at N=1, where the edge is most of a request. Uvicorn's
HTTP parsing and event loop are not in it (the ASGI transport has none): the
side-by-side script measures those.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import asyncio
import gc
import json
import tempfile
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from bench.governed import GovernedEndToEnd, GovernedInProcess, Json, Running
from bench.measure import Budget, Stats, Variant, measure
from bench.options import budget, timing_parser
from bench.workload import PURPOSE, SYSTEM, generated, query_one_line

QUICK = Budget(seconds=1.0, warmup=20, min_requests=20, rounds=2)
FULL = Budget(seconds=8.0, warmup=200, min_requests=200, rounds=4)
Results = dict[tuple[str, int, int], Stats]


class HttpFloor:
    """httpx through its ASGI transport to an app that only answers a fixed body."""

    name = "(h) HTTP floor"
    statements = 0

    def __init__(self, body: bytes) -> None:
        async def app(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                return
            while (await receive()).get("more_body"):
                pass
            headers = [(b"content-type", b"application/json"), (b"x-request-id", b"0" * 36)]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        transport = httpx.ASGITransport(app=app, client=("10.1.2.3", 50000))
        self.client = httpx.AsyncClient(transport=transport, base_url="http://floor")
        self.headers = {"Accept": "application/json", "Authorization": "Bearer x"}

    async def run(self, n: int) -> Json:
        response = await self.client.post(
            "/graphql", json={"query": query_one_line(n)}, headers=self.headers
        )
        data: Json = response.json()["data"]
        return data

    async def close(self) -> None:
        await self.client.aclose()


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    with tempfile.TemporaryDirectory(prefix="gov-share-bench-edge-") as directory:
        return asyncio.run(_bench(args, Path(directory)))


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = timing_parser(
        __doc__, n=(1,), n_help="enterprises(first: N)", concurrency=(1, 16), full=FULL
    )
    args = parser.parse_args(argv)
    args.budget = budget(args, quick=QUICK, full=FULL)
    return args


async def _bench(args: argparse.Namespace, directory: Path) -> int:
    paths, _ = await generated(directory / "sources")
    running = Running(paths, directory / "platform")
    await running.start()
    governed = GovernedEndToEnd(running)
    variants: dict[str, Variant] = {"c": GovernedInProcess(running), "d": governed}
    try:
        for n in args.n:
            answers = {key: await variant.run(n) for key, variant in variants.items()}
            if answers["c"] != answers["d"]:
                print(f"N={n}: (c) and (d) differ", file=sys.stderr)
                return 2
            print(f"checked N={n}: (c) and (d) return identical data")
        # The floor answers what (d) answers, byte for byte in size.
        body = json.dumps({"data": answers["d"], "extensions": {"requestId": "0" * 36}})
        variants["h"] = HttpFloor(body.encode())
        _header(args)
        gc.collect()
        gc.freeze()  # as the server does after start-up
        results: Results = {}
        for n in args.n:
            for concurrency in args.concurrency:
                cell = await measure(variants, n, concurrency, args.budget, palindrome=True)
                results.update({(key, n, concurrency): stats for key, stats in cell.items()})
        _table(results, variants, args.n, args.concurrency)
        return 0
    finally:
        for variant in variants.values():
            await variant.close()
        await running.close()


def _header(args: argparse.Namespace) -> None:
    print("gov-share benchmark: the edge's cost per request, measured in the same run")
    print(f"query (N = {', '.join(map(str, args.n))}):  {query_one_line('N')}")
    print(f"caller: demo system {SYSTEM}, X-Purpose: {PURPOSE}; synthetic SQLite city")
    print(__doc__.split("\n\n")[2])
    b = args.budget
    print(
        f"per variant and cell: warm-up {b.warmup} requests, then {b.seconds:g} s and at"
        f" least {b.min_requests} requests, closed loop, in {b.rounds} turns (c d h, h d c, ...)"
    )


def _table(
    results: Results, variants: Mapping[str, Variant], ns: Sequence[int], conc: Sequence[int]
) -> None:
    print(
        f"\n{'N':>4} {'conc':>4}  {'variant':<20} {'req/s':>8} {'p50 ms':>7}"
        f" {'CPU ms/req':>10} {'requests':>8}"
    )
    for n in ns:
        for concurrency in conc:
            for key, variant in variants.items():
                s = results[(key, n, concurrency)]
                print(
                    f"{n:>4} {concurrency:>4}  {variant.name:<20} {s.rate:8.1f}"
                    f" {s.percentile(50):7.2f} {s.cpu_per_request:10.3f} {s.requests:>8}"
                )
            c, d, h = (results[(key, n, concurrency)] for key in "cdh")
            edge_cpu = d.cpu_per_request - c.cpu_per_request - h.cpu_per_request
            edge_wall = 1000 / d.rate - 1000 / c.rate - 1000 / h.rate
            print(
                f"{'':>11}edge = d - c - h: {edge_cpu:.3f} CPU ms/req, {edge_wall:.3f} wall ms/req;"
                f" edge/c {edge_cpu / c.cpu_per_request:.2f} (CPU),"
                f" {edge_wall * c.rate / 1000:.2f} (wall);"
                f" d/c {d.cpu_per_request / c.cpu_per_request:.2f} (CPU)\n"
            )


if __name__ == "__main__":
    sys.exit(main())
