"""GraphiQL at GET /graphql for browsers, served entirely from this project.

The platform runs on the government extranet, usually offline: the page loads React
and GraphiQL from `web/graphiql/` (vendored from the npm registry, see web/vendor.py),
never from a CDN. Its Content-Security-Policy makes the browser itself refuse any other
host and any inline script; beyond 'self' it allows only `data:` fonts and images,
which GraphiQL's stylesheet embeds. (Its dialogs add a scroll-lock <style> element,
which is refused: the page fills the window and does not scroll, so nothing is lost.)
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from auth import demo_key
from settings import Settings
from web.media import prefers_html

ASSETS = Path(__file__).resolve().parent / "graphiql"

POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)

# Relative URLs: the page is /graphql, its files are under /graphiql/.
_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>gov-share GraphiQL</title>
<link rel="stylesheet" href="graphiql/graphiql.min.css">
<link rel="stylesheet" href="graphiql/gov-share.css">
</head>
<body>
<div id="graphiql" data-endpoint="{endpoint}" data-headers="{headers}">Loading GraphiQL…</div>
<script src="graphiql/react.production.min.js"></script>
<script src="graphiql/react-dom.production.min.js"></script>
<script src="graphiql/graphiql.min.js"></script>
<script src="graphiql/gov-share.js"></script>
</body>
</html>
"""


def ide_requested(request: Request) -> bool:
    return (
        request.method == "GET"
        and "query" not in request.query_params
        and prefers_html(request.headers.get("accept"))
    )


def ide_page(request: Request, settings: Settings) -> HTMLResponse:
    page = _PAGE.format(
        endpoint=html.escape(request.url.path),
        headers=html.escape(_headers(settings)),
    )
    return HTMLResponse(
        page,
        headers={
            "Content-Security-Policy": POLICY,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store",
        },
    )


def ide_assets() -> Mount:
    return Mount("/graphiql", StaticFiles(directory=ASSETS), name="graphiql")


def _headers(settings: Settings) -> str:
    """In demo mode the headers of the README's first query, so it runs as written."""
    if not settings.demo:
        return ""
    headers = {
        "Authorization": f"Bearer {demo_key(settings.seed, 'marriage-registry')}",
        "X-Purpose": "administrative_basis",
        "X-Purpose-Reference": "2026-MZ-0118",
        "X-Operator": "mz-0231",
    }
    return json.dumps(headers, indent=2)
