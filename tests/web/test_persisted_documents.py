"""Documents called by id, as department systems' clients send them: Apollo's automatic
persisted queries (POST and GET) and the GraphQL-over-HTTP appendix's `documentId`;
each document its registering system's only; every refusal with a request id and its
audit record."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from auth import demo_key
from documents import DocumentStore, Owner
from resolvers.execution import document_id
from settings import Settings
from tests.conftest import SEED, Gateway, serving, source_urls
from web.app import create_app

pytestmark = pytest.mark.anyio

QUERY = "query FirstEnterprise { enterprises(first: 1) { edges { node { name } } } }"
SHA256 = hashlib.sha256(QUERY.encode()).hexdigest()
MARRIAGE = "marriage-registry"
MARRIAGE_DEPARTMENT = "11410581005000006G"


def apq(sha256: str = SHA256) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256}}


def headers(system: str | None) -> dict[str, str]:
    # Apollo Client 3's HttpLink sends `accept: */*` unless told otherwise.
    sent = {"Accept": "*/*", "X-Purpose": "administrative_basis"}
    if system is not None:
        sent["Authorization"] = f"Bearer {demo_key(SEED, system)}"
    return sent


async def post(gateway: Gateway, body: dict[str, Any], system: str | None = MARRIAGE) -> Any:
    return await gateway.client.post("/graphql", json=body, headers=headers(system))


async def get(gateway: Gateway, params: dict[str, Any], system: str | None = MARRIAGE) -> Any:
    sent = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in params.items()}
    return await gateway.client.get("/graphql", params=sent, headers=headers(system))


async def refused(gateway: Gateway, response: httpx.Response, status: int, code: str) -> str:
    """The one error's message, once the refusal is checked and found on record."""
    assert response.status_code == status, response.text
    body = response.json()
    [error] = body["errors"]
    assert error["extensions"]["code"] == code and "data" not in body
    assert body["extensions"]["requestId"] == response.headers["x-request-id"]
    record = await gateway.audit(response)
    assert record["error_codes"] == [code] and record["http_status"] == status
    return str(error["message"])


def served(response: httpx.Response) -> list[Any]:
    assert response.status_code == 200, response.text
    return list(response.json()["data"]["enterprises"]["edges"])


async def test_apollo_clients_sequence_by_post_then_by_get(gateway: Gateway) -> None:
    """Hash alone, PersistedQueryNotFound (the message Apollo Client matches), hash and
    text, then the hash alone is served, by POST and by GET (useGETForHashedQueries)."""
    hashed = {"operationName": "FirstEnterprise", "variables": {}, "extensions": apq()}
    missed = await post(gateway, hashed)
    assert await refused(gateway, missed, 400, "PERSISTED_QUERY_NOT_FOUND") == (
        "PersistedQueryNotFound"
    )
    registered = await post(gateway, {**hashed, "query": QUERY})
    expected = served(registered)
    assert len(expected) == 1
    for hit in (await post(gateway, hashed), await get(gateway, hashed)):
        assert served(hit) == expected
        record = await gateway.audit(hit)
        assert record["operation_hash"] == document_id(QUERY), "the text's SM3, as sent in full"
        assert record["operation_name"] == "FirstEnterprise" and record["outcome"] == "served"


async def test_a_get_miss_then_registration_by_get(gateway: Gateway) -> None:
    missed = await get(gateway, {"extensions": apq()})
    assert await refused(gateway, missed, 400, "PERSISTED_QUERY_NOT_FOUND") == (
        "PersistedQueryNotFound"
    )
    served(await get(gateway, {"query": QUERY, "extensions": apq()}))
    served(await get(gateway, {"extensions": apq()}))


async def test_a_hash_that_is_not_the_texts_is_refused_and_nothing_is_stored(
    gateway: Gateway,
) -> None:
    wrong = hashlib.sha256(b"{ __typename }").hexdigest()
    response = await post(gateway, {"query": QUERY, "extensions": apq(wrong)})
    message = await refused(gateway, response, 400, "PERSISTED_QUERY_HASH_MISMATCH")
    assert "nothing was stored" in message
    for sha256 in (wrong, SHA256):
        missed = await post(gateway, {"extensions": apq(sha256)})
        await refused(gateway, missed, 400, "PERSISTED_QUERY_NOT_FOUND")


async def test_a_document_is_its_registering_systems_only(gateway: Gateway) -> None:
    served(await post(gateway, {"query": QUERY, "extensions": apq()}))
    for system in ("tax-admin", None):  # another department's system; the public
        missed = await post(gateway, {"extensions": apq()}, system)
        await refused(gateway, missed, 400, "PERSISTED_QUERY_NOT_FOUND")
        by_id = await post(gateway, {"documentId": f"sha256:{SHA256}"}, system)
        await refused(gateway, by_id, 400, "PERSISTED_QUERY_NOT_FOUND")
    served(await post(gateway, {"extensions": apq()}))


async def test_a_document_id_by_post_and_get(gateway: Gateway) -> None:
    unknown = f"sha256:{SHA256}"
    missed = await post(gateway, {"documentId": unknown})
    assert unknown in await refused(gateway, missed, 400, "PERSISTED_QUERY_NOT_FOUND")
    served(await post(gateway, {"query": QUERY, "extensions": apq()}))
    expected = served(await post(gateway, {"documentId": unknown}))
    assert served(await get(gateway, {"documentId": unknown})) == expected


async def test_a_manifests_own_id(gateway: Gateway) -> None:
    """Relay names documents by ids of its own (MD5 of the text)."""
    relay_id = hashlib.md5(QUERY.encode()).hexdigest()
    missed = await post(gateway, {"documentId": relay_id})
    assert relay_id in await refused(gateway, missed, 400, "PERSISTED_QUERY_NOT_FOUND")
    store = DocumentStore(gateway.platform.store)
    await store.register(Owner(MARRIAGE_DEPARTMENT, MARRIAGE), QUERY, custom_id=relay_id)
    served(await post(gateway, {"documentId": relay_id}))
    missed = await post(gateway, {"documentId": relay_id}, "tax-admin")
    await refused(gateway, missed, 400, "PERSISTED_QUERY_NOT_FOUND")


@pytest.mark.parametrize(
    "body",
    [
        {"extensions": {"persistedQuery": {"version": 2, "sha256Hash": SHA256}}},
        {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": SHA256.upper()}}},
        {"extensions": {"persistedQuery": {"version": 1}}},
        {"extensions": {"persistedQuery": "yes"}},
        {"documentId": f"sha256:{SHA256[:10]}"},
        {"documentId": 7},
        {"documentId": ""},
        {"documentId": "x" * 201},
        {"documentId": f"sha256:{SHA256}", "query": QUERY},
    ],
)
async def test_malformed_ids_are_bad_requests(gateway: Gateway, body: dict[str, Any]) -> None:
    await refused(gateway, await post(gateway, body), 400, "BAD_REQUEST")


async def test_a_mutation_by_get_is_405(gateway: Gateway) -> None:
    mutation = "mutation M { __typename }"
    response = await get(gateway, {"query": mutation})
    await refused(gateway, response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "POST"
    two = f"query Q {{ __typename }} {mutation}"
    await refused(
        gateway, await get(gateway, {"query": two, "operationName": "M"}), 405, "METHOD_NOT_ALLOWED"
    )
    # By POST it is the schema's to refuse: there are no mutations.
    posted = await post(gateway, {"query": mutation})
    await refused(gateway, posted, 400, "GRAPHQL_VALIDATION_FAILED")


async def test_without_automatic_registration_the_text_runs_and_is_not_stored(
    tmp_path: Path, demo_dir: Path
) -> None:
    settings = Settings(
        demo=True,
        seed=SEED,
        data_dir=tmp_path,
        sources=source_urls(demo_dir),
        apq_registering_systems=["tax-admin"],
    )
    async with serving(settings) as gateway:
        served(await post(gateway, {"query": QUERY, "extensions": apq()}))
        missed = await post(gateway, {"extensions": apq()})
        await refused(gateway, missed, 400, "PERSISTED_QUERY_NOT_FOUND")
        served(await post(gateway, {"query": QUERY, "extensions": apq()}, "tax-admin"))
        served(await post(gateway, {"extensions": apq()}, "tax-admin"))


async def test_a_document_that_cannot_run_is_not_registered(gateway: Gateway) -> None:
    for text, code in (
        ("{ enterprises(", "GRAPHQL_PARSE_FAILED"),
        ("{ nope }", "GRAPHQL_VALIDATION_FAILED"),
    ):
        sha256 = hashlib.sha256(text.encode()).hexdigest()
        sent = await post(gateway, {"query": text, "extensions": apq(sha256)})
        await refused(gateway, sent, 400, code)
        missed = await post(gateway, {"extensions": apq(sha256)})
        await refused(gateway, missed, 400, "PERSISTED_QUERY_NOT_FOUND")


async def test_a_document_that_cannot_be_looked_up_is_a_store_outage(
    settings: Settings, tmp_path: Path
) -> None:
    """The store that keeps the documents keeps the audit log: 503, no data, on record."""
    gone = create_async_engine(f"sqlite+aiosqlite:///file:{tmp_path / 'gone'}.db?mode=ro&uri=true")
    try:
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            app.state.documents.store = DocumentStore(gone)
            transport = httpx.ASGITransport(app=app, client=("10.1.2.3", 50000))
            async with httpx.AsyncClient(
                transport=transport, base_url="http://gov-share"
            ) as client:
                gateway = Gateway(client, app.state.platform)
                for body in ({"extensions": apq()}, {"documentId": f"sha256:{SHA256}"}):
                    response = await post(gateway, body)
                    await refused(gateway, response, 503, "AUDIT_UNAVAILABLE")
                    assert (await gateway.audit(response))["caller_system"] == MARRIAGE
    finally:
        await gone.dispose()
