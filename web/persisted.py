"""The two wire conventions for calling a registered document by id, read from a
request's parameters into the text to run.

- Apollo's automatic persisted queries: `extensions.persistedQuery {version: 1,
  sha256Hash}`. A hash this system has not registered answers the error whose message
  is exactly `PersistedQueryNotFound`, which is what Apollo Client looks for before it
  sends the hash again with the text. With the text, the hash is recomputed over it: a
  mismatch is refused and nothing is stored; a match is run, and registered once it has
  parsed and validated, when the caller's system may register automatically
  (`Settings.registers_automatically`).
- The GraphQL-over-HTTP persisted-documents appendix: `documentId`, `sha256:<hex>` or a
  manifest's own id; an unknown id is one error naming it.

Documents are the caller's own system's (`documents.DocumentStore`): another system's
hash is not found, and the public, which owns nothing, finds none.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from documents import DocumentStore, Owner, sha256_of
from errors import BadRequest, PersistedQueryMismatch, PersistedQueryNotFound
from policies import Caller

SHA256_HEX = re.compile(r"[0-9a-f]{64}")
SHA256_PREFIX = "sha256:"
CUSTOM_ID_LIMIT = 200
"""The store's `custom_id` column."""


@dataclass(frozen=True)
class Called:
    query: Any
    """The parameter itself when no document id is sent (checked later as any `query`),
    else the registered document's text."""
    registering: Owner | None = None
    """Whom the text is to be registered for, once it has parsed and validated: a
    document that cannot run is never stored."""


async def document_text(
    params: Mapping[str, Any], caller: Caller, documents: DocumentStore, *, may_register: bool
) -> Called:
    """The `query` to run, and whether to register it."""
    query, extensions = params.get("query"), params.get("extensions")
    document_id = params.get("documentId")
    owner = Owner(caller.department, caller.system) if caller.department and caller.system else None
    if document_id is not None:
        if query is not None:
            raise BadRequest("send either 'query' or 'documentId', not both")
        return Called(await _by_document_id(document_id, owner, documents))
    if not isinstance(extensions, dict) or extensions.get("persistedQuery") is None:
        return Called(query)
    sha256 = _apq_hash(extensions["persistedQuery"])
    if query is None:
        text = await documents.by_hash(owner, sha256) if owner else None
        if text is None:
            raise PersistedQueryNotFound()
        return Called(text)
    if not isinstance(query, str):
        return Called(query)  # refused as any `query` that is not a string
    if sha256_of(query) != sha256:
        raise PersistedQueryMismatch(
            "'extensions.persistedQuery.sha256Hash' is not the SHA-256 of 'query' "
            "(hex of the exact UTF-8 text): nothing was stored or run"
        )
    if owner is not None and may_register and await documents.by_hash(owner, sha256) is None:
        return Called(query, owner)
    return Called(query)


def _apq_hash(persisted: Any) -> str:
    if not isinstance(persisted, dict) or persisted.get("version") != 1:
        raise BadRequest('\'extensions.persistedQuery\' must be {"version": 1, "sha256Hash": …}')
    sha256 = persisted.get("sha256Hash")
    if not isinstance(sha256, str) or not SHA256_HEX.fullmatch(sha256):
        raise BadRequest("'extensions.persistedQuery.sha256Hash' must be 64 lowercase hex digits")
    return sha256


async def _by_document_id(document_id: Any, owner: Owner | None, documents: DocumentStore) -> str:
    if not isinstance(document_id, str) or not document_id:
        raise BadRequest("'documentId' must be a non-empty string")
    if document_id.startswith(SHA256_PREFIX):
        sha256 = document_id.removeprefix(SHA256_PREFIX)
        if not SHA256_HEX.fullmatch(sha256):
            raise BadRequest("a 'sha256:' documentId must be followed by 64 lowercase hex digits")
        text = await documents.by_hash(owner, sha256) if owner else None
    elif len(document_id) > CUSTOM_ID_LIMIT:
        raise BadRequest(f"'documentId' must be at most {CUSTOM_ID_LIMIT} characters")
    else:
        text = await documents.by_custom_id(owner, document_id) if owner else None
    if text is None:
        raise PersistedQueryNotFound(
            f"no document {document_id!r} is registered for the calling system"
        )
    return text
