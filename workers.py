"""Several worker processes serving one port: `python server.py --workers N`.

The parent does what is done once per data directory before any worker starts (the
store migrated, the demo data and keys made: `platform_setup.prepare_platform`), then
starts the workers and watches them; it serves nothing itself.

Each worker binds its own listening socket to the port with SO_REUSEPORT, and listens
only once its platform is built. The kernel then hands each new connection to one of
the listening sockets by a hash of its addresses, so keep-alive connections opened at
once (a benchmark's, a proxy's pool) spread evenly over the workers. With one shared
socket (uvicorn's `--workers`) the worker that wakes first accepts, and an idle one
took most of a burst of connections that then stayed with it (measured, issue 17).
The port is checked free first (`check_free`): SO_REUSEPORT would let a second
server of the same user share it silently.

A worker that dies is started again; one that fails to start stops the server (its
settings, store or port would fail the next one the same way). SIGTERM or SIGINT to
the parent stops every worker as one server stops: each drains its requests and
commits its audit records. What the workers share, they already share safely between
processes: the audit chain (appends serialised in the store), grants and policy
reloads (announced through Redis to every process), rate counts (Redis).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import sys
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE

from logs import log_as_json
from settings import Settings
from web.app import create_app

logger = logging.getLogger("gov_share.server")
_CONTEXT = multiprocessing.get_context("spawn")  # a clean interpreter, no copied event loop
_STOPPING = (signal.SIGTERM, signal.SIGINT)


SERVING: dict[str, Any] = {
    "log_config": None,
    "access_log": False,
    "proxy_headers": False,  # the app trusts GOV_SHARE_TRUSTED_PROXIES only (web/app.py)
    "timeout_graceful_shutdown": 30,  # drain in-flight requests, never hang on idle clients
    # The C event loop and HTTP parser, named rather than left to "auto", so a missing
    # one fails at start instead of silently costing every request its CPU again
    # (issue 17: the pure-Python loop and h11 were a fifth of a small request's CPU).
    "loop": "uvloop",
    "http": "httptools",
}
"""uvicorn's options, for one process (server.py) and for each worker alike."""


def serve_workers(settings: Settings, host: str, port: int, count: int) -> int:
    """Serve with `count` workers until told to stop; the exit status."""
    stopping: list[int] = []

    def stop(signum: int, _frame: FrameType | None) -> None:
        stopping.append(signum)

    for signum in _STOPPING:
        signal.signal(signum, stop)
    workers = [_start(settings, host, port) for _ in range(count)]
    logger.info("workers started", extra={"workers": [w.pid for w in workers]})
    status = 0
    while not stopping:
        wait([worker.sentinel for worker in workers], timeout=0.5)
        for index, worker in enumerate(workers):
            if worker.exitcode is None or stopping:
                continue
            if worker.exitcode == STARTUP_FAILURE:
                logger.error("a worker failed to start", extra={"pid": worker.pid})
                stopping.append(signal.SIGTERM)
                status = STARTUP_FAILURE
                break
            logger.warning("a worker died", extra={"pid": worker.pid, "exit": worker.exitcode})
            workers[index] = _start(settings, host, port)
    for worker in workers:
        if worker.exitcode is None and worker.pid is not None:
            os.kill(worker.pid, signal.SIGTERM)
    for worker in workers:
        worker.join()
    logger.info("workers stopped")
    return status


def _start(settings: Settings, host: str, port: int) -> BaseProcess:
    worker = _CONTEXT.Process(target=_serve, args=(settings, host, port), name="gov-share worker")
    worker.start()
    return worker


def _serve(settings: Settings, host: str, port: int) -> None:
    """One worker: its own platform (sources, store, audit writer) on its own socket."""
    log_as_json()
    listening = _socket(host, port, shared=True)
    app = create_app(settings, prepared=True)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, **SERVING))
    server.run(sockets=[listening])
    sys.exit(STARTUP_FAILURE if not server.started else 0)


def _socket(host: str, port: int, *, shared: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listening = socket.socket(family, socket.SOCK_STREAM)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if shared:
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    listening.bind((host, port))
    return listening


def check_free(host: str, port: int) -> None:
    """An OSError (address in use) if anything holds the port, SO_REUSEPORT or not:
    checked before the workers start, since SO_REUSEPORT would let them share a port
    with another server of the same user."""
    _socket(host, port, shared=False).close()
