"""`python server.py --demo --workers N`: the store and demo set up once before the
workers start, connections spread over the workers, one audit chain from them all.

Which worker holds a connection is read from /proc (each worker has its own listening
socket, and the connections it accepted), so nothing about the processes is served."""

from __future__ import annotations

import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from auth import demo_key
from tests.conftest import SEED
from tests.processes import run, server_process

# Slow: leave out with -m 'not slow' (README); CI runs it.
pytestmark = pytest.mark.slow

CONNECTIONS = 16  # keep-alive connections opened at once, as wrk -c16 does
REQUESTS = 5  # on each
QUERY = "{ enterprises(first: 2) { edges { node { name legalRepresentative { name } } } } }"
_LISTEN, _ESTABLISHED = "0A", "01"


def _sockets(pid: int) -> set[int]:
    found = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if match := re.fullmatch(r"socket:\[(\d+)\]", link):
            found.add(int(match[1]))
    return found


def _tcp(port: int, state: str) -> set[int]:
    """The socket inodes on the local `port` in `state` (IPv4)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == state:
            inodes.add(int(fields[9]))
    return inodes


def _children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _listening_workers(server: int, port: int) -> list[int]:
    """The server's children listening on `port` (each on a socket of its own)."""
    return [pid for pid in _children(server) if _sockets(pid) & _tcp(port, _LISTEN)]


def _wait_for_listeners(server: int, port: int, count: int) -> list[int]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        workers = _listening_workers(server, port)
        if len(workers) == count:
            return workers
        time.sleep(0.2)
    raise AssertionError(f"{count} workers were not listening on {port}")


def _ask(client: httpx.Client) -> None:
    headers = {
        "Authorization": f"Bearer {demo_key(SEED, 'marriage-registry')}",
        "X-Purpose": "administrative_basis",
    }
    for _ in range(REQUESTS):
        response = client.post("/graphql", json={"query": QUERY}, headers=headers)
        assert response.status_code == 200 and "errors" not in response.json()


def test_two_workers_share_the_port_and_write_one_chain(tmp_path: Path) -> None:
    """On a fresh data directory (demo data, store, keys made once before the workers
    start: two workers doing it at once raced), 16 connections are spread over both
    workers, and their records make one unbroken, checkpointed chain."""
    env = {"GOV_SHARE_DATA_DIR": str(tmp_path / "var")}
    log = tmp_path / "server.log"
    with server_process("--demo", "--workers", "2", env=env, log=log) as (base, server):
        port = int(base.rsplit(":", 1)[1])
        workers = _wait_for_listeners(server.pid, port, 2)
        clients = [httpx.Client(base_url=base) for _ in range(CONNECTIONS)]
        try:
            with ThreadPoolExecutor(CONNECTIONS) as pool:
                list(pool.map(_ask, clients))
            held = {pid: len(_sockets(pid) & _tcp(port, _ESTABLISHED)) for pid in workers}
        finally:
            for client in clients:
                client.close()
    assert sum(held.values()) == CONNECTIONS
    assert all(count > 0 for count in held.values()), held
    text = log.read_text()
    assert text.count("Application startup complete.") == 2
    assert '"level": "ERROR"' not in text and "Traceback" not in text, text
    verified = run("-m", "audit", "verify", env=env)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert f"is intact: {CONNECTIONS * REQUESTS} records" in verified.stdout
    assert "signed checkpoints agree" in verified.stdout


def test_workers_start_again_and_again_without_a_race(tmp_path: Path) -> None:
    """Three workers, started three times on the same (at first fresh) data directory:
    every start serves with every worker up, none failing on the demo keys or the store."""
    env = {"GOV_SHARE_DATA_DIR": str(tmp_path / "var")}
    for attempt in range(3):
        log = tmp_path / f"server-{attempt}.log"
        with server_process("--demo", "--workers", "3", env=env, log=log) as (base, server):
            port = int(base.rsplit(":", 1)[1])
            _wait_for_listeners(server.pid, port, 3)
            with httpx.Client(base_url=base) as client:
                _ask(client)
        text = log.read_text()
        assert text.count("Application startup complete.") == 3, text
        assert '"level": "ERROR"' not in text and "Traceback" not in text, text
        assert server.returncode == 0, text


def test_a_port_in_use_is_said_before_any_worker_starts(tmp_path: Path) -> None:
    env = {"GOV_SHARE_DATA_DIR": str(tmp_path / "var")}
    with server_process("--demo", env=env, log=tmp_path / "first.log") as (base, _):
        port = base.rsplit(":", 1)[1]
        second = run("server.py", "--demo", "--workers", "2", "--port", port, env=env)
    assert second.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in second.stderr
    assert "workers started" not in second.stdout + second.stderr
    refused = run("server.py", "--workers", "0", env=env)
    assert refused.returncode == 2 and "--workers: at least 1" in refused.stderr
