"""The platform store gone from under a request, where the request itself reads it (the
key lookup, the verification quota): the caller gets 503 AUDIT_UNAVAILABLE and no data,
as when the audit record cannot be written, and the request is on record as that."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from auth import KeyRegistry
from quota import VerificationQuota
from tests.conftest import Gateway

pytestmark = pytest.mark.anyio


@pytest.fixture
async def gone(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A store that does not answer: a read-only SQLite file that does not exist."""
    engine = create_async_engine(
        f"sqlite+aiosqlite:///file:{tmp_path / 'gone'}.db?mode=ro&uri=true"
    )
    yield engine
    await engine.dispose()


async def refused_for_the_store(gateway: Gateway, query: str, **sent: Any) -> dict[str, Any]:
    response = await gateway.query(query, **sent)
    assert response.status_code == 503
    body = response.json()
    assert "data" not in body
    assert body["errors"] == [
        {
            "message": "the platform store is unavailable",
            "extensions": {"code": "AUDIT_UNAVAILABLE"},
        }
    ]
    record = await gateway.audit(response)
    assert (record["outcome"], record["http_status"]) == ("audit_unavailable", 503)
    assert record["error_codes"] == ["AUDIT_UNAVAILABLE"]
    return record


async def test_a_key_that_cannot_be_looked_up_is_a_store_outage(
    gateway: Gateway, gone: AsyncEngine
) -> None:
    gateway.platform.keys = KeyRegistry(gone, demo=True)
    record = await refused_for_the_store(gateway, "{ enterprises(first: 1) { totalCount } }")
    assert record["caller_department"] is None  # who asked could not be checked


async def test_a_verification_whose_check_cannot_be_counted_is_a_store_outage(
    gateway: Gateway, gone: AsyncEngine, department_db: Any
) -> None:
    """The quota is spent inside the verify resolver: its outage ends the request, never
    a null with a field error beside HTTP 200."""
    gateway.platform.executor.quota = VerificationQuota(gone, per_day=5)
    [person] = department_db("public_security", "SELECT * FROM person ORDER BY id_number LIMIT 1")
    query = (
        f'{{ verifyPerson(idNumber: "{person["id_number"]}", '
        f'claims: {{name: "{person["name"]}"}}) }}'
    )
    record = await refused_for_the_store(
        gateway, query, system="school-enrolment", purpose="work_reference"
    )
    assert record["caller_system"] == "school-enrolment"
    assert person["name"] not in str(record)
