"""Read a department's REST API with httpx: `http://` and `https://` sources.

What a resource's API offers is catalog text (`catalog/api.py`), the URL and secrets
are settings (`RestOptions`). One pooled `httpx.AsyncClient` per source serves every
read and is closed at shutdown. A read's keys go in as few calls as the API takes
(`?ids=a,b,c` or a POST body, split at `max_keys`), or one call per key where the API
takes one; either way at most `concurrency` calls to the source at once, whatever the
number of requests reading it. Filters and orderings the API declares are sent, the
rest refused (`_rest_requests.py`); masks, scoped values and flags, which an API
cannot compute, are computed as each record is parsed (`_rest_records.py`), unless
the catalog keeps an item's mask in its source, when the read is refused.

A failed call, an error status, a malformed body or a read past `timeout_seconds` is
SOURCE_UNAVAILABLE, as for the SQL sources, and what is logged is the error's class:
never a URL (its query holds the keys read), a header (the secrets) or a value.
"""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import Field, SecretStr, field_validator

from catalog import Endpoint, Lookup
from connectors._http import FAILURES, HttpOptions, HttpSource
from connectors._rest_records import Malformed, dig, records, rows
from connectors._rest_requests import Asked, Parameters, asked, text
from connectors._sql_rows import source_unavailable
from connectors.arrival import refuse_in_source_only
from connectors.base import Connector, Read, ReadContext, Row
from connectors.capabilities import SUPPORTED, Capabilities, require_capabilities
from connectors.kinds import SourceKind
from connectors.updates import UpdateSign, as_utc
from errors import PushdownRefused


class RestOptions(HttpOptions):
    """A REST source's settings: its base URL and the secrets it is called with."""

    token: SecretStr | None = None
    """Sent as `Authorization: Bearer <token>`."""
    api_key: SecretStr | None = None
    api_key_header: str = Field(default="X-API-Key", pattern=r"^[A-Za-z0-9-]+$")
    health_path: str = Field(default="/", pattern=r"^/")
    """What readiness checks call: any answer below 500 means the source is up."""

    @field_validator("url")
    @classmethod
    def web_url(cls, url: SecretStr) -> SecretStr:
        try:
            parsed = httpx.URL(url.get_secret_value())
        except httpx.InvalidURL:
            raise ValueError("not an http:// or https:// URL") from None
        if parsed.scheme not in ("http", "https") or not parsed.host or parsed.query:
            raise ValueError("an http:// or https:// URL with a host and no query")
        return url


@dataclass(frozen=True)
class _Call:
    method: str
    url: str
    parameters: Parameters = ()
    body: Mapping[str, Any] | None = None


class RestConnector:
    capabilities = Capabilities(computing=None, flags=None, counting=None, on_arrival=SUPPORTED)

    def __init__(self, name: str, options: RestOptions) -> None:
        self.name = name
        self.timeout_seconds = options.timeout_seconds
        self.max_pages = options.max_pages
        self.health_path = options.health_path
        headers = {}
        if options.token is not None:
            headers["Authorization"] = f"Bearer {options.token.get_secret_value()}"
        if options.api_key is not None:
            headers[options.api_key_header] = options.api_key.get_secret_value()
        self._http = HttpSource(name, options, headers, options.url.get_secret_value())
        self._client, self._calls = self._http.client, self._http.calls

    async def read(self, read: Read, context: ReadContext) -> list[list[Row]]:
        require_capabilities(self, read)
        endpoint = read.endpoint
        if not isinstance(endpoint, Endpoint):
            raise PushdownRefused(
                f"source {self.name} is an API, and {read.table} declares none in the catalog",
                source=self.name,
            )
        refuse_in_source_only(read, endpoint.in_source_only, self.name)
        wanted = asked(read, endpoint, self.name)
        lookup = self._lookup(read, endpoint) if read.match_values is not None else None
        if wanted is None:  # the filter holds on no record: nothing to ask
            return [[] for _ in read.match_values or (None,)]
        try:
            async with asyncio.timeout(self.timeout_seconds):
                if lookup is None:
                    call = _Call("GET", endpoint.api.path, wanted.parameters)
                    limit = read.page.limit if read.page is not None else None
                    return [await self._pages(read, endpoint, wanted, call, limit)]
                return await self._looked_up(read, endpoint, wanted, lookup)
        except FAILURES as exc:
            raise source_unavailable(self.name, exc) from None

    async def count(self, read: Read, context: ReadContext) -> list[int]:
        """Refused, as the capabilities say: an API declares no count."""
        raise PushdownRefused(f"source {self.name} cannot push down counting", source=self.name)

    async def ping(self) -> None:
        await self._http.ping(self.health_path)

    async def last_update(self, sign: UpdateSign) -> datetime.datetime | None:
        """The declared header of a HEAD request to the resource's path: no record is sent."""
        if sign.path is None or sign.header is None:
            return None
        try:
            async with asyncio.timeout(self.timeout_seconds), self._calls:
                response = await self._client.head(sign.path)
            response.raise_for_status()
        except FAILURES as exc:
            raise source_unavailable(self.name, exc) from None
        return as_utc(response.headers.get(sign.header))

    async def close(self) -> None:
        await self._http.close()

    def _lookup(self, read: Read, endpoint: Endpoint) -> Lookup:
        for lookup in endpoint.api.lookups:
            if lookup.column == read.match_column:
                return lookup
        raise PushdownRefused(
            f"source {self.name} cannot look up {read.table} by {read.match_column}",
            source=self.name,
        )

    async def _looked_up(
        self, read: Read, endpoint: Endpoint, wanted: Asked, lookup: Lookup
    ) -> list[list[Row]]:
        """One row set per key, from as few calls as the lookup allows, run together
        (the source's semaphore bounds them); a per-parent page is cut per key."""
        match_column = lookup.column
        keys = list(dict.fromkeys(read.match_values or ()))
        size = 1 if lookup.batch == "single" else lookup.max_keys
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [
                    group.create_task(
                        self._chunk(read, endpoint, wanted, lookup, keys[at : at + size])
                    )
                    for at in range(0, len(keys), size)
                ]
        except ExceptionGroup as failed:
            raise failed.exceptions[0] from None
        asked_for = set(keys)
        grouped: dict[Hashable, list[Row]] = {}
        for task in tasks:
            for row in task.result():
                key = row[match_column]
                if key in asked_for:  # an API answering more keys than asked is not trusted
                    grouped.setdefault(key, []).append(row)
        limit = read.page.limit if read.page is not None else None
        return [grouped.get(key, [])[:limit] for key in read.match_values or ()]

    async def _chunk(
        self, read: Read, endpoint: Endpoint, wanted: Asked, lookup: Lookup, keys: list[Hashable]
    ) -> list[Row]:
        path = lookup.path or endpoint.api.path
        if lookup.batch == "single" and "{key}" in path:
            url = path.replace("{key}", quote(text(keys[0]), safe=""))
            body = await self._send(_Call("GET", url, wanted.parameters), missing_is_none=True)
            if body is None:
                return []
            return rows([body], read, endpoint, wanted.columns)
        assert lookup.parameter is not None  # the catalog requires it
        if lookup.batch == "body":
            call = _Call(
                "POST", path, wanted.parameters, {lookup.parameter: [text(k) for k in keys]}
            )
        else:
            joined = lookup.separator.join(text(key) for key in keys)
            call = _Call("GET", path, ((lookup.parameter, joined), *wanted.parameters))
        return await self._pages(read, endpoint, wanted, call, None)

    async def _pages(
        self, read: Read, endpoint: Endpoint, wanted: Asked, call: _Call, limit: int | None
    ) -> list[Row]:
        """The rows of one list, following its pages until `limit` rows or its end."""
        api = endpoint.api
        pagination = api.pagination
        if pagination is None:
            body = await self._send(call)
            return rows(records(body, api.records), read, endpoint, wanted.columns)[:limit]
        size = pagination.max_size if limit is None else min(pagination.max_size, limit)
        found: list[Row] = []
        # The page number or offset to ask for next; a cursor once the API gave one.
        starts: dict[str, int | str | None] = {"page": pagination.first_page, "offset": 0}
        position = starts.get(pagination.style)
        sized = replace(call, parameters=(*call.parameters, (pagination.size_parameter, str(size))))
        current = sized
        for _ in range(self.max_pages):
            if pagination.parameter is not None and position is not None:
                current = replace(
                    sized, parameters=(*sized.parameters, (pagination.parameter, str(position)))
                )
            body = await self._send(current)
            page = records(body, api.records)
            found += rows(page, read, endpoint, wanted.columns)
            if limit is not None and len(found) >= limit:
                return found[:limit]
            if pagination.style in ("page", "offset"):
                if len(page) < size:
                    return found
                position = int(position or 0) + (1 if pagination.style == "page" else len(page))
                continue
            following = dig(body, pagination.next)
            if not following:
                return found
            if pagination.style == "cursor":
                position = str(following)
            else:
                current = replace(call, url=self._same_source(str(following)), parameters=())
        raise Malformed(f"more than {self.max_pages} pages")

    def _same_source(self, link: str) -> str:
        """A next link, only if it stays under the source's URL: the secrets go with it."""
        base = self._client.base_url
        resolved = base.join(link)
        if not str(resolved).startswith(str(base)):
            raise Malformed("a next link leaves the source")
        return str(resolved)

    async def _send(self, call: _Call, *, missing_is_none: bool = False) -> Any:
        async with self._calls:  # no parameters: a next link's own query stands
            response = await self._client.request(
                call.method, call.url, params=call.parameters or None, json=call.body
            )
        if missing_is_none and response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()


def _open(name: str, options: RestOptions) -> Connector:
    return RestConnector(name, options)


REST_KINDS: Mapping[str, SourceKind[Any]] = {
    "http": SourceKind(RestOptions, _open),
    "https": SourceKind(RestOptions, _open),
}
