"""Both manifest formats read, and every malformed one refused naming the problem."""

from __future__ import annotations

import hashlib
import json

import pytest

from documents.manifest import read_manifest
from documents.store import RegistrationRefused

BODY = "query A { __typename }"
ID = hashlib.sha256(BODY.encode()).hexdigest()


def apollo(**entry: object) -> str:
    operation = {"id": ID, "name": "A", "type": "query", "body": BODY, **entry}
    return json.dumps(
        {"format": "apollo-persisted-query-manifest", "version": 1, "operations": [operation]}
    )


def test_apollo_and_relay() -> None:
    [operation] = read_manifest(apollo())
    assert (operation.custom_id, operation.name, operation.document_id) == (
        None,
        "A",
        f"sha256:{ID}",
    )
    [relay] = read_manifest(json.dumps({"5a0c": BODY}))
    assert (relay.custom_id, relay.text, relay.document_id) == ("5a0c", BODY, "5a0c")


@pytest.mark.parametrize(
    ("manifest", "problem"),
    [
        ("[1]", "neither"),
        ("{", "not valid JSON"),
        ("{}", "holds no operation"),
        (apollo(id="0" * 64), "is not the SHA-256"),
        (apollo(type="fragment"), '"type" must be one of'),
        (apollo(body=""), '"body" must be'),
        (apollo(name="N" * 201), "at most 200 characters"),
        (json.dumps({"format": "apollo-persisted-query-manifest", "version": 2}), '"version": 1'),
        (json.dumps({"x" * 201: BODY}), "ids are 1 to 200"),
        (json.dumps({"a": 7}), "must be the operation's text"),
    ],
)
def test_malformed_manifests(manifest: str, problem: str) -> None:
    with pytest.raises(RegistrationRefused, match=problem):
        read_manifest(manifest)
