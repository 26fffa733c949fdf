"""Every read and count of a request tells its source the request's id, who asks and
why, as plain values: what a source that is itself a platform forwards upstream."""

from __future__ import annotations

import pytest

from connectors import MemoryConnector, ReadContext
from policies import PUBLIC, Purpose
from resolvers import GraphQLRequest
from tests.resolvers.test_execution import CIVIL_AFFAIRS, executor, licence, person

pytestmark = pytest.mark.anyio


@pytest.fixture
def people() -> MemoryConnector:
    return MemoryConnector("public_security", {"person": [person(n) for n in range(5)]})


@pytest.fixture
def licences() -> MemoryConnector:
    rows = [licence(n, holder) for n, holder in enumerate([0, 0, 1, 2])]
    return MemoryConnector("licence_office", {"licence": rows})


async def test_every_read_of_a_request_carries_its_context(
    people: MemoryConnector, licences: MemoryConnector
) -> None:
    query = (
        "{ persons(first: 3) { totalCount edges { node { name"
        " licences(first: 1) { totalCount edges { node { licenceNumber } } } } } } }"
    )
    outcome = await executor(people, licences).execute(
        GraphQLRequest(query, request_id="7f3c0e52"), CIVIL_AFFAIRS, Purpose.ADMINISTRATIVE_BASIS
    )
    assert outcome.errors == []
    asked = ReadContext(
        "7f3c0e52", "11410581005000006G", "marriage-registry", "mz-0231", "administrative_basis"
    )
    assert len(people.contexts) == 2 and len(licences.contexts) == 2  # pages and counts
    assert set(people.contexts + licences.contexts) == {asked}


async def test_the_public_is_told_as_no_department(
    people: MemoryConnector, licences: MemoryConnector
) -> None:
    enterprises = MemoryConnector("market_regulation", {"enterprise": []})
    running = executor(people, licences, enterprise=enterprises)
    outcome = await running.execute(
        GraphQLRequest("{ enterprises { edges { node { name } } } }"), PUBLIC, None
    )
    assert outcome.errors == []
    assert enterprises.contexts == [ReadContext()]
