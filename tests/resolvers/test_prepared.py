"""A registered document called by id is prepared once — parsed, validated, planned and
decided — and stays prepared while free text sent once and never again comes and goes."""

from __future__ import annotations

from typing import Any

import pytest

import resolvers.execution
from policies import Purpose
from resolvers import GraphQLRequest
from resolvers.execution import PREPARED, document_id
from tests.conftest import Gateway
from tests.resolvers.test_governed import ADDRESSES, REGISTRY, counting, executor
from tests.web.test_persisted_documents import QUERY, SHA256, apq, post, served

pytestmark = pytest.mark.anyio


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts the executor parses, parsed as ever."""
    seen: list[str] = []
    parse = resolvers.execution.parse

    def counted(text: str, **options: Any) -> Any:
        seen.append(text)
        return parse(text, **options)

    monkeypatch.setattr(resolvers.execution, "parse", counted)
    return seen


async def test_a_registered_document_outlasts_a_flood_of_free_text(parses: list[str]) -> None:
    policy = counting()
    run = executor(policy)
    purpose = Purpose.ADMINISTRATIVE_BASIS
    registered = GraphQLRequest(ADDRESSES, registered=True)
    first = await run.execute(registered, REGISTRY, purpose)
    assert first.data is not None and first.document_id == document_id(ADDRESSES)
    free = await run.execute(GraphQLRequest(ADDRESSES), REGISTRY, purpose)
    assert (free.data, free.document_id) == (first.data, first.document_id)
    for n in range(PREPARED + 1):  # every free text's preparation pushed out
        assert (
            await run.execute(GraphQLRequest(f"# {n}\n{{ __typename }}"), REGISTRY, purpose)
        ).data

    parses.clear()
    asked = policy.asked
    again = await run.execute(registered, REGISTRY, purpose)
    assert (again.data, again.document_id) == (first.data, first.document_id)
    assert parses == [] and policy.asked == asked, "the registered document was prepared again"
    await run.execute(GraphQLRequest(ADDRESSES), REGISTRY, purpose)
    assert parses == [ADDRESSES] and policy.asked > asked, "free text is prepared again"


async def test_a_call_by_id_is_prepared_apart_from_the_same_text(
    gateway: Gateway, parses: list[str]
) -> None:
    """Through the app: the document registered (hash and text: free text, prepared as
    such), then called by hash and by `documentId` — prepared once more, in the
    registered documents' caches, and never again."""
    served(await post(gateway, {"query": QUERY, "extensions": apq()}))
    assert parses == [QUERY]
    by_hash = served(await post(gateway, {"extensions": apq()}))
    by_id = served(await post(gateway, {"documentId": f"sha256:{SHA256}"}))
    again = served(await post(gateway, {"extensions": apq()}))
    assert by_hash == by_id == again
    assert parses == [QUERY, QUERY]
