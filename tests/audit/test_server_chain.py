"""Through the app: the records the server writes form one verifiable chain."""

from __future__ import annotations

import asyncio

import pytest

from audit import verify
from tests.conftest import Gateway

pytestmark = pytest.mark.anyio


async def test_requests_served_concurrently_chain_up(gateway: Gateway) -> None:
    query = "{ enterprises(first: 2) { edges { node { name } } } }"
    responses = await asyncio.gather(
        *(gateway.query(query) for _ in range(8)),
        gateway.query(query, purpose="curiosity"),
        gateway.query(query, system=None),
    )
    assert sorted(response.status_code for response in responses) == [200] * 9 + [400]
    result = await verify(gateway.platform.store)
    assert result.ok and result.records == 10, str(result)
    for response in responses:
        record = await gateway.audit(response)
        assert 1 <= record["seq"] <= 10
