"""CORS: pages of the origins on GOV_SHARE_CORS_ORIGINS may call /graphql from a browser;
any other origin, and every origin while the list is empty, gets no Access-Control-*
header at all."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pydantic
import pytest

from auth import demo_key
from settings import Settings
from tests.conftest import SEED, Gateway, serving

pytestmark = pytest.mark.anyio

PORTAL = "https://portal.linzhou.gov.cn"
ELSEWHERE = "https://elsewhere.example.com"
REQUESTED = "authorization, content-type, accept, x-purpose, x-purpose-reference, x-operator"


@pytest.fixture
async def allowing(settings: Settings) -> AsyncIterator[Gateway]:
    async with serving(settings.model_copy(update={"cors_origins": [PORTAL]})) as running:
        yield running


def cors_headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.lower().startswith("access-control-")}


async def preflight(gateway: Gateway, origin: str) -> httpx.Response:
    return await gateway.client.options(
        "/graphql",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": REQUESTED,
        },
    )


async def call(gateway: Gateway, origin: str) -> httpx.Response:
    return await gateway.client.post(
        "/graphql",
        json={"query": "{ __typename }"},
        headers={
            "Origin": origin,
            "Authorization": f"Bearer {demo_key(SEED, 'marriage-registry')}",
            "X-Purpose": "work_reference",
        },
    )


async def test_an_origin_on_the_list_is_answered(allowing: Gateway) -> None:
    answer = await preflight(allowing, PORTAL)
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == PORTAL
    allowed = {h.strip().lower() for h in answer.headers["access-control-allow-headers"].split(",")}
    assert set(REQUESTED.split(", ")) <= allowed
    assert "POST" in answer.headers["access-control-allow-methods"]

    response = await call(allowing, PORTAL)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == PORTAL
    exposed = response.headers["access-control-expose-headers"].lower()
    assert "x-request-id" in exposed and "retry-after" in exposed
    assert "Origin" in response.headers["vary"]


async def test_an_origin_not_on_the_list_gets_no_cors_header(allowing: Gateway) -> None:
    answer = await preflight(allowing, ELSEWHERE)
    assert cors_headers(answer) == {}
    assert answer.status_code >= 400
    response = await call(allowing, ELSEWHERE)
    assert response.status_code == 200  # served: the browser, not the server, withholds it
    assert cors_headers(response) == {}


async def test_an_empty_list_sends_no_cors_header(gateway: Gateway) -> None:
    assert gateway.platform.settings.cors_origins == []
    for origin in (PORTAL, ELSEWHERE):
        assert cors_headers(await preflight(gateway, origin)) == {}
        assert cors_headers(await call(gateway, origin)) == {}


def test_the_list_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOV_SHARE_CORS_ORIGINS", f'["{PORTAL}", "HTTP://10.1.2.3:8080"]')
    assert Settings().cors_origins == [PORTAL, "http://10.1.2.3:8080"]
    for wrong in ('["*"]', f'["{PORTAL}/"]', '["portal.linzhou.gov.cn"]', f'["{PORTAL}/app"]'):
        monkeypatch.setenv("GOV_SHARE_CORS_ORIGINS", wrong)
        with pytest.raises(pydantic.ValidationError, match="is not an origin"):
            Settings()
