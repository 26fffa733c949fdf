"""The command line that serves the platform: settings checked before anything
listens, one JSON log line per event, uvicorn serving the app (`web.app`).

    python server.py [--host H] [--port P] [--demo] [--workers N]

With `--workers N` the store is migrated and the demo set up once, then N worker
processes serve the port (`workers.py`).
"""

from __future__ import annotations

import argparse
import asyncio
import sys

import uvicorn

from logs import log_as_json
from platform_setup import prepare_platform
from startup import CONFIGURATION_ERROR, describe, settings_to_serve
from web.app import create_app
from workers import SERVING, check_free, serve_workers


def main() -> None:
    parser = argparse.ArgumentParser(description="gov-share GraphQL data-access layer")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--demo", action="store_true", help="serve demo data and accept demo keys")
    parser.add_argument(
        "--workers", type=_positive, default=1, help="worker processes (one per core at most)"
    )
    arguments = parser.parse_args()
    try:
        settings = settings_to_serve(demo=arguments.demo)
    except ExceptionGroup as problems:
        print(describe(problems), file=sys.stderr)
        sys.exit(CONFIGURATION_ERROR)
    log_as_json()
    if arguments.workers == 1:
        uvicorn.run(create_app(settings), host=arguments.host, port=arguments.port, **SERVING)
        return
    try:
        check_free(arguments.host, arguments.port)
    except OSError as error:
        print(
            f"cannot listen on {arguments.host}:{arguments.port}: {error.strerror}", file=sys.stderr
        )
        sys.exit(1)
    asyncio.run(prepare_platform(settings))
    sys.exit(serve_workers(settings, arguments.host, arguments.port, arguments.workers))


def _positive(text: str) -> int:
    number = int(text)
    if number < 1:
        raise argparse.ArgumentTypeError("at least 1")
    return number


if __name__ == "__main__":
    main()
