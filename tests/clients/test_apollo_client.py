"""Apollo Client 3 (`tests/clients/apollo`, pinned by its package-lock.json) drives a
`server.py --demo` process unmodified, from Node: its persisted-query link by POST and
with `useGETForHashedQueries`. What went over the wire is checked against the server's
own audit records, so the test fails if the hash-only calls were not what was served.

Node and the client's packages (`npm ci` in tests/clients/apollo) are needed: missing,
the test is skipped, and fails under CI=true.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from auth import demo_key
from resolvers.execution import document_id
from settings import ROOT
from tests.conftest import SEED, source_urls
from tests.processes import serving

# Slow: leave out with -m 'not slow' (README); CI runs it.
pytestmark = pytest.mark.slow

CLIENT = Path(__file__).parent / "apollo"
SYSTEM = "planning-permits"
KEY = demo_key(SEED, SYSTEM)
BY_POST = "query FirstEnterprise { enterprises(first: 1) { edges { node { name creditCode } } } }"
BY_GET = "query TwoEnterprises { enterprises(first: 2) { edges { node { name } } } }"


@pytest.fixture
def node() -> str:
    """Node, with the pinned client installed; asked for before a server is started."""
    node = shutil.which("node")
    if node is None or not (CLIENT / "node_modules" / "@apollo" / "client").is_dir():
        message = (
            "node or the pinned Apollo Client is not installed:"
            f" install Node 20 and run `npm ci` in {CLIENT.relative_to(ROOT)}"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return node


@pytest.fixture
def running(tmp_path: Path, demo_dir: Path) -> Iterator[tuple[str, Path]]:
    """A demo server on the session's demo sources; its URL and its platform store."""
    env = {
        "GOV_SHARE_DATA_DIR": str(tmp_path / "var"),
        "GOV_SHARE_SOURCES": json.dumps(source_urls(demo_dir)),
    }
    with serving("--demo", env=env, log=tmp_path / "server.log") as base:
        yield base, tmp_path / "var" / "platform.db"


def _drive(node: str, base: str, mode: str, query: str) -> dict[str, Any]:
    done = subprocess.run(
        [node, "drive.js", f"{base}/graphql", KEY, mode, query],
        cwd=CLIENT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    driven: dict[str, Any] = json.loads(done.stdout)
    return driven


def _parameters(exchange: dict[str, Any]) -> dict[str, Any]:
    """The GraphQL-over-HTTP parameters the exchange sent, from its body or its URL."""
    if exchange["method"] == "POST":
        sent: dict[str, Any] = json.loads(exchange["body"])
        return sent
    query = parse_qs(urlsplit(exchange["url"]).query)
    return {
        name: json.loads(value) if name in ("variables", "extensions") else value
        for name, [value] in query.items()
    }


def _audit(store: Path, request_id: str) -> tuple[str, list[str], str | None]:
    """(outcome, error codes, operation hash) of the request's audit record."""
    with sqlite3.connect(store) as connection:
        row = connection.execute(
            "SELECT outcome, error_codes, operation_hash FROM audit_records WHERE request_id = ?",
            (request_id,),
        ).fetchone()
    assert row is not None, "every request must leave an audit record"
    return row[0], json.loads(row[1]), row[2]


@pytest.mark.parametrize(
    ("mode", "query", "hashed_by"),
    [("post", BY_POST, "POST"), ("get", BY_GET, "GET")],
    ids=["post", "get-for-hashed-queries"],
)
def test_apollo_clients_persisted_query_link(
    node: str, running: tuple[str, Path], mode: str, query: str, hashed_by: str
) -> None:
    """First run: the hash alone, PersistedQueryNotFound, then hash and text (by POST,
    as the link sends any request with text): served and registered. Second run: the
    hash alone, served. Each run's data is what the text Apollo sent returns."""
    base, store = running
    driven = _drive(node, base, mode, query)
    miss, registration, hit = driven["exchanges"]
    assert [miss["method"], registration["method"], hit["method"]] == [hashed_by, "POST", hashed_by]
    assert [miss["status"], registration["status"], hit["status"]] == [400, 200, 200]

    text = _parameters(registration)["query"]  # as Apollo printed it, with __typename
    sha256 = hashlib.sha256(text.encode()).hexdigest()
    for hashed in (miss, hit):
        sent = _parameters(hashed)
        assert "query" not in sent
        assert sent["extensions"]["persistedQuery"] == {"version": 1, "sha256Hash": sha256}

    assert _audit(store, miss["requestId"]) == (
        "persisted_query",
        ["PERSISTED_QUERY_NOT_FOUND"],
        None,
    )
    for served in (registration, hit):
        assert _audit(store, served["requestId"]) == ("served", [], document_id(text))

    direct = httpx.post(
        f"{base}/graphql",
        json={"query": text},
        headers={"Authorization": f"Bearer {KEY}", "X-Purpose": "administrative_basis"},
    )
    assert direct.status_code == 200 and "errors" not in direct.json()
    expected = direct.json()["data"]
    assert expected["enterprises"]["edges"]
    assert driven["runs"] == [expected, expected]
