"""The throttle counting in this server's memory (no Redis): each budget's moving
window, per-caller overrides, the Retry-After it gives, and failed authentications
per client address. Redis: tests/web/test_shared_rate_limits.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from throttle import Counting, Limit, Rates, Throttle

pytestmark = pytest.mark.anyio

CIVIL_AFFAIRS = "11410581005000006G"
TAXATION = "11410581005000005D"

Started = Callable[..., Throttle]


@pytest.fixture
async def throttle() -> AsyncIterator[Started]:
    """A throttle with the given rates, closed after the test."""
    made: list[Throttle] = []

    def start(
        system: str = "600/minute",
        department: str = "6000/minute",
        auth_failures: str = "10/minute",
        public: str = "600/minute",
        **overrides: str,
    ) -> Throttle:
        rates = Rates.parse(
            system=system,
            department=department,
            auth_failures=auth_failures,
            public=public,
            overrides=overrides,
        )
        made.append(Throttle(rates, prefix="unused"))
        return made[-1]

    yield start
    for each in made:
        await each.close()


async def test_a_system_gets_its_rate_in_any_window(throttle: Started) -> None:
    limiter = throttle(system="2/second")
    assert limiter.counting is Counting.LOCAL
    assert await limiter.admit(CIVIL_AFFAIRS, "marriage-registry") is None
    assert await limiter.admit(CIVIL_AFFAIRS, "marriage-registry") is None
    refused = await limiter.admit(CIVIL_AFFAIRS, "marriage-registry")
    assert refused is not None and refused.limit is Limit.SYSTEM and refused.retry_after == 1
    assert await limiter.admit(TAXATION, "tax-admin") is None, "another system's budget"
    await asyncio.sleep(1.1)  # the window moves past the first two
    assert await limiter.admit(CIVIL_AFFAIRS, "marriage-registry") is None
    assert limiter.refusals == {Limit.SYSTEM: 1}


async def test_retry_after_is_when_the_oldest_request_leaves_the_window(
    throttle: Started,
) -> None:
    limiter = throttle(system="1/hour")
    assert await limiter.admit(CIVIL_AFFAIRS, "marriage-registry") is None
    refused = await limiter.admit(CIVIL_AFFAIRS, "marriage-registry")
    assert refused is not None and str(refused.rate) == "1 per 1 hour"
    assert 3540 < refused.retry_after <= 3600


async def test_a_systems_override_is_its_own(throttle: Started) -> None:
    limiter = throttle(system="5/hour", **{f"{CIVIL_AFFAIRS}/marriage-registry": "1/hour"})
    assert await limiter.admit(CIVIL_AFFAIRS, "marriage-registry") is None
    assert await limiter.admit(CIVIL_AFFAIRS, "marriage-registry") is not None
    for _ in range(5):  # the other systems keep the default, even in the same department
        assert await limiter.admit(CIVIL_AFFAIRS, "adoption-registry") is None
        assert await limiter.admit(TAXATION, "tax-admin") is None
    assert await limiter.admit(TAXATION, "tax-admin") is not None


async def test_a_departments_systems_share_its_rate(throttle: Started) -> None:
    limiter = throttle(department="100/hour", **{CIVIL_AFFAIRS: "3/hour"})
    for system in ("marriage-registry", "adoption-registry", "marriage-registry"):
        assert await limiter.admit(CIVIL_AFFAIRS, system) is None
    refused = await limiter.admit(CIVIL_AFFAIRS, "adoption-registry")
    assert refused is not None and refused.limit is Limit.DEPARTMENT
    assert str(refused.rate) == "3 per 1 hour" and refused.retry_after > 3500
    assert await limiter.admit(TAXATION, "tax-admin") is None, "another department's budget"


async def test_failed_authentications_are_counted_per_address(throttle: Started) -> None:
    limiter = throttle(auth_failures="2/hour")
    for _ in range(2):
        assert await limiter.may_authenticate("198.51.100.1") is None
        await limiter.failed_authentication("198.51.100.1")
    refused = await limiter.may_authenticate("198.51.100.1")
    assert refused is not None and refused.limit is Limit.CLIENT_ADDRESS
    assert refused.retry_after > 3500
    assert await limiter.may_authenticate("198.51.100.2") is None, "another address may try"
    assert await limiter.may_authenticate("2001:db8::1") is None
    assert limiter.refusals == {Limit.CLIENT_ADDRESS: 1}


async def test_asking_whether_an_address_may_try_spends_nothing(throttle: Started) -> None:
    limiter = throttle(auth_failures="1/hour")
    for _ in range(5):
        assert await limiter.may_authenticate("198.51.100.1") is None
