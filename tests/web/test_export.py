"""Batch download: an export serves what the same GraphQL query serves the same caller,
page by page, resumable, on record — and nothing a query would not."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from audit import verify
from auth import demo_key
from settings import Settings
from store import audit_records
from tests.conftest import SEED, Gateway, serving
from web import export

pytestmark = pytest.mark.anyio

FIELDS = "name,creditCode,contactPhone"
QUERY = "{ enterprises(first: 1000) { totalCount edges { cursor node { name creditCode contactPhone } } } }"


async def _export(
    gateway: Gateway,
    params: dict[str, str],
    *,
    resource: str = "enterprises",
    system: str | None = "marriage-registry",
    purpose: str = "administrative_basis",
) -> httpx.Response:
    sent = {"X-Purpose": purpose}
    if system is not None:
        sent["Authorization"] = f"Bearer {demo_key(SEED, system)}"
    return await gateway.client.get(f"/export/{resource}", params=params, headers=sent)


async def _edges(gateway: Gateway, system: str = "marriage-registry") -> list[dict[str, Any]]:
    response = await gateway.query(QUERY, system=system)
    body = response.json()
    assert "errors" not in body
    edges: list[dict[str, Any]] = body["data"]["enterprises"]["edges"]
    assert body["data"]["enterprises"]["totalCount"] > len(edges), "the export spans pages"
    return edges


def _jsonl(response: httpx.Response) -> list[dict[str, Any]]:
    return [json.loads(line) for line in response.text.splitlines()]


async def test_jsonl_is_the_graphql_answer_with_masks(gateway: Gateway) -> None:
    edges = await _edges(gateway)
    response = await _export(gateway, {"format": "jsonl", "fields": FIELDS})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/jsonl")
    rows = _jsonl(response)
    assert [row["node"] for row in rows[: len(edges)]] == [edge["node"] for edge in edges]
    assert len({row["node"]["creditCode"] for row in rows}) == len(rows) > len(edges)
    assert all(
        "****" in edge["node"]["contactPhone"] for edge in edges if edge["node"]["contactPhone"]
    )


async def test_csv_is_the_graphql_answer(gateway: Gateway) -> None:
    edges = await _edges(gateway)
    response = await _export(gateway, {"format": "csv", "fields": FIELDS})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["name", "creditCode", "contactPhone", "cursor"]
    expected = [
        [e["node"]["name"], e["node"]["creditCode"], e["node"]["contactPhone"] or ""] for e in edges
    ]
    assert [row[:3] for row in rows[1 : len(edges) + 1]] == expected


async def test_pages_resume_from_a_cursor_exactly_once(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "PAGE", 7)
    whole = _jsonl(await _export(gateway, {"fields": "creditCode"}))
    assert len(whole) > 20
    cut = 10
    rest = _jsonl(
        await _export(gateway, {"fields": "creditCode", "after": whole[cut - 1]["cursor"]})
    )
    assert [r["node"] for r in whole[:cut] + rest] == [r["node"] for r in whole]


async def test_each_page_is_on_record_with_its_count_and_keys(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "PAGE", 7)
    response = await _export(gateway, {"fields": "creditCode"})
    rows = _jsonl(response)
    record = await gateway.audit(response)
    first = [row["node"]["creditCode"] for row in rows[:7]]
    hashed = gateway.platform.hasher.hash_all(first)
    assert sorted(record["records"]["enterprise"]["keys"]) == sorted(hashed)
    counts = {f["path"]: f["count"] for f in record["fields"]}
    assert counts["enterprises.edges.node.creditCode"] == 7
    assert (record["download_id"], record["download_records"]) == (record["request_id"], 7)


async def _download(gateway: Gateway, download_id: str) -> list[dict[str, Any]]:
    """The records of one download's pages, in the order they were written."""
    columns = audit_records.c
    query = sa.select(audit_records).where(columns.download_id == download_id)
    async with gateway.platform.audit.engine.connect() as connection:
        rows = (await connection.execute(query.order_by(columns.seq))).mappings().all()
    return [dict(row) for row in rows]


async def test_the_last_page_on_record_states_the_whole_downloads_count_and_key_digest(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every page's record carries the download's first request id, its records so far
    and the digest of their keys, chained page by page from the hashed keys each record
    keeps: an auditor recomputes it from the records alone."""
    monkeypatch.setattr(export, "PAGE", 7)
    response = await _export(gateway, {"fields": "creditCode", "format": "csv"})
    served = [row[0] for row in csv.reader(io.StringIO(response.text))][1:]
    pages = await _download(gateway, response.headers["x-request-id"])
    assert len(pages) == len(served) // 7 + 1 > 3
    assert len({page["request_id"] for page in pages}) == len(pages)
    digest, seen = "0" * 64, 0
    for page in pages:
        keys = _keys(page)
        digest = hashlib.new("sm3", (digest + "".join(keys)).encode()).hexdigest()
        seen += len(keys)
        assert (page["download_records"], page["download_digest"]) == (seen, digest)
    whole = gateway.platform.hasher.hash_all(served)
    assert pages[-1]["download_records"] == len(served) == len(whole)
    assert sorted(k for p in pages for k in _keys(p)) == whole
    assert (await verify(gateway.platform.audit.engine)).ok, "the accounts are in the chain"


def _keys(page: dict[str, Any]) -> list[str]:
    """The hashed keys a page's record keeps (none for a page refused)."""
    return list(page["records"].get("enterprise", {}).get("keys", []))


async def test_a_page_refused_mid_download_carries_the_account_of_the_pages_before(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "PAGE", 7)
    limited = settings.model_copy(update={"rate_limit_system": "2/hour"})
    async with serving(limited) as gateway:
        response = await _export(gateway, {"fields": "creditCode"})
        first, second, refused = await _download(gateway, response.headers["x-request-id"])
    assert refused["error_codes"] == ["RATE_LIMITED"]
    assert (first["download_records"], second["download_records"]) == (7, 14)
    assert (refused["download_records"], refused["download_digest"]) == (
        14,
        second["download_digest"],
    )


async def test_a_resource_not_shared_by_batch_download_is_refused(gateway: Gateway) -> None:
    response = await _export(gateway, {"fields": "name"}, resource="taxRegistrations")
    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await gateway.audit(response))["outcome"] == "forbidden"


async def test_a_denied_field_refuses_the_export_up_front(gateway: Gateway) -> None:
    response = await _export(gateway, {"fields": "name,legalRepIdNumber"}, purpose="work_reference")
    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"]["code"] == "APPLICATION_REQUIRED"
    assert "legalRepIdNumber" not in response.text.replace("Enterprise.legalRepIdNumber", "")


async def test_the_public_is_refused_what_is_not_open(gateway: Gateway) -> None:
    response = await _export(gateway, {"fields": "name,contactPhone"}, system=None)
    assert response.status_code == 403


@pytest.mark.parametrize(
    "params", [{"fields": "name", "format": "xml"}, {"fields": "nope"}, {"fields": ""}]
)
async def test_bad_input_gets_a_clear_error(gateway: Gateway, params: dict[str, str]) -> None:
    response = await _export(gateway, params)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_every_page_spends_the_callers_rate_and_a_spent_rate_ends_the_body(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A download is as many requests as it has pages: the third page finds the
    system's rate spent, so the body ends after two pages and the refusal is on
    record; the next request is refused RATE_LIMITED with its Retry-After."""
    monkeypatch.setattr(export, "PAGE", 7)
    limited = settings.model_copy(update={"rate_limit_system": "2/hour"})
    async with serving(limited) as gateway:
        response = await _export(gateway, {"fields": "creditCode"})
        assert response.status_code == 200
        assert len(_jsonl(response)) == 14, "two pages, then the rate is spent"
        refused = await _export(gateway, {"fields": "creditCode"})
        assert refused.status_code == 429 and "Retry-After" in refused.headers
        assert (await gateway.audit(refused))["error_codes"] == ["RATE_LIMITED"]
        scraped = (await gateway.client.get("/metrics")).text
        assert 'gov_share_rate_limited_requests_total{limit="system"} 2.0' in scraped


async def test_the_public_downloads_the_open_items_of_an_open_resource(gateway: Gateway) -> None:
    response = await _export(gateway, {"fields": "creditCode,name"}, system=None)
    assert response.status_code == 200, response.text
    rows = _jsonl(response)
    assert len(rows) > 1000 and set(rows[0]["node"]) == {"creditCode", "name"}
