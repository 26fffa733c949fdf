"""Run the platform's own entry points as real processes, the way a reader of the README
does: `python server.py`, `python -m audit`, `python -m auth`, `python -m policies`,
each with only the environment given (and PATH); and a Redis server of a test's own,
to stop and start again (the shared one on 6379 is never stopped)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from settings import ROOT
from tests.engines import unreachable

PATH = os.environ.get("PATH", "/usr/bin:/bin")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run(
    *arguments: str, env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`python <arguments>` in the checkout, with `env` and PATH only."""
    return subprocess.run(
        [sys.executable, *arguments],
        cwd=ROOT,
        env={"PATH": PATH, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@contextlib.contextmanager
def serving(*arguments: str, env: dict[str, str], log: Path) -> Iterator[str]:
    """`python server.py <arguments>` on a free port until ready; its base URL. Stopped
    with SIGTERM, as an operator would, so it signs its last checkpoint."""
    with server_process(*arguments, env=env, log=log) as (base, _):
        yield base


@contextlib.contextmanager
def server_process(
    *arguments: str, env: dict[str, str], log: Path
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`serving`, with the server's process (whose children its workers are)."""
    port = free_port()
    with log.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, "server.py", *arguments, "--port", str(port)],
            cwd=ROOT,
            env={"PATH": PATH, **env},
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and process.poll() is None:
                try:
                    if httpx.get(f"{base}/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            else:
                raise AssertionError("the server did not become ready: " + log.read_text())
            yield base, process
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)


@contextlib.contextmanager
def redis_server(port: int, directory: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`redis-server` on `port`, answering, until the block ends. Under CI=true a missing
    binary fails the test."""
    binary = shutil.which("redis-server")
    if binary is None:
        unreachable("redis-server", FileNotFoundError("redis-server is not installed"))
    arguments = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = subprocess.Popen(
        [binary, *arguments, "--dir", str(directory)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={"PATH": PATH},
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and process.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise AssertionError(f"redis-server on port {port} did not start")
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
