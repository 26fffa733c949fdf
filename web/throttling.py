"""Rate limits at the edge: the throttle the settings describe, failed authentications
counted per client address, and each department system's requests counted before
anything of them is read. A refusal is RATE_LIMITED (429, Retry-After), recorded in
the audit log like every other refused request.

The client address is the one on record: the peer's, or the real client's behind a
trusted proxy (web/app.py), so a proxy's own address is never the one refused.
"""

from __future__ import annotations

from starlette.requests import Request

from auth import KeyRegistry
from errors import RateLimited, Unauthenticated
from policies import PUBLIC, Caller
from settings import Settings
from throttle import Limit, Rates, Refusal, Throttle

# Where a request's peer is unknown (served over a Unix socket with no proxy): such
# requests share one budget of failed authentications.
_UNKNOWN_ADDRESS = "unknown"


def throttle_for(settings: Settings) -> Throttle:
    rates = Rates.parse(
        system=settings.rate_limit_system,
        department=settings.rate_limit_department,
        auth_failures=settings.rate_limit_auth_failures,
        public=settings.rate_limit_public,
        overrides=settings.rate_limit_overrides,
    )
    return Throttle(rates, redis_url=settings.redis_url, prefix=settings.rate_limit_prefix)


async def authenticate(request: Request, keys: KeyRegistry, throttle: Throttle) -> Caller:
    """The caller the request's credential names (none: the public). An address that
    has failed too often is refused before its credential is looked at; a credential
    that does not check out is counted against its address."""
    authorization = request.headers.get("authorization")
    if authorization is None:
        return PUBLIC
    address = client_address(request)
    refusal = await throttle.may_authenticate(address)
    if refusal is not None:
        raise _rate_limited(refusal)
    try:
        return await keys.authenticate(authorization, None)
    except Unauthenticated:
        await throttle.failed_authentication(address)
        raise


def client_address(request: Request) -> str:
    return request.client.host if request.client else _UNKNOWN_ADDRESS


async def admit(throttle: Throttle, caller: Caller, address: str) -> None:
    """Spend one request of the caller system's rate and of its department's; the
    public's, of its client address's."""
    if caller.department is None or caller.system is None:
        refusal = await throttle.admit_public(address)
    else:
        refusal = await throttle.admit(caller.department, caller.system)
    if refusal is not None:
        raise _rate_limited(refusal)


def _rate_limited(refusal: Refusal) -> RateLimited:
    rate, seconds = refusal.rate, refusal.retry_after
    if refusal.limit is Limit.PUBLIC:
        reached = (
            f"the rate limit of requests without a credential from this address ({rate}) is reached"
        )
    elif refusal.limit is Limit.CLIENT_ADDRESS:
        reached = (
            f"too many failed authentications from this address ({rate}): no credential "
            "from it is checked until the window moves on"
        )
    elif refusal.limit is Limit.DEPARTMENT:
        reached = f"the rate limit of this department's systems together ({rate}) is reached"
    else:
        reached = f"the rate limit of this system ({rate}) is reached"
    return RateLimited(f"{reached}; retry after {seconds} s", seconds)
