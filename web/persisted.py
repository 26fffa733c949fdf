"""Which document a request runs, from its parameters, the caller's system and its mode.

- Apollo's automatic persisted queries: `extensions.persistedQuery {version: 1,
  sha256Hash}`. A hash the system may not call answers the error whose message is
  exactly `PersistedQueryNotFound`, which is what Apollo Client looks for before it
  sends the hash again with the text. With the text, the hash is recomputed over it: a
  mismatch is refused and nothing is stored; a match is run, and registered once it has
  parsed and validated, when the system may register automatically
  (`Settings.registers_automatically`, and not persisted-only).
- The GraphQL-over-HTTP persisted-documents appendix: `documentId`, `sha256:<hex>` or a
  manifest's own id; an unknown id is one error naming it.
- Free text (`query` alone, or with a hash not registered): matched against the
  documents the system may call after stripping ignored tokens; when none matches,
  served as sent (open), served and counted (log-unknown), or refused with
  PERSISTED_QUERY_REQUIRED (persisted-only). A document of introspection alone is
  always served to a department system, so GraphiQL keeps working.

A document found is the caller's own system's or shared with it (`documents.store`),
and it runs only for a purpose it is bound to. The public owns nothing and finds none.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLError,
    OperationDefinitionNode,
    parse,
)

from documents import Mode, Owner, Registered, TrustedDocuments, normalised, sha256_of
from documents.modes import count_unknown
from documents.store import CUSTOM_ID_LIMIT
from errors import (
    BadRequest,
    DocumentPurposeRefused,
    PersistedQueryMismatch,
    PersistedQueryNotFound,
    PersistedQueryRequired,
)
from policies import Caller, Purpose
from web.roots import root_field_names

SHA256_HEX = re.compile(r"[0-9a-f]{64}")
SHA256_PREFIX = "sha256:"


@dataclass(frozen=True)
class Called:
    query: Any
    """The parameter itself when no document is found (checked later as any `query`),
    else the registered document's text."""
    registering: Owner | None = None
    """Whom the text is to be registered for, once it has parsed and validated: a
    document that cannot run is never stored."""
    document: Registered | None = None
    """The registered document run, for the audit record."""


async def document_text(
    params: Mapping[str, Any],
    caller: Caller,
    purpose: Purpose | None,
    trusted: TrustedDocuments,
    *,
    may_register: bool,
    max_tokens: int,
) -> Called:
    """The `query` to run, the document it is, and whether to register it; free text is
    parsed here (for a system not open) within the server's `max_tokens`."""
    query, extensions = params.get("query"), params.get("extensions")
    document_id = params.get("documentId")
    owner = Owner(caller.department, caller.system) if caller.department and caller.system else None
    if document_id is not None:
        if query is not None:
            raise BadRequest("send either 'query' or 'documentId', not both")
        found = await _by_document_id(document_id, owner, trusted)
        return _bound(found, purpose)
    if not isinstance(extensions, dict) or extensions.get("persistedQuery") is None:
        return await _free_text(query, owner, purpose, trusted, params, max_tokens)
    sha256 = _apq_hash(extensions["persistedQuery"])
    registered = await trusted.store.by_hash(owner, sha256) if owner else None
    if query is None:
        if registered is None:
            raise PersistedQueryNotFound()
        return _bound(registered, purpose)
    if not isinstance(query, str):
        return Called(query)  # refused as any `query` that is not a string
    if sha256_of(query) != sha256:
        raise PersistedQueryMismatch(
            "'extensions.persistedQuery.sha256Hash' is not the SHA-256 of 'query' "
            "(hex of the exact UTF-8 text): nothing was stored or run"
        )
    if registered is not None:
        return _bound(registered, purpose)
    called = await _free_text(query, owner, purpose, trusted, params, max_tokens)
    if called.document is not None or owner is None or not may_register:
        return called
    if await trusted.modes.mode_of(owner) is Mode.PERSISTED_ONLY:
        return called  # introspection alone: served, never registered
    return Called(query, owner)


async def _free_text(
    query: Any,
    owner: Owner | None,
    purpose: Purpose | None,
    trusted: TrustedDocuments,
    params: Mapping[str, Any],
    max_tokens: int,
) -> Called:
    if owner is None or not isinstance(query, str):
        return Called(query)
    mode = await trusted.modes.mode_of(owner)
    read = _read(query, max_tokens)
    if read is None:
        if mode is Mode.PERSISTED_ONLY:
            raise _required(owner)
        return Called(query)  # the executor says why it does not parse
    found = await trusted.store.matching(owner, read.normalised_sha256)
    if found is not None:
        return _bound(found, purpose, query)
    if mode is Mode.OPEN or read.introspection_only:
        return Called(query)
    if mode is Mode.PERSISTED_ONLY:
        raise _required(owner)
    given = params.get("operationName")
    name = given if isinstance(given, str) and given else read.first_name
    await count_unknown(trusted.store.engine, owner, read.normalised_sha256, name)
    return Called(query)


@dataclass(frozen=True)
class _Read:
    """What matching needs of a free text, read once per text (a system sends the same
    texts again and again)."""

    normalised_sha256: str
    introspection_only: bool
    first_name: str | None


@functools.lru_cache(maxsize=1024)
def _read(query: str, max_tokens: int) -> _Read | None:
    """None for a text that does not parse."""
    try:
        document = parse(query, no_location=True, max_tokens=max_tokens)
        return _Read(normalised(query), _introspection_only(document), _first_name(document))
    except GraphQLError:
        return None


def _bound(found: Registered, purpose: Purpose | None, query: str | None = None) -> Called:
    """The document, unless it is bound to purposes and the declared one is not among them."""
    if found.purposes is not None and purpose not in found.purposes:
        bound = ", ".join(sorted(found.purposes))
        declared = f"X-Purpose {purpose.value}" if purpose else "no X-Purpose"
        raise DocumentPurposeRefused(
            f"document {found.document_id!r} is registered for {bound} only; "
            f"this request declares {declared}"
        )
    return Called(query if query is not None else found.text, None, found)


def _required(owner: Owner) -> PersistedQueryRequired:
    return PersistedQueryRequired(
        f"system {owner} calls registered documents only: send a registered document's "
        "id (documentId or extensions.persistedQuery) or its text"
    )


def _introspection_only(document: DocumentNode) -> bool:
    """Every operation selects only `__schema`, `__type` or `__typename` at its root."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    roots = [root_field_names(document, operation) for operation in operations]
    return bool(operations) and all(
        names is not None and all(name.startswith("__") for name in names) for names in roots
    )


def _first_name(document: DocumentNode) -> str | None:
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode) and definition.name:
            return definition.name.value
    return None


def _apq_hash(persisted: Any) -> str:
    if not isinstance(persisted, dict) or persisted.get("version") != 1:
        raise BadRequest('\'extensions.persistedQuery\' must be {"version": 1, "sha256Hash": …}')
    sha256 = persisted.get("sha256Hash")
    if not isinstance(sha256, str) or not SHA256_HEX.fullmatch(sha256):
        raise BadRequest("'extensions.persistedQuery.sha256Hash' must be 64 lowercase hex digits")
    return sha256


async def _by_document_id(
    document_id: Any, owner: Owner | None, trusted: TrustedDocuments
) -> Registered:
    if not isinstance(document_id, str) or not document_id:
        raise BadRequest("'documentId' must be a non-empty string")
    if document_id.startswith(SHA256_PREFIX):
        sha256 = document_id.removeprefix(SHA256_PREFIX)
        if not SHA256_HEX.fullmatch(sha256):
            raise BadRequest("a 'sha256:' documentId must be followed by 64 lowercase hex digits")
        found = await trusted.store.by_hash(owner, sha256) if owner else None
    elif len(document_id) > CUSTOM_ID_LIMIT:
        raise BadRequest(f"'documentId' must be at most {CUSTOM_ID_LIMIT} characters")
    else:
        found = await trusted.store.by_custom_id(owner, document_id) if owner else None
    if found is None:
        raise PersistedQueryNotFound(
            f"no document {document_id!r} is registered for the calling system"
        )
    return found
