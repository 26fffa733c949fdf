"""No client ever holds a response whose audit record is lost: the server killed with
SIGKILL under load and restarted, or stopped with SIGTERM, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from auth import demo_key
from settings import ROOT
from tests.audit.conftest import Store
from tests.conftest import SEED, source_urls
from tests.processes import PATH, free_port

pytestmark = [pytest.mark.anyio, pytest.mark.slow]  # slow: -m 'not slow' leaves it out
QUERY = "{ enterprises(first: 5) { edges { node { name legalRepresentative { name } } } } }"


class Server:
    """`python server.py --demo` as its own process, against the store under test."""

    def __init__(self, store: Store, demo_dir: Path, data_dir: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        data_dir.mkdir(parents=True, exist_ok=True)
        self.log = data_dir / "server.log"
        self.env = {
            "PATH": PATH,
            "GOV_SHARE_DATA_DIR": str(data_dir),
            "GOV_SHARE_SOURCES": json.dumps(source_urls(demo_dir)),
            "GOV_SHARE_PLATFORM_STORE_URL": store.url,
            "GOV_SHARE_AUDIT_ROLE_PREFIX": store.role_prefix,
        }
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        with self.log.open("a") as sink:
            self.process = subprocess.Popen(
                [sys.executable, "server.py", "--demo", "--port", str(self.port)],
                cwd=ROOT,
                env=self.env,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline:
                try:
                    if (await client.get(f"{self.base}/readyz")).status_code == 200:
                        return
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
        pytest.fail("the server did not become ready: " + self.log.read_text())

    async def stop(self, sig: signal.Signals) -> int:
        """Waits off the event loop: the clients must keep running while the server drains."""
        assert self.process is not None
        self.process.send_signal(sig)
        return await asyncio.to_thread(self.process.wait, 30)


async def _load(
    base: str,
    received: list[str],
    seconds: float,
    workers: int = 8,
    stop: asyncio.Event | None = None,
) -> None:
    """Closed-loop clients, for `seconds` or until `stop` is set; a request id counts only
    once its whole response arrived."""
    headers = {
        "Authorization": f"Bearer {demo_key(SEED, 'marriage-registry')}",
        "X-Purpose": "administrative_basis",
    }
    stop_at = time.monotonic() + seconds

    async def client() -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            while time.monotonic() < stop_at and not (stop and stop.is_set()):
                try:
                    response = await http.post(
                        f"{base}/graphql", json={"query": QUERY}, headers=headers
                    )
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
                    continue
                if response.status_code == 200 and response.json()["data"]["enterprises"]:
                    received.append(response.headers["x-request-id"])

    await asyncio.gather(*(client() for _ in range(workers)))


async def _until(condition: Callable[[], bool], seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the load never got that far"
        await asyncio.sleep(0.02)


async def _recorded(store: Store) -> set[str]:
    return {row["request_id"] for row in await store.rows()}


async def test_sigkill_under_load_loses_no_answered_request(
    store: Store, demo_dir: Path, tmp_path: Path
) -> None:
    server = Server(store, demo_dir, tmp_path / "var")
    await server.start()
    received: list[str] = []
    stop = asyncio.Event()
    load = asyncio.create_task(_load(server.base, received, seconds=120.0, stop=stop))
    await _until(lambda: len(received) > 10)
    assert await server.stop(signal.SIGKILL) == -signal.SIGKILL
    answered_before_kill = len(received)
    await server.start()
    # However slowly the machine restarts it, the load goes on until the new server answers.
    await _until(lambda: len(received) > answered_before_kill + 10)
    stop.set()
    await load
    await server.stop(signal.SIGTERM)
    missing = set(received) - await _recorded(store)
    assert missing == set()


async def test_sigterm_drains_and_flushes(store: Store, demo_dir: Path, tmp_path: Path) -> None:
    server = Server(store, demo_dir, tmp_path / "var")
    await server.start()
    received: list[str] = []
    load = asyncio.create_task(_load(server.base, received, seconds=1.5))
    await asyncio.sleep(0.8)
    # uvicorn shuts down gracefully, then re-raises the signal, so the status is -SIGTERM;
    # the last checkpoint, signed by the audit log's close(), shows the flush happened.
    assert await server.stop(signal.SIGTERM) == -signal.SIGTERM
    await load
    assert received
    assert set(received) <= await _recorded(store)
    checkpoints = [
        json.loads(line)
        for line in (tmp_path / "var" / "audit-checkpoints.jsonl").read_text().splitlines()
    ]
    assert checkpoints[-1]["count"] == len(await store.rows())


async def test_a_store_that_goes_down_serves_no_data(
    postgres_store: Store, demo_dir: Path, tmp_path: Path
) -> None:
    """The PostgreSQL store stops accepting connections under a running server."""
    import asyncpg

    from tests.engines import POSTGRES

    server = Server(postgres_store, demo_dir, tmp_path / "var")
    await server.start()
    received: list[str] = []
    await _load(server.base, received, seconds=0.3, workers=1)
    database = postgres_store.url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(**POSTGRES)  # type: ignore[arg-type]
    try:
        await admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", database
        )
        async with httpx.AsyncClient(timeout=10) as http:
            response = await http.post(
                f"{server.base}/graphql",
                json={"query": QUERY},
                headers={"Authorization": f"Bearer {demo_key(SEED, 'marriage-registry')}"},
            )
        assert response.status_code in (503,)
        assert "data" not in response.json()
        assert response.json()["errors"][0]["extensions"]["code"] == "AUDIT_UNAVAILABLE"
    finally:
        await admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
        await admin.close()
        await server.stop(signal.SIGKILL)
    assert set(received) <= await _recorded(postgres_store)
