"""Liveness and readiness, for the load balancer and the operators.

One department's source down must not take the platform out of service: its fields
answer SOURCE_UNAVAILABLE and the others still come back. So readiness has three
states: `ready` (the store and every source answer), `degraded` (still served, and
the body says what is wrong: the store and some sources answer; or a reload of the
rule or catalog files failed, and the last good policy is in force; or grant changes
are not announced to this server, which then follows them by polling; or Redis does
not answer, and this server counts rate limits alone until it does; or the working-day
calendar does not know the year an answer due now falls in, so deadlines are
provisional) and
`not_ready` (no store, so nothing can be audited, or no source at all: 503, take it
out of rotation). A source whose circuit is open (`connectors.circuit`) is not asked:
it is down, and the problem says why.
"""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import Awaitable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from connectors import CircuitState, GuardedConnector
from grants import Announcements
from platform_setup import Platform
from throttle import Throttle


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
    problems = [_down(name, platform.sources[name]) for name in down]
    source = platform.policy_source
    in_force = source.current
    if source.problem is not None:
        problems.append(f"policy not reloaded: {source.problem}")
    announcements = platform.announcements
    if announcements is not None and announcements.problem is not None:
        problems.append(announcements.problem)
    throttle: Throttle = request.app.state.throttle
    if throttle.problem is not None:
        problems.append(throttle.problem)
    calendar = platform.calendar.provisional_problem(datetime.datetime.now(datetime.UTC))
    if calendar is not None:
        problems.append(calendar)
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
        "policy": {
            "reload": "ok" if source.problem is None else "failing",
            "version": in_force.version,
            "catalog_version": in_force.catalog.version,
        },
        "announcements": _announced(announcements),
        "rate_limits": throttle.counting.value,
        "problems": problems,
        "freshness": _freshness(platform),
        "calendar": "provisional" if calendar is not None else "known",
    }
    return JSONResponse(body, status_code=503 if status == "not_ready" else 200)


async def _answers(ping: Awaitable[None], timeout: float) -> bool:
    try:
        await asyncio.wait_for(ping, timeout)
    except Exception:  # whatever the reason, it does not answer; the reason stays out of the body
        return False
    return True


def _down(name: str, source: GuardedConnector) -> str:
    if source.circuit.state is CircuitState.OPEN:
        return (
            f"source {name} does not answer: its circuit is open after repeated failures, "
            "so its reads fail fast until a probe finds it answering"
        )
    return f"source {name} does not answer"


def _announced(announcements: Announcements | None) -> str:
    if announcements is None:
        return "off"
    if announcements.listening:
        return "listening"
    return "connecting" if announcements.problem is None else "unavailable"


def _freshness(platform: Platform) -> dict[str, object]:
    """What the last background check found (Art. 10): the stale resources, by id. A
    stale resource is still served, so it does not change the status."""
    current = platform.freshness.current
    checked = max((found.checked_at for found in current.values()), default=None)
    return {
        "checked_at": checked.isoformat() if checked else None,
        "stale": platform.freshness.stale(),
    }


def _state(answered: bool) -> str:
    return "available" if answered else "unavailable"
