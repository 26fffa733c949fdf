"""Read another sharing platform over GraphQL: `graphql+http://` and `graphql+https://`
sources, the province's platform or another city's gov-share.

The upstream decides for the real caller, never for this platform: every call carries
this platform's own key for the link (`api_key`, registered upstream as one system,
which the upstream lists in its `GOV_SHARE_PEER_PLATFORMS` for the departments it may
act for) and names the caller it acts for — `X-Acting-Department`, `X-Acting-System`,
`X-Acting-Person` (the person this platform verified) — with the caller's own
`X-Purpose`, `X-Purpose-Reference` and `X-Operator` (`web/acting.py` is the upstream's
side). The upstream's rules and grants for that department then decide, and its audit
record names that caller; this platform's record names the same caller, so each side
accounts for its part. The link's key alone reads nothing: a call without an acting
caller is never sent.

What the resource's `remote:` block declares (`catalog/remote.py`) is read through the
upstream's list field: a batch of keys as one `_in` filter, in one call per page of
`page_size` records, with the read's filter, scopes and ordering pushed upstream whole
(`_remote_document.py`). Masks this platform decides are computed as each record
arrives, as for a REST source; the upstream's own denials come back as this
platform's errors at their fields (`_remote_answers.py`). A failed call, an error
status, a malformed answer or a read past `timeout_seconds` is SOURCE_UNAVAILABLE for
this source's fields only; what is logged is the error's class, never a header.
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable, Mapping
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import Field, SecretStr, field_validator

from catalog import RemoteEndpoint
from connectors._http import FAILURES, HttpOptions, HttpSource
from connectors._remote_answers import ListPage, counts
from connectors._remote_document import Asked, asked, counted
from connectors._rest_records import Malformed
from connectors._sql_rows import source_unavailable
from connectors.arrival import refuse_in_source_only
from connectors.base import Connector, Read, ReadContext, Row
from connectors.capabilities import SUPPORTED, Capabilities, require_capabilities
from connectors.kinds import SourceKind
from errors import PushdownRefused

PUBLIC = "public"
"""`X-Acting-Department` for a caller without a department: the upstream's public."""


class RemoteOptions(HttpOptions):
    """A remote platform's settings: its GraphQL endpoint and this platform's key there."""

    api_key: SecretStr
    """This platform's key at the upstream, for the link: sent as `Authorization: Bearer`."""
    page_size: int = Field(default=1000, gt=0)
    """The `first` of each call: at most the upstream's GOV_SHARE_MAX_FIRST."""
    max_aliases: int = Field(default=30, gt=0)
    """The most keys counted in one call: at most the upstream's GOV_SHARE_MAX_ALIASES."""
    health_path: str = Field(default="/healthz", pattern=r"^/")

    @field_validator("url")
    @classmethod
    def graphql_url(cls, url: SecretStr) -> SecretStr:
        text = url.get_secret_value()
        scheme, _, rest = text.partition("://")
        try:
            parsed = httpx.URL(f"{scheme.removeprefix('graphql+')}://{rest}")
        except httpx.InvalidURL:
            raise ValueError("not a graphql+http:// or graphql+https:// URL") from None
        if not parsed.host or parsed.query:
            raise ValueError("a graphql+http(s):// URL with a host and no query")
        return url


class RemoteConnector:
    capabilities = Capabilities(computing=None, flags=None, on_arrival=SUPPORTED)

    def __init__(self, name: str, options: RemoteOptions) -> None:
        self.name = name
        self.timeout_seconds = options.timeout_seconds
        self.page_size = options.page_size
        self.max_pages = options.max_pages
        self.max_aliases = options.max_aliases
        url = httpx.URL(options.url.get_secret_value().removeprefix("graphql+"))
        self._graphql = url
        self._health = url.copy_with(path=options.health_path)
        link = {"Authorization": f"Bearer {options.api_key.get_secret_value()}"}
        self._http = HttpSource(name, options, link)
        self._client, self._calls = self._http.client, self._http.calls

    async def read(self, read: Read, context: ReadContext) -> list[list[Row]]:
        require_capabilities(self, read)
        endpoint = self._endpoint(read)
        refuse_in_source_only(read, endpoint.in_source_only, self.name)
        wanted = asked(read, endpoint, self.name)
        # A batch's page is per key: every record of the batch is read, then cut per key.
        keyed = read.match_values is not None
        limit = read.page.limit if read.page is not None and not keyed else None
        try:
            async with asyncio.timeout(self.timeout_seconds):
                found = await self._pages(read, wanted, acting(context), limit)
        except FAILURES as exc:
            raise source_unavailable(self.name, exc) from None
        return _by_key(read, found) if keyed else [found]

    async def count(self, read: Read, context: ReadContext) -> list[int]:
        """`totalCount` upstream, per key of a batch as aliases of one call, at most
        `max_aliases` keys a call (the upstream's GOV_SHARE_MAX_ALIASES)."""
        require_capabilities(self, read, count=True)
        endpoint = self._endpoint(read)
        headers = acting(context)
        keys = read.match_values
        chunks = (
            [None]
            if keys is None
            else [keys[at : at + self.max_aliases] for at in range(0, len(keys), self.max_aliases)]
        )
        try:
            async with asyncio.timeout(self.timeout_seconds):
                try:
                    async with asyncio.TaskGroup() as group:
                        tasks = [
                            group.create_task(self._count(counted(read, endpoint, chunk), headers))
                            for chunk in chunks
                        ]
                except ExceptionGroup as failed:
                    raise failed.exceptions[0] from None
        except FAILURES as exc:
            raise source_unavailable(self.name, exc) from None
        return [total for task in tasks for total in task.result()]

    async def ping(self) -> None:
        await self._http.ping(self._health)

    async def close(self) -> None:
        await self._http.close()

    def _endpoint(self, read: Read) -> RemoteEndpoint:
        endpoint = read.endpoint
        if not isinstance(endpoint, RemoteEndpoint):
            raise PushdownRefused(
                f"source {self.name} is a platform, and {read.table} declares no remote "
                "block in the catalog",
                source=self.name,
            )
        return endpoint

    async def _count(self, wanted: Asked, headers: Mapping[str, str]) -> list[int]:
        body = await self._call(wanted.document, wanted.variables, headers)
        return counts(body, len(wanted.variables), self.name)

    async def _call(
        self, document: str, variables: Mapping[str, Any], headers: Mapping[str, str]
    ) -> Any:
        """One POST upstream; an answer without a GraphQL body (the link refused, the
        upstream failing) raises."""
        async with self._calls:
            response = await self._client.post(
                self._graphql,
                json={"query": document, "variables": variables},
                headers={**headers, "Accept": "application/graphql-response+json"},
            )
        if response.status_code >= 500 or response.status_code in (401, 403):
            response.raise_for_status()
        return response.json()

    async def _pages(
        self, read: Read, wanted: Asked, headers: Mapping[str, str], limit: int | None
    ) -> list[Row]:
        """The rows of the list, page after page, until `limit` rows or its end."""
        found: list[Row] = []
        after: str | None = None
        for _ in range(self.max_pages):
            first = self.page_size if limit is None else min(self.page_size, limit - len(found))
            variables = {**wanted.variables, "first": first, "after": after}
            body = await self._call(wanted.document, variables, headers)
            page = ListPage(body, read, wanted.fields, self.name)
            found += page.rows
            if page.next is None or (limit is not None and len(found) >= limit):
                return found[:limit]
            after = page.next
        raise Malformed(f"more than {self.max_pages} pages")


def acting(context: ReadContext) -> dict[str, str]:
    """The headers that name the caller upstream; free text percent-encoded, as every
    gov-share reads it."""
    if context.department is None:
        headers = {"X-Acting-Department": PUBLIC}
    else:
        headers = {
            "X-Acting-Department": context.department,
            "X-Acting-System": context.system or "",
        }
    told = {
        "X-Acting-Person": context.person if context.department else None,
        "X-Operator": context.operator,
        "X-Purpose": context.purpose,
        "X-Purpose-Reference": context.purpose_reference,
    }
    headers.update({name: quote(value, safe="") for name, value in told.items() if value})
    return headers


def _by_key(read: Read, found: list[Row]) -> list[list[Row]]:
    """One row set per match value, in order; a per-parent page is cut per key."""
    column = read.match_column
    assert column is not None
    asked_for = set(read.match_values or ())
    grouped: dict[Hashable, list[Row]] = {}
    for row in found:
        key = row[column]
        if key in asked_for:  # a platform answering more keys than asked is not trusted
            grouped.setdefault(key, []).append(row)
    limit = read.page.limit if read.page is not None else None
    return [grouped.get(key, [])[:limit] for key in read.match_values or ()]


def _open(name: str, options: RemoteOptions) -> Connector:
    return RemoteConnector(name, options)


REMOTE_KINDS: Mapping[str, SourceKind[Any]] = {
    "graphql+http": SourceKind(RemoteOptions, _open),
    "graphql+https": SourceKind(RemoteOptions, _open),
}
