"""`server.py --demo` as a process of its own, for the benchmarks that measure what a
server does across HTTP (bench/propagation.py, bench/persisted.py): started on a free
port with only the environment given (and PATH, and rate limits no benchmark reaches),
ready when `/readyz` says so, stopped with SIGTERM as an operator would."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from settings import ROOT

UNTHROTTLED = "1000000/minute"
"""The rate limits a benchmark's caller is given: it measures serving, not refusing
(the default, 1,200 a minute per system, would refuse most of a run)."""


@dataclass(frozen=True)
class Server:
    pid: int
    base: str
    """`http://127.0.0.1:<port>`."""

    def cpu_seconds(self) -> float:
        """User and system CPU the process has used so far (Linux: /proc): what the server
        spent, whatever the client beside it spends."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rpartition(")")[2].split()
        user, system = int(fields[11]), int(fields[12])  # utime, stime: fields 14, 15
        return (user + system) / os.sysconf("SC_CLK_TCK")


@contextlib.asynccontextmanager
async def demo_server(env: dict[str, str], data_dir: Path) -> AsyncIterator[Server]:
    """A server on `data_dir` (made here; its log is `server.log` there)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    data_dir.mkdir()
    with (data_dir / "server.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "server.py", "--demo", "--port", str(port)],
            cwd=ROOT,
            env={
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "GOV_SHARE_RATE_LIMIT_SYSTEM": UNTHROTTLED,
                "GOV_SHARE_RATE_LIMIT_DEPARTMENT": UNTHROTTLED,
                **env,
            },
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        server = Server(process.pid, f"http://127.0.0.1:{port}")
        await _ready(server.base, process, data_dir / "server.log")
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


async def _ready(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(600):
            with contextlib.suppress(httpx.TransportError):
                if (await client.get(f"{base}/readyz")).status_code == 200:
                    return
            if process.poll() is not None:
                break
            await asyncio.sleep(0.2)
    raise RuntimeError("a server did not start: " + log.read_text())
