"""CORS for the pages of the origins on the allow-list, and for no one else.

Starlette's middleware answers the allowed origins. It also sends its other
Access-Control-* headers (the exposed and allowed lists) to any origin that asks; here
an origin not on the list gets none at all, so nothing about the platform's headers is
offered to a page that may not call it.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.types import Message, Receive, Scope, Send

# What a department's page sends: its key, the media types, and the audit headers.
REQUEST_HEADERS = (
    "Authorization",
    "Content-Type",
    "Accept",
    "X-Purpose",
    "X-Purpose-Reference",
    "X-Operator",
)


class AllowListCORS(CORSMiddleware):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        origin = Headers(scope=scope).get("origin") if scope["type"] == "http" else None
        if origin is None or self.is_allowed_origin(origin):
            await super().__call__(scope, receive, send)
            return

        async def without_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if not name.lower().startswith(b"access-control-")
                ]
            await send(message)

        await super().__call__(scope, receive, without_cors)


def cors(origins: Sequence[str]) -> list[Middleware]:
    """The middleware for an allow-list; none when it is empty."""
    if not origins:
        return []
    return [
        Middleware(
            AllowListCORS,
            allow_origins=list(origins),
            allow_methods=["GET", "POST"],
            allow_headers=list(REQUEST_HEADERS),
            # Retry-After is not one a page may read unless exposed: a page told
            # RATE_LIMITED should know when to try again.
            expose_headers=["X-Request-Id", "Retry-After"],
        )
    ]
