"""The command line that serves the platform: settings checked before anything
listens, one JSON log line per event, uvicorn serving the app (`web.app`).

    python server.py [--host H] [--port P] [--demo]
"""

from __future__ import annotations

import argparse
import logging
import sys

import uvicorn

from logs import JsonLogFormatter
from startup import CONFIGURATION_ERROR, describe, settings_to_serve
from web.app import create_app


def main() -> None:
    parser = argparse.ArgumentParser(description="gov-share GraphQL data-access layer")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--demo", action="store_true", help="serve demo data and accept demo keys")
    arguments = parser.parse_args()
    try:
        settings = settings_to_serve(demo=arguments.demo)
    except ExceptionGroup as problems:
        print(describe(problems), file=sys.stderr)
        sys.exit(CONFIGURATION_ERROR)
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLogFormatter())
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    uvicorn.run(
        create_app(settings),
        host=arguments.host,
        port=arguments.port,
        log_config=None,
        access_log=False,
        proxy_headers=False,  # the app trusts GOV_SHARE_TRUSTED_PROXIES only (web/app.py)
        timeout_graceful_shutdown=30,  # drain in-flight requests, but never hang on idle clients
    )


if __name__ == "__main__":
    main()
