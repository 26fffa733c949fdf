"""Through the app on a PostgreSQL store: every refusal's record fits the audit columns
(on SQLite a value too long for a column is stored anyway; PostgreSQL refuses it, and
the request with it)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import errors
from settings import Settings
from store.tables import audit_records
from tests.audit.conftest import Store
from tests.conftest import SEED, serving, source_urls

pytestmark = pytest.mark.anyio

PERSISTED = {"persistedQuery": {"version": 1, "sha256Hash": "ab" * 32}}


def test_every_request_error_names_an_outcome_the_column_holds() -> None:
    width = audit_records.c.outcome.type.length  # type: ignore[attr-defined]
    refusals = [errors.RequestError, *_subclasses(errors.RequestError)]
    assert len(refusals) > 5
    for refusal in refusals:
        assert 0 < len(refusal.outcome) <= width, refusal.__name__


def _subclasses(kind: type[errors.RequestError]) -> list[type[errors.RequestError]]:
    return [c for sub in kind.__subclasses__() for c in (sub, *_subclasses(sub))]


async def test_refusals_are_recorded_on_postgresql(
    postgres_store: Store, tmp_path: Path, demo_dir: Path
) -> None:
    settings = Settings(
        demo=True,
        seed=SEED,
        data_dir=tmp_path,
        sources=source_urls(demo_dir),
        platform_store_url=postgres_store.url,
    )
    async with serving(settings) as gateway:
        for body, headers, status, outcome in (
            ("{ __typename }", {"Content-Type": "text/plain"}, 415, "bad_media_type"),
            (json.dumps({"extensions": PERSISTED}), {}, 400, "persisted_query"),
            (
                json.dumps({"query": "{ __typename }"}),
                {"Accept": "text/csv"},
                406,
                "not_acceptable",
            ),
            (json.dumps({"query": "{ __typename }"}), {"X-Operator": "张"}, 400, "bad_header"),
        ):
            sent = {"Content-Type": "application/json", **headers}
            response = await gateway.client.post(
                "/graphql", content=body, headers={k: v.encode() for k, v in sent.items()}
            )
            assert response.status_code == status, response.text
            record = await gateway.audit(response)
            assert record["outcome"] == outcome and record["http_status"] == status
