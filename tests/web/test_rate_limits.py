"""Rate limits as a department system meets them, on one server counting in its own
memory: RATE_LIMITED with Retry-After, a GraphQL error body, a request id and an audit
record; a department's systems sharing its rate; and failed authentications slowed per
client address — the real one behind a trusted proxy — without locking out a good key
from another address. Redis and two servers: test_shared_rate_limits.py."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from auth import demo_key
from settings import Settings
from tests.conftest import SEED, Gateway, serving

pytestmark = pytest.mark.anyio

CIVIL_AFFAIRS = "11410581005000006G"
NAMES = "{ enterprises(first: 1) { edges { node { name } } } }"


def limited(settings: Settings, **update: Any) -> Settings:
    return settings.model_copy(update=update)


def refusal(response: httpx.Response) -> dict[str, Any]:
    """The one GraphQL error of a RATE_LIMITED answer, checked against its headers."""
    assert response.status_code == 429, response.text
    body = response.json()
    assert "data" not in body
    assert body["extensions"]["requestId"] == response.headers["x-request-id"]
    [error] = body["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert error["extensions"]["retryAfterSeconds"] == int(response.headers["retry-after"])
    return dict(error)


async def test_a_system_over_its_rate_is_refused_and_on_record(settings: Settings) -> None:
    overrides = {f"{CIVIL_AFFAIRS}/marriage-registry": "2/hour"}
    async with serving(limited(settings, rate_limit_overrides=overrides)) as gateway:
        for _ in range(2):
            assert (await gateway.query(NAMES)).status_code == 200
        response = await gateway.query(NAMES)
        error = refusal(response)
        assert error["message"].startswith(
            "the rate limit of this system (2 per 1 hour) is reached; retry after "
        )
        assert 3540 < int(response.headers["retry-after"]) <= 3600
        record = await gateway.audit(response)
        assert record["outcome"] == "rate_limited" and record["http_status"] == 429
        assert record["error_codes"] == ["RATE_LIMITED"]
        assert record["caller_department"] == CIVIL_AFFAIRS
        assert record["caller_system"] == "marriage-registry"
        assert record["fields"] == []

        other = await gateway.query(NAMES, system="tax-admin")
        assert other.status_code == 200, "another system keeps its own rate"
        public = await gateway.query(NAMES, system=None, purpose=None)
        assert public.status_code == 200, "the public is not counted"
        legacy = await gateway.query(NAMES, headers={"Accept": "application/json"})
        assert legacy.status_code == 429, "in either media type"
        scraped = (await gateway.client.get("/metrics")).text
        assert 'gov_share_rate_limited_requests_total{limit="system"} 2.0' in scraped
        assert "marriage-registry" not in scraped and CIVIL_AFFAIRS not in scraped


async def test_a_departments_systems_share_its_rate(settings: Settings) -> None:
    async with serving(
        limited(settings, rate_limit_overrides={CIVIL_AFFAIRS: "2/hour"})
    ) as gateway:
        key = await gateway.platform.keys.register(
            CIVIL_AFFAIRS, "林州市民政局", "adoption-registry", "收养登记系统"
        )
        second = {"Authorization": f"Bearer {key}"}
        assert (await gateway.query(NAMES)).status_code == 200
        assert (await gateway.query(NAMES, system=None, headers=second)).status_code == 200
        response = await gateway.query(NAMES, system=None, headers=second)
        assert refusal(response)["message"].startswith(
            "the rate limit of this department's systems together (2 per 1 hour) is reached"
        )
        assert (await gateway.audit(response))["caller_system"] == "adoption-registry"
        assert (await gateway.query(NAMES)).status_code == 429


async def test_failed_authentications_are_slowed_per_real_client_address(
    settings: Settings,
) -> None:
    """Behind a trusted proxy: a guesser's address is refused, even with a good key, and
    a good key from another address behind the same proxy is served."""
    update = {"rate_limit_auth_failures": "3/hour", "trusted_proxies": ["10.9.0.0/16"]}
    guesser = {"X-Forwarded-For": "198.51.100.66"}
    good = {"Authorization": f"Bearer {demo_key(SEED, 'marriage-registry')}"}
    async with serving(limited(settings, **update), peer="10.9.1.1") as gateway:

        async def guess(key: str) -> httpx.Response:
            sent = {**guesser, "Authorization": f"Bearer {key}"}
            return await gateway.query(NAMES, system=None, headers=sent)

        for attempt in range(3):
            assert (await guess(f"gsk_guess_{attempt}")).status_code == 401
        response = await guess("gsk_guess_3")
        error = refusal(response)
        assert error["message"].startswith(
            "too many failed authentications from this address (3 per 1 hour)"
        )
        record = await gateway.audit(response)
        assert record["outcome"] == "rate_limited" and record["caller_system"] is None
        assert record["client_address"] == "198.51.100.66"

        unchecked = await gateway.query(NAMES, system=None, headers={**guesser, **good})
        assert unchecked.status_code == 429, "a right key must not tell itself apart"
        elsewhere = {"X-Forwarded-For": "198.51.100.7", **good}
        assert (await gateway.query(NAMES, system=None, headers=elsewhere)).status_code == 200
        for _ in range(5):  # good requests are no failures
            assert (await gateway.query(NAMES, system=None, headers=elsewhere)).status_code == 200
        scraped = (await gateway.client.get("/metrics")).text
        assert 'gov_share_rate_limited_requests_total{limit="client_address"} 2.0' in scraped
        assert "198.51.100" not in scraped


async def test_the_public_is_limited_per_real_client_address(settings: Settings) -> None:
    """Open data is read without a credential, so each client address has its own
    budget: one scraper is refused while another address, behind the same proxy, and a
    department system from the scraper's address are served."""
    update = {"rate_limit_public": "2/hour", "trusted_proxies": ["10.9.0.0/16"]}
    scraper = {"X-Forwarded-For": "198.51.100.80"}
    async with serving(limited(settings, **update), peer="10.9.1.1") as gateway:
        for _ in range(2):
            assert (await gateway.query(NAMES, system=None, headers=scraper)).status_code == 200
        response = await gateway.query(NAMES, system=None, headers=scraper)
        error = refusal(response)
        assert error["message"].startswith(
            "the rate limit of requests without a credential from this address (2 per 1 hour)"
        )
        record = await gateway.audit(response)
        assert record["outcome"] == "rate_limited" and record["caller_system"] is None
        assert record["client_address"] == "198.51.100.80"
        other = {"X-Forwarded-For": "198.51.100.81"}
        assert (await gateway.query(NAMES, system=None, headers=other)).status_code == 200
        system = {**scraper, "Authorization": f"Bearer {demo_key(SEED, 'marriage-registry')}"}
        assert (await gateway.query(NAMES, system=None, headers=system)).status_code == 200
        scraped = (await gateway.client.get("/metrics")).text
        assert 'gov_share_rate_limited_requests_total{limit="public"} 1.0' in scraped
        assert "198.51.100" not in scraped


async def test_without_redis_each_server_counts_alone_and_is_ready(gateway: Gateway) -> None:
    ready = (await gateway.client.get("/readyz")).json()
    assert ready["status"] == "ready" and ready["rate_limits"] == "local"
    assert "gov_share_rate_limits_shared" not in (await gateway.client.get("/metrics")).text
