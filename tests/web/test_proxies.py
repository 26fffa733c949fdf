"""Behind a reverse proxy: the client address on record is the real client's when the
request came through a trusted proxy, and the peer's own whatever an untrusted peer
claims in X-Forwarded-For."""

from __future__ import annotations

import pytest

from settings import Settings, read_settings
from tests.conftest import Gateway, serving

pytestmark = pytest.mark.anyio

NAMES = "{ enterprises(first: 1) { edges { node { name } } } }"


async def recorded_address(gateway: Gateway, forwarded_for: str) -> str | None:
    response = await gateway.query(NAMES, headers={"X-Forwarded-For": forwarded_for})
    assert response.status_code == 200, response.text
    return (await gateway.audit(response))["client_address"]


async def test_an_untrusted_peer_cannot_claim_another_address(settings: Settings) -> None:
    trusting = settings.model_copy(update={"trusted_proxies": ["10.9.0.0/16"]})
    async with serving(trusting, peer="203.0.113.7") as gateway:
        assert await recorded_address(gateway, "198.51.100.1") == "203.0.113.7"


async def test_nothing_is_trusted_by_default(settings: Settings) -> None:
    async with serving(settings, peer="127.0.0.1") as gateway:
        assert await recorded_address(gateway, "198.51.100.1") == "127.0.0.1"


async def test_a_trusted_proxy_gives_the_client_it_forwards_for(settings: Settings) -> None:
    trusting = settings.model_copy(update={"trusted_proxies": ["10.9.0.0/16"]})
    async with serving(trusting, peer="10.9.1.1") as gateway:
        assert await recorded_address(gateway, "198.51.100.1") == "198.51.100.1"


async def test_only_trusted_hops_are_walked_back(settings: Settings) -> None:
    """A client that sends its own X-Forwarded-For through the proxy cannot choose its
    address: the first hop from the right that is not a trusted proxy is the client."""
    trusting = settings.model_copy(update={"trusted_proxies": ["10.9.0.0/16", "10.8.0.5"]})
    async with serving(trusting, peer="10.9.1.1") as gateway:
        chain = "192.0.2.66, 198.51.100.1, 10.8.0.5"
        assert await recorded_address(gateway, chain) == "198.51.100.1"


def test_a_proxy_that_is_not_an_address_is_a_configuration_error() -> None:
    with pytest.raises(ExceptionGroup) as raised:
        read_settings(trusted_proxies=["10.0.0.0/8", "proxy.internal"])
    [problem] = raised.value.exceptions
    assert "GOV_SHARE_TRUSTED_PROXIES" in str(problem)
    assert "'proxy.internal' is not an IP address or network" in str(problem)
