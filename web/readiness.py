"""Liveness and readiness, for the load balancer and the operators.

One department's source down must not take the platform out of service: its fields
answer SOURCE_UNAVAILABLE and the others still come back. So readiness has three
states: `ready` (the store and every source answer), `degraded` (the store and some
sources answer, or grants are not being followed: still served, and the body says
what is wrong) and `not_ready` (no store, so nothing can be audited, or no source at
all: 503, take it out of rotation).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from platform_setup import Platform


async def healthz(request: Request) -> Response:
    """The process answers: nothing else is looked at, so a restart cures what fails it."""
    return JSONResponse({"status": "alive"})


async def readyz(request: Request) -> Response:
    platform: Platform = request.app.state.platform
    timeout = platform.settings.statement_timeout_seconds
    store, *answers = await asyncio.gather(
        _answers(platform.audit.ping(), timeout),
        *(_answers(connector.ping(), timeout) for connector in platform.sources.values()),
    )
    sources = dict(zip(platform.sources, answers, strict=True))
    down = sorted(name for name, answered in sources.items() if not answered)
    problems = [f"source {name} does not answer" for name in down]
    following = platform.policy_source.problem
    if following is not None:
        problems.append(f"grants are not followed: {following}")
    if not store:
        problems.insert(0, "the platform store does not answer: nothing can be audited")
    if not store or len(down) == len(sources):
        status = "not_ready"
    else:
        status = "degraded" if problems else "ready"
    body = {
        "status": status,
        "store": _state(store),
        "sources": {name: _state(answered) for name, answered in sources.items()},
        "grants": "following" if following is None else "not_followed",
        "problems": problems,
    }
    return JSONResponse(body, status_code=503 if status == "not_ready" else 200)


async def _answers(ping: Awaitable[None], timeout: float) -> bool:
    try:
        await asyncio.wait_for(ping, timeout)
    except Exception:  # whatever the reason, it does not answer; the reason stays out of the body
        return False
    return True


def _state(answered: bool) -> str:
    return "available" if answered else "unavailable"
