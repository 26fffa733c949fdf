"""How long a change takes to reach every server: a rule file edited, a grant made or
revoked, until both of two server processes serve it.

    uv run --frozen python bench/propagation.py [--quick] [--rounds N]
        [--refresh SECONDS] [--redis-url URL] [--store sqlite|postgresql] [--pg-admin URL]

Two `server.py --demo` processes share one platform store (SQLite in the temp dir, or
a PostgreSQL database made for the run and dropped after it, bench/pgstore.py), one
policy directory and one catalog (copies in a temp dir, removed at exit). Each change
is made the way an admin makes it — the rule file written, the grant added or revoked
in the store by `GrantStore`, as `python -m policies` does, announced on Redis when it
is set — and timed from the moment it is saved or committed until both servers answer
the enrolment system's query for phone numbers with the new decision (polled every
10 ms).
Two modes: with Redis announcing grant changes, and with polling only, where a grant
waits for each server's next periodic check (`--refresh`, the setting
POLICY_REFRESH_SECONDS, default 5 s). A rule edit reaches the servers through their
file watchers in both. Before each grant change the run waits a random part of the
refresh interval, so that the polling figures sample the whole interval rather than
the moment just after a check.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import asyncio
import contextlib
import json
import random
import re
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence

import httpx
import redis.asyncio as redis
from redis.exceptions import RedisError

from auth import demo_key
from bench.pgstore import ADMIN_URL, temporary_store
from bench.servers import demo_server
from catalog import load_catalog
from demo import DemoScale, generate_demo_data
from grants import Announcements, Grant, GrantStore
from policies.caller import Purpose
from policies.decision import Action
from settings import ROOT
from store import store_engine, upgrade

SEED = 20201
EDUCATION = "11410581005000008N"
PHONES = "{ persons(first: 3) { edges { node { phone } } } }"
PHONE_RULE = f"p, {EDUCATION}, person.phone, read_clear, business_collaboration\n"
CLEAR = re.compile(r"1\d{10}")
POLL_SECONDS = 0.01
TIMEOUT_SECONDS = 60.0
BY = {"operator": "bench", "reason": "how long a grant takes to reach every server"}
"""Who makes and revokes the benchmark's grants, as the grant store requires."""
Samples = dict[str, list[float]]


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    with tempfile.TemporaryDirectory(prefix="gov-share-propagation-") as directory:
        return asyncio.run(_bench(args, Path(directory)))


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one round: a smoke run")
    parser.add_argument("--rounds", type=int, help="changes of each kind, each way (default 5)")
    parser.add_argument(
        "--refresh", type=float, default=5.0, help="POLICY_REFRESH_SECONDS of the servers"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--store", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--pg-admin", default=ADMIN_URL, help="PostgreSQL admin connection")
    args = parser.parse_args(argv)
    args.rounds = args.rounds or (1 if args.quick else 5)
    return args


async def _bench(args: argparse.Namespace, directory: Path) -> int:
    if args.store == "sqlite":
        return await _measure(args, directory, f"sqlite+aiosqlite:///{directory / 'platform.db'}")
    async with temporary_store(args.pg_admin) as made:
        return await _measure(
            args, directory, made.url, GOV_SHARE_AUDIT_ROLE_PREFIX=made.role_prefix
        )


async def _measure(args: argparse.Namespace, directory: Path, store: str, **settings: str) -> int:
    env = {**await asyncio.to_thread(_platform, directory, store), **settings}
    print(
        f"propagation to 2 server processes on one {args.store} store, POLICY_REFRESH_SECONDS="
        f"{args.refresh:g}, {args.rounds} round(s): ms from the change saved or committed "
        "until both serve it"
    )
    modes: list[tuple[str, str | None]] = [("polling only", None)]
    unreachable = await _unreachable(args.redis_url)
    if unreachable:
        print(f"Redis at {args.redis_url} does not answer ({unreachable}): polling only")
    else:
        modes.insert(0, ("with Redis", args.redis_url))
    print(f"{'mode':<14}{'change':<14}{'n':>3}{'min':>9}{'median':>9}{'max':>9}")
    for mode, redis_url in modes:
        mode_env = {**env, "GOV_SHARE_POLICY_REFRESH_SECONDS": str(args.refresh)}
        if redis_url is not None:
            channel = f"gov-share-bench:{uuid.uuid4().hex}"
            mode_env |= {"GOV_SHARE_REDIS_URL": redis_url, "GOV_SHARE_REDIS_CHANNEL": channel}
        announcements = (
            Announcements(redis_url, channel, retry_seconds=args.refresh) if redis_url else None
        )
        async with _two_servers(mode_env, directory / mode.replace(" ", "-")) as bases:
            samples = await _rounds(args, directory, store, bases, announcements)
        for change, times in samples.items():
            low, middle, high = min(times), statistics.median(times), max(times)
            print(
                f"{mode:<14}{change:<14}{len(times):>3}"
                f"{low * 1000:>9.0f}{middle * 1000:>9.0f}{high * 1000:>9.0f}"
            )
    return 0


def _platform(directory: Path, store: str) -> dict[str, str]:
    """Sources, store, rule files and catalog for both servers; their settings."""
    catalog = load_catalog(ROOT / "catalog" / "departments")
    sources = directory / "sources"
    sources.mkdir()
    names = sorted({department.source for department in catalog.departments})
    generate_demo_data(
        catalog.departments,
        {name: f"sqlite:///{sources / name}.db" for name in names},
        seed=SEED,
        scale=DemoScale(persons=200, enterprises=60),
    )
    shutil.copytree(ROOT / "catalog" / "departments", directory / "catalog")
    shutil.copytree(ROOT / "policies" / "rules", directory / "policies" / "rules")
    shutil.copy(ROOT / "policies" / "model.conf", directory / "policies" / "model.conf")
    upgrade(store)
    read_only = {
        name: f"sqlite+aiosqlite:///file:{sources / name}.db?mode=ro&uri=true" for name in names
    }
    return {
        "GOV_SHARE_PLATFORM_STORE_URL": store,
        "GOV_SHARE_CATALOG_DIR": str(directory / "catalog"),
        "GOV_SHARE_POLICY_DIR": str(directory / "policies"),
        "GOV_SHARE_SOURCES": json.dumps(read_only),
    }


async def _unreachable(url: str) -> str | None:
    client = redis.from_url(url, socket_connect_timeout=2)
    try:
        await client.ping()
    except (RedisError, OSError) as error:
        return type(error).__name__
    finally:
        await client.aclose()
    return None


async def _rounds(
    args: argparse.Namespace,
    directory: Path,
    store: str,
    bases: Sequence[str],
    announcements: Announcements | None,
) -> Samples:
    rules = directory / "policies" / "rules" / "public_security.csv"
    good = rules.read_text(encoding="utf-8")
    catalog = load_catalog(directory / "catalog")
    engine = store_engine(store)
    grants = GrantStore(engine, announcements)
    samples: Samples = {"rule edit": [], "grant": []}
    try:
        async with httpx.AsyncClient(timeout=10) as client:

            async def both_serve(clear: bool) -> float:
                """Called right after the change is saved or committed: how long until
                both servers serve it."""
                started = time.perf_counter()
                while not await _serve(client, bases, clear):
                    if time.perf_counter() - started > TIMEOUT_SECONDS:
                        raise RuntimeError("a change did not reach both servers in a minute")
                    await asyncio.sleep(POLL_SECONDS)
                return time.perf_counter() - started

            for _ in range(args.rounds):
                rules.write_text(good + PHONE_RULE, encoding="utf-8")
                samples["rule edit"].append(await both_serve(True))
                rules.write_text(good, encoding="utf-8")
                samples["rule edit"].append(await both_serve(False))
                await asyncio.sleep(random.uniform(0, args.refresh))
                made = await grants.add(
                    _phone_grant(), catalog, operator="bench", reason="propagation"
                )
                samples["grant"].append(await both_serve(True))
                await asyncio.sleep(random.uniform(0, args.refresh))
                assert made.id is not None and await grants.revoke(
                    made.id, operator="bench", reason="propagation"
                )
                samples["grant"].append(await both_serve(False))
    finally:
        await engine.dispose()
    return samples


async def _serve(client: httpx.AsyncClient, bases: Sequence[str], clear: bool) -> bool:
    headers = {
        "Authorization": f"Bearer {demo_key(SEED, 'school-enrolment')}",
        "X-Purpose": "business_collaboration",
    }
    for base in bases:
        response = await client.post(f"{base}/graphql", json={"query": PHONES}, headers=headers)
        edges = response.json()["data"]["persons"]["edges"]
        if clear != all(CLEAR.fullmatch(edge["node"]["phone"]) for edge in edges):
            return False
    return True


def _phone_grant() -> Grant:
    return Grant(
        consumer=EDUCATION,
        resource_id="person",
        items=("phone",),
        action=Action.READ_CLEAR,
        purposes=(Purpose.BUSINESS_COLLABORATION,),
        reference="林公数〔2026〕12号",
    )


@contextlib.asynccontextmanager
async def _two_servers(env: dict[str, str], directory: Path) -> AsyncIterator[list[str]]:
    """Started one after the other (each seeds the demo keys), stopped with SIGTERM."""
    directory.mkdir()
    async with contextlib.AsyncExitStack() as stack:
        bases = []
        for name in ("first", "second"):
            data_dir = directory / name
            env_of = {**env, "GOV_SHARE_DATA_DIR": str(data_dir)}
            bases.append((await stack.enter_async_context(demo_server(env_of, data_dir))).base)
        yield bases


if __name__ == "__main__":
    sys.exit(main())
