"""Decisions at any number of grants: a cold and a cached decision, a grant made or
revoked, and the decision layer's share of a request, with 100,000 grants in the store.

    uv run --frozen python bench/decisions.py [--quick] [--grants N]

The platform store (SQLite, in a temp dir removed at exit) is filled with N synthetic
grants for 2,000 synthetic consumer departments and their systems, over every
conditional item, with purposes, scopes and windows drawn from a fixed seed; the
benchmark's caller (the demo marriage registry) holds a few of them. Every figure
comes with a baseline measured in the same run:

  decisions   the rule index, cold (a fresh cache) and cached, against pycasbin's
              `enforce_ex` on the same rules (the reference model, which served
              decisions before the index: it scans every rule)
  grants      one grant made or revoked, followed by `PolicySource.reload()`, against
              a reload that reads every grant again (a restart's load)
  requests    `Executor.execute` of the workload query (bench/workload.py) at N = 1 and
              100, concurrency 16: the time spent deciding (planning aside: every
              decision, what may be read after them, and finding or keeping what
              was decided) over the wall time, steady
              (the same caller again: what was decided is remembered) and cold (each
              request from another consumer system: none of its decisions was made
              before, the worst case, as just after a grant starts or ends)
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import asyncio
import datetime
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.governed import Running
from bench.workload import DEPARTMENT, PURPOSE, SYSTEM, generate, query
from catalog import Catalog, DataItem, Resource, ShareType, load_catalog
from grants import Grant, GrantStore, PolicySource
from policies import Caller, Purpose, SharingPolicy
from policies.decision import Action
from policies.rule import instant
from resolvers import GraphQLRequest
from settings import ROOT
from store import store_engine, upgrade
from store.tables import grants as grants_table

SEED = 20201
CONSUMERS = 2000
SCOPE = "township=township"
BY = {"operator": "bench", "reason": "the cost of one grant change"}
Request = tuple[Caller, Resource, DataItem, Purpose]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--grants", type=int, default=100_000, help="grants in the store")
    parser.add_argument("--quick", action="store_true", help="fewer samples, for a smoke run")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="gov-share-decisions-") as directory:
        asyncio.run(_bench(args, Path(directory)))
    return 0


async def _bench(args: argparse.Namespace, directory: Path) -> None:
    started = time.perf_counter()
    catalog = load_catalog(ROOT / "catalog" / "departments")
    store_url = f"sqlite+aiosqlite:///{directory / 'platform.db'}"
    await asyncio.to_thread(upgrade, store_url)
    engine = store_engine(store_url)
    draw = random.Random(SEED)
    await _fill(engine, catalog, args.grants, draw)
    print(f"gov-share decisions: {args.grants:,} grants for {CONSUMERS:,} consumer departments")

    loading = time.perf_counter()
    source = await _load(catalog, GrantStore(engine))
    full_reload = time.perf_counter() - loading
    policy = source.current.policy
    print(f"rules in force: {len(policy.rules.rules):,}; a full load took {full_reload:.2f} s\n")

    samples = 300 if args.quick else 3000
    await _decisions(policy, catalog, draw, samples)
    await _grant_changes(source, GrantStore(engine), catalog, full_reload, 3 if args.quick else 10)
    await engine.dispose()
    await _requests(directory, catalog, store_url, 1.0 if args.quick else 4.0)
    print(f"\ntotal wall time {time.perf_counter() - started:.0f} s")


async def _fill(engine: AsyncEngine, catalog: Catalog, count: int, draw: random.Random) -> None:
    """`count` grants, written in one transaction (the benchmark's set-up, not timed):
    first one per consumer, for the legal representative the workload query joins to,
    then the rest drawn at random."""
    now = datetime.datetime.now(datetime.UTC)
    conditional = [
        (resource, item)
        for resource in catalog.resources.values()
        for item in resource.items
        if item.share_type is ShareType.CONDITIONAL
    ]
    enterprise = catalog.resources["enterprise"]
    ours = [(enterprise, item) for r, item in conditional if r is enterprise]
    joined = enterprise.item("legalRepIdNumber")
    rows = []
    for number in range(count):
        consumer = _department(draw.randrange(CONSUMERS))
        if draw.random() < 0.3:
            consumer = f"{consumer}/system-{draw.randrange(3)}"
        resource, item = draw.choice(conditional)
        actions = [Action.READ_CLEAR, Action.VERIFY] + ([Action.READ_MASKED] if item.mask else [])
        action = draw.choice(actions)
        if number < CONSUMERS:  # every consumer may follow an enterprise to its legal rep
            consumer, resource, item = _department(number), enterprise, joined
            action = Action.READ_CLEAR
        elif number % 10_000 == 0 and ours:  # a few for the benchmark's own caller
            consumer, (resource, item) = DEPARTMENT, draw.choice(ours)
        scoped = resource.id == "person" and action is not Action.READ_MASKED
        hours = draw.choice([None, None, -24, 24 * 30]) if number >= CONSUMERS else None
        rows.append(
            {
                "consumer": consumer,
                "resource_id": resource.id,
                "items": [item.name],
                "action": action.value,
                "purposes": [p.value for p in draw.sample(list(Purpose), draw.randint(1, 2))]
                if number >= CONSUMERS
                else [PURPOSE],
                "scope": SCOPE if scoped and draw.random() < 0.2 else "",
                "valid_from": None,
                "valid_until": None if hours is None else now + datetime.timedelta(hours=hours),
                "reference": f"bench-{number}",
                "created_at": now,
                "changed_at": now,
            }
        )
    async with engine.begin() as connection:
        await connection.execute(sa.insert(grants_table), rows)


def _department(number: int) -> str:
    return f"91410581MA{number:08d}"


async def _load(catalog: Catalog, grants: GrantStore) -> PolicySource[None]:
    return await PolicySource.load(
        catalog,
        catalog_dir=ROOT / "catalog" / "departments",
        policy_dir=ROOT / "policies",
        grants=grants,
        serve=lambda _: None,
    )


async def _decisions(
    policy: SharingPolicy, catalog: Catalog, draw: random.Random, samples: int
) -> None:
    now = datetime.datetime.now(datetime.UTC)
    items = [(r, i) for r in catalog.resources.values() for i in r.items]
    requests: list[Request] = []
    for _ in range(samples):
        department = _department(draw.randrange(CONSUMERS))
        caller = Caller(department, "bench", f"system-{draw.randrange(3)}")
        resource, item = draw.choice(items)
        requests.append((caller, resource, item, draw.choice(list(Purpose))))
    fresh = SharingPolicy(policy.catalog, policy.rules, policy.version)
    moment = instant(now)

    def decide(request: Request) -> object:
        return fresh.decide(*request, now)

    def asked(ask: Callable[..., object]) -> Callable[[Request], object]:
        """The model's own question for a request: the reference's and the index's."""

        def each(request: Request) -> object:
            caller, resource, item, purpose = request
            obj = f"{resource.id}.{item.name}"
            subject, system = caller.subject, caller.system_subject
            return ask(subject, system, obj, "read_clear", purpose.value, moment, "")

        return each

    cold = _each(requests, decide)
    cached = _each(requests, decide)
    enforcer_made = time.perf_counter()
    enforcer = policy.rules.enforcer
    made = time.perf_counter() - enforcer_made
    reference = _each(requests[: max(5, samples // 300)], asked(enforcer.enforce_ex))
    indexed = _each(requests, asked(policy.rules.index.match))
    print("decisions (µs per decision; median / p99)        target")
    print(f"  cold, the rule index            {_us(cold)}     < 1000")
    print(f"  cached                          {_us(cached)}     < 10")
    print(f"  one rule lookup, the index      {_us(indexed)}")
    print(f"  one rule lookup, Casbin enforce {_us(reference)}     (built in {made:.1f} s)")
    ratio = statistics.median(reference) / statistics.median(indexed)
    print(f"  Casbin / index, one lookup: {ratio:,.0f}x\n")


async def _grant_changes(
    source: PolicySource[None], grants: GrantStore, catalog: Catalog, full: float, rounds: int
) -> None:
    made_times, revoked_times = [], []
    for number in range(rounds):
        grant = Grant(
            consumer=_department(number),
            resource_id="enterprise",
            items=("legalRepIdNumber",),
            action=Action.READ_CLEAR,
            purposes=(Purpose.WORK_REFERENCE,),
            reference=f"bench-change-{number}",
        )
        made = await grants.add(grant, catalog, **BY)
        made_times.append(await _timed_async(source.reload))
        assert made.id is not None and await grants.revoke(made.id, **BY)
        revoked_times.append(await _timed_async(source.reload))
    assert source.problem is None, source.problem
    print("grant changes (ms, median of reload() after each; the store read included)")
    print(f"  one grant made     {statistics.median(made_times) * 1000:8.1f}")
    print(f"  one grant revoked  {statistics.median(revoked_times) * 1000:8.1f}")
    print(f"  every grant read again (a full load) {full * 1000:8.0f}")
    ratio = full / statistics.median(made_times + revoked_times)
    print(f"  full load / one change followed: {ratio:,.0f}x\n")


async def _requests(directory: Path, catalog: Catalog, store_url: str, seconds: float) -> None:
    paths, _ = await asyncio.to_thread(generate, catalog, directory / "sources")
    running = Running(paths, directory / "data", platform_store_url=store_url)
    await running.start()
    try:
        print(f"requests (caller {SYSTEM}; concurrency 16)    deciding / wall   target")
        for n in (1, 100):
            for cold in (False, True):
                share = await _share(running, n, cold, seconds)
                label = "cold (a new consumer each request)" if cold else "steady"
                print(f"  N={n:<4} {label:<36} {share:6.1%}    < 10%")
    finally:
        await running.close()


async def _share(running: Running, n: int, cold: bool, seconds: float) -> float:
    """Time spent deciding (`ExecutionOutcome.deciding_seconds`) over the wall time of
    requests run 16 at a time on one event loop, as the server runs them. Cold: each
    request from another of the consumers' systems (6,000), so that nothing it decides
    was decided before: it finds only what no caller changes (its document's template,
    made once: `resolvers/template.py`), as any consumer of a known document does."""
    executor = running.platform.executor
    request, purpose = GraphQLRequest(query(n)), Purpose(PURPOSE)
    await executor.execute(request, running.caller, purpose)  # the document parsed
    deciding, sent = 0.0, 0

    async def one() -> None:
        nonlocal deciding, sent
        caller = running.caller
        if cold:
            caller = Caller(
                _department(sent % CONSUMERS), "bench", f"system-{sent // CONSUMERS % 3}"
            )
        sent += 1
        outcome = await executor.execute(request, caller, purpose)
        if outcome.errors or outcome.data is None:
            raise RuntimeError(f"the workload query failed: {outcome.errors}")
        deciding += outcome.deciding_seconds

    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        await asyncio.gather(*(one() for _ in range(16)))
    return deciding / (time.perf_counter() - started)


def _each(requests: list[Request], call: Callable[[Request], object]) -> list[float]:
    """Seconds each call took."""
    taken = []
    for request in requests:
        started = time.perf_counter()
        call(request)
        taken.append(time.perf_counter() - started)
    return taken


async def _timed_async(call: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    await call()
    return time.perf_counter() - started


def _us(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"{statistics.median(samples) * 1e6:9.1f} / {p99 * 1e6:9.1f}"


if __name__ == "__main__":
    sys.exit(main())
