"""Sources through the whole platform: a kind of source registered for a test (the
in-memory connector) serves a department's resource through the real ASGI app, is
told who reads and why with every read, and a source that cannot compute a mask or a
flag is refused such a read, never made to send the clear value."""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator

import pytest

from connectors import (
    SOURCE_KINDS,
    Capabilities,
    Computing,
    MemoryConnector,
    ReadContext,
    SourceKind,
    SourceOptions,
    SqliteConnector,
)
from settings import Settings
from tests.conftest import Gateway, serving

pytestmark = pytest.mark.anyio

CIVIL_AFFAIRS = "11410581005000006G"
PERSONS = [
    {
        "id_number": f"41058119850304{number:03d}X",
        "name": name,
        "gender": "女",
        "ethnicity": "汉族",
        "birth_date": datetime.date(1985, 3, 4),
        "household_address": f"河南省林州市开元街道桃园村{number}号",
        "township": "开元街道",
        "phone": f"1390372{number:04d}",
    }
    for number, name in enumerate(["李秀英", "张桂兰", "王淑珍"], start=1)
]
NAMES_AND_PHONES = "{ persons(first: 3) { edges { node { name phone } } } }"


@pytest.fixture
def people() -> MemoryConnector:
    return MemoryConnector("public_security", {"person": PERSONS})


@pytest.fixture
async def gateway(settings: Settings, people: MemoryConnector) -> AsyncIterator[Gateway]:
    """The platform with public security's source in memory, through a kind registered
    for this test only."""
    kinds = SOURCE_KINDS.copy()
    kinds.register("memory", SourceKind(SourceOptions, lambda name, options: people))
    sources = {**settings.sources, "public_security": "memory://public_security"}
    async with serving(settings.model_copy(update={"sources": sources}), kinds) as running:
        yield running


async def test_a_resource_is_served_from_a_source_of_a_registered_kind(
    gateway: Gateway, people: MemoryConnector
) -> None:
    assert gateway.platform.sources["public_security"].source is people
    response = await gateway.query(NAMES_AND_PHONES)
    assert response.status_code == 200, response.text
    nodes = [edge["node"] for edge in response.json()["data"]["persons"]["edges"]]
    assert nodes == [
        {"name": "李秀英", "phone": "139****0001"},
        {"name": "张桂兰", "phone": "139****0002"},
        {"name": "王淑珍", "phone": "139****0003"},
    ]
    record = await gateway.audit(response)
    assert record["outcome"] == "served" and record["error_codes"] == []


async def test_every_read_tells_the_source_the_request_the_caller_and_the_purpose(
    gateway: Gateway, people: MemoryConnector
) -> None:
    first = await gateway.query(
        "{ persons(first: 2) { totalCount edges { node { name } } } }",
        headers={"X-Operator": "mz-0231"},
    )
    second = await gateway.query(NAMES_AND_PHONES, purpose="work_reference")
    assert first.status_code == second.status_code == 200
    assert people.contexts == [
        *[
            ReadContext(
                first.headers["x-request-id"],
                CIVIL_AFFAIRS,
                "marriage-registry",
                "mz-0231",
                "administrative_basis",
            )
        ]
        * 2,  # the page and its count
        ReadContext(
            second.headers["x-request-id"],
            CIVIL_AFFAIRS,
            "marriage-registry",
            None,
            "work_reference",
        ),
    ]


async def test_a_source_that_cannot_mask_is_refused_a_masked_read(
    gateway: Gateway, people: MemoryConnector
) -> None:
    people.capabilities = Capabilities(computing=Computing(masks=None))
    response = await gateway.query(NAMES_AND_PHONES)
    assert response.status_code == 200
    body = response.json()
    assert [error["extensions"]["code"] for error in body["errors"]] == ["PUSHDOWN_REFUSED"]
    assert body["errors"][0]["message"] == "source public_security cannot push down masks"
    assert body["data"] == {"persons": None}
    assert "1390372" not in response.text and "139****" not in response.text  # clear or masked
    assert people.reads == []  # nothing was asked of the source
    assert (await gateway.audit(response))["error_codes"] == ["PUSHDOWN_REFUSED"]

    # What it can answer, it still does.
    names = await gateway.query("{ persons(first: 3) { edges { node { name } } } }")
    assert [e["node"]["name"] for e in names.json()["data"]["persons"]["edges"]] == [
        person["name"] for person in PERSONS
    ]


async def test_a_source_that_cannot_compute_flags_is_refused_a_verification(
    gateway: Gateway, people: MemoryConnector
) -> None:
    people.capabilities = Capabilities(flags=None)
    someone = PERSONS[0]
    response = await gateway.query(
        f'{{ verifyPerson(idNumber: "{someone["id_number"]}", claims: {{name: "{someone["name"]}"}}) }}',
        purpose="data_verification",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"verifyPerson": None}
    assert [error["extensions"]["code"] for error in body["errors"]] == ["PUSHDOWN_REFUSED"]
    assert people.reads == []


async def test_a_source_set_with_typed_options_is_opened_with_them(
    settings: Settings, people: MemoryConnector
) -> None:
    sources = {
        **settings.sources,
        "taxation": {"url": settings.sources["taxation"], "timeout_seconds": 2, "pool_size": 2},
    }
    async with serving(settings.model_copy(update={"sources": sources})) as gateway:
        taxation = gateway.platform.sources["taxation"].source
        assert isinstance(taxation, SqliteConnector)
        assert taxation.timeout_seconds == 2 and taxation.sync_engine.pool.size() == 2  # type: ignore[attr-defined]
        ready = await gateway.client.get("/readyz")
        assert ready.json()["sources"]["taxation"] == "available"
