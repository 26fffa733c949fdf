"""GraphQL over HTTP, callers, purposes, readiness and the audit record, through the app."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import quote

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import create_async_engine

from audit import AuditLog
from auth import demo_key
from settings import Settings
from tests.conftest import SEED, Gateway, source_urls
from web.app import create_app

pytestmark = pytest.mark.anyio

NAMES = "{ enterprises(first: 3) { edges { node { name creditCode } } } }"


async def test_graphql_response_media_type_and_request_id(gateway: Gateway) -> None:
    response = await gateway.query(NAMES)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/graphql-response+json")
    assert response.json()["extensions"]["requestId"] == response.headers["x-request-id"]


async def test_plain_json_when_asked(gateway: Gateway) -> None:
    """Only when asked: `*/*`, or no Accept at all, is the GraphQL media type (the
    specification's rule since 2025-01-01)."""
    response = await gateway.query(NAMES, headers={"Accept": "application/json"})
    assert response.headers["content-type"].startswith("application/json")
    response = await gateway.query(NAMES, headers={"Accept": "*/*"})
    assert response.headers["content-type"].startswith("application/graphql-response+json")
    response = await gateway.client.post("/graphql", json={"query": NAMES})
    assert response.headers["content-type"].startswith("application/graphql-response+json")


async def test_unacceptable_media_type_is_406(gateway: Gateway) -> None:
    response = await gateway.query(NAMES, headers={"Accept": "text/csv"})
    assert response.status_code == 406
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_ACCEPTABLE"
    assert (await gateway.audit(response))["http_status"] == 406


async def test_parse_and_validation_errors_status_per_media_type(gateway: Gateway) -> None:
    for query, code in (
        ("{ enterprises(first: 1) {", "GRAPHQL_PARSE_FAILED"),
        ("{ noSuchField }", "GRAPHQL_VALIDATION_FAILED"),
    ):
        strict = await gateway.query(query)
        assert strict.status_code == 400
        assert "data" not in strict.json()
        assert strict.json()["errors"][0]["extensions"]["code"] == code
        legacy = await gateway.query(query, headers={"Accept": "application/json"})
        assert legacy.status_code == 200
        assert (await gateway.audit(strict))["outcome"] == "invalid"


async def test_malformed_requests_are_400_and_recorded(gateway: Gateway) -> None:
    headers = {"Content-Type": "application/json", "Accept": "application/graphql-response+json"}
    for body in (
        '{"query": ',
        '{"variables": {}}',
        '{"query": 5}',
        "[]",
        '{"query": "{ __typename }", "variables": 3}',
    ):
        response = await gateway.client.post("/graphql", content=body, headers=headers)
        assert response.status_code == 400, body
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
        assert (await gateway.audit(response))["outcome"] == "bad_request"


async def test_post_must_be_json(gateway: Gateway) -> None:
    response = await gateway.client.post(
        "/graphql", content=NAMES, headers={"Content-Type": "application/graphql"}
    )
    assert response.status_code == 415


async def test_get_runs_queries(gateway: Gateway) -> None:
    response = await gateway.client.get(
        "/graphql",
        params={
            "query": "query One($n: Int!) { enterprises(first: $n) { edges { node { name } } } }",
            "variables": json.dumps({"n": 2}),
        },
    )
    assert response.status_code == 200
    assert len(response.json()["data"]["enterprises"]["edges"]) == 2


async def test_graphiql_in_demo_mode(gateway: Gateway) -> None:
    response = await gateway.client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200 and "graphiql" in response.text.lower()


async def test_public_role_sees_only_open_resources(gateway: Gateway) -> None:
    """Closed resources and the items the public may not read are not in its schema."""
    response = await gateway.query(
        "{ enterprises(first: 2) { edges { node { name legalRepIdNumber landParcels { edges { node { parcelCode } } } } } } persons(first: 1) { edges { node { name } } } }",
        system=None,
        purpose=None,
    )
    body = response.json()
    assert response.status_code == 400 and "data" not in body
    assert [error["message"] for error in body["errors"]] == [
        "Cannot query field 'legalRepIdNumber' on type 'Enterprise'. Did you mean "
        "'legalRepName'?",  # a suggestion from the public's schema: an item it reads
        "Cannot query field 'landParcels' on type 'Enterprise'.",
        "Cannot query field 'persons' on type 'Query'.",
    ]
    assert {error["extensions"]["code"] for error in body["errors"]} == {
        "GRAPHQL_VALIDATION_FAILED"
    }
    body = (
        await gateway.query(
            "{ enterprises(first: 2) { edges { node { name } } } }", system=None, purpose=None
        )
    ).json()
    assert all(edge["node"]["name"] for edge in body["data"]["enterprises"]["edges"])


async def test_a_bad_key_is_401_and_recorded(gateway: Gateway) -> None:
    for authorization in ("Bearer gsk_not_a_key", "Basic abc", "Bearer "):
        response = await gateway.client.post(
            "/graphql", json={"query": NAMES}, headers={"Authorization": authorization}
        )
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert "data" not in response.json()
        record = await gateway.audit(response)
        assert record["outcome"] == "unauthenticated" and record["http_status"] == 401


async def test_demo_keys_are_refused_outside_demo_mode(tmp_path: Path, demo_dir: Path) -> None:
    demo = Settings(demo=True, data_dir=tmp_path, sources=source_urls(demo_dir))
    app = create_app(demo)
    async with app.router.lifespan_context(app):
        pass  # seeds the demo keys into this store
    production = Settings(
        demo=False,
        data_dir=tmp_path,
        sources=source_urls(demo_dir),
        audit_key_id="k1",
        audit_keys={"k1": "0" * 32},
        cursor_key="1" * 32,
        audit_signing_key="07" * 32,
    )
    app = create_app(production)
    import httpx

    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        response = await client.post(
            "/graphql",
            json={"query": NAMES},
            headers={"Authorization": f"Bearer {demo_key(SEED, 'tax-admin')}"},
        )
        assert response.status_code == 401
        ide = await client.get("/graphql", headers={"Accept": "text/html"})
        assert ide.status_code == 404


async def test_production_mode_refuses_to_start_without_keys(tmp_path: Path) -> None:
    from errors import ConfigurationError

    app = create_app(Settings(demo=False, data_dir=tmp_path))
    with pytest.raises(ConfigurationError, match="audit HMAC key"):
        async with app.router.lifespan_context(app):
            pass


async def test_purpose_is_checked(gateway: Gateway) -> None:
    response = await gateway.query(NAMES, purpose="curiosity")
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_PURPOSE"
    assert (await gateway.audit(response))["outcome"] == "bad_purpose"

    body = (
        await gateway.query(
            "{ persons(first: 2) { edges { node { name householdAddress } } } }", purpose=None
        )
    ).json()
    [error] = body["errors"]
    assert error["extensions"]["code"] == "PURPOSE_REQUIRED"
    assert all(edge["node"]["name"] for edge in body["data"]["persons"]["edges"])


async def test_a_grant_holds_for_its_purpose_only(gateway: Gateway) -> None:
    """The marriage registry reads household addresses clear for administrative use; for
    another purpose it sees them as every department does, cut after the township."""
    query = "{ persons(first: 2) { edges { node { householdAddress } } } }"
    granted = (await gateway.query(query, purpose="administrative_basis")).json()
    clear = [e["node"]["householdAddress"] for e in granted["data"]["persons"]["edges"]]
    assert "errors" not in granted and all(address[-1] == "号" for address in clear)
    other = (await gateway.query(query, purpose="work_reference")).json()
    masked = [e["node"]["householdAddress"] for e in other["data"]["persons"]["edges"]]
    assert "errors" not in other
    assert [address.removesuffix("***") for address in masked] == [
        re.match(r".+?(街道|镇|乡)", address)[0]  # type: ignore[index]
        for address in clear
    ]


async def test_the_audit_record_says_who_what_why(gateway: Gateway, department_db: Any) -> None:
    response = await gateway.query(
        "{ enterprises(first: 2) { edges { node { name legalRepresentative { name } } } } }",
        headers={"X-Operator": "mz-0231", "X-Purpose-Reference": quote("（2026）林民登字第118号")},
    )
    record = await gateway.audit(response)
    assert (record["caller_department"], record["caller_system"], record["operator"]) == (
        "11410581005000006G",
        "marriage-registry",
        "mz-0231",
    )
    assert record["purpose"] == "administrative_basis"
    assert record["purpose_reference"] == "（2026）林民登字第118号"
    assert record["client_address"] == "10.1.2.3"
    assert record["outcome"] == "served"
    fields = {entry["path"]: entry for entry in record["fields"]}
    assert fields["enterprises.edges.node.name"]["count"] == 2
    assert fields["enterprises.edges.node.legalRepresentative.name"]["decision"] == "clear"
    assert set(record["records"]) == {"enterprise", "person"}
    assert len(record["records"]["enterprise"]["subjects"]) == 2
    assert record["catalog_version"] == gateway.platform.catalog.version

    rows = department_db(
        "market_regulation",
        "SELECT credit_code, legal_rep_id_number FROM enterprise ORDER BY credit_code LIMIT 2",
    )
    stored = json.dumps(record, default=str)
    for row in rows:
        assert row["credit_code"] not in stored and row["legal_rep_id_number"] not in stored
        assert (
            gateway.platform.hasher.hash(row["credit_code"])
            in record["records"]["enterprise"]["keys"]
        )


async def test_readiness_with_one_department_down(tmp_path: Path, demo_dir: Path) -> None:
    sources = source_urls(demo_dir)
    sources["taxation"] = f"sqlite+aiosqlite:///file:{tmp_path / 'gone.db'}?mode=ro&uri=true"
    app = create_app(Settings(demo=True, data_dir=tmp_path, sources=sources))
    import httpx

    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        ready = await client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["sources"]["taxation"] == "unavailable"
        assert ready.json()["sources"]["market_regulation"] == "available"
        assert (await client.get("/healthz")).status_code == 200

        body = (
            await client.post(
                "/graphql",
                json={
                    "query": "{ enterprises(first: 3) { edges { node { name taxRegistration { taxpayerName } } } } }"
                },
                headers={"Authorization": f"Bearer {demo_key(SEED, 'tax-admin')}"},
            )
        ).json()
        assert all(edge["node"]["name"] for edge in body["data"]["enterprises"]["edges"])
        [error] = body["errors"]
        assert error["extensions"]["code"] == "SOURCE_UNAVAILABLE"
        assert "gone.db" not in json.dumps(body)


async def test_audit_failure_serves_no_data(gateway: Gateway) -> None:
    """The store turned read-only under the server: the record cannot be committed."""
    store = create_async_engine(gateway.platform.settings.store_url())

    @event.listens_for(store.sync_engine, "connect")
    def _read_only(connection: Any, _record: Any) -> None:
        connection.execute("PRAGMA query_only = ON")

    gateway.platform.audit = AuditLog(store)
    try:
        response = await gateway.query(NAMES)
    finally:
        await store.dispose()
    assert response.status_code == 503
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "AUDIT_UNAVAILABLE"


class Crashing:
    """An executor with a defect: it raises with a message that quotes a value."""

    async def execute(self, *arguments: object) -> NoReturn:
        raise LookupError("no person 410581199003071234")


async def test_a_crash_is_an_internal_error_with_a_request_id_and_a_record(
    gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    gateway.platform.executor = Crashing()  # type: ignore[assignment]
    caplog.set_level(logging.INFO, logger="gov_share.server")
    for accept in ("application/graphql-response+json", "application/json"):
        response = await gateway.query(NAMES, headers={"Accept": accept})
        assert response.status_code == 500
        assert response.headers["content-type"] == f"{accept}; charset=utf-8"
        body = response.json()
        assert "data" not in body
        [error] = body["errors"]
        assert error["extensions"] == {"code": "INTERNAL_ERROR"}
        request_id = response.headers["x-request-id"]
        assert body["extensions"]["requestId"] == request_id
        record = await gateway.audit(response)
        assert (record["outcome"], record["http_status"]) == ("internal_error", 500)
        assert record["error_codes"] == ["INTERNAL_ERROR"]
        assert record["caller_system"] == "marriage-registry"
        [logged] = [r for r in caplog.records if r.message == "graphql request failed"]
        assert logged.request_id == request_id  # type: ignore[attr-defined]
        assert logged.error == "LookupError"  # type: ignore[attr-defined]
        assert "410581199003071234" not in response.text
        assert "410581199003071234" not in caplog.text
        assert all(not r.exc_info for r in caplog.records)
        caplog.clear()
