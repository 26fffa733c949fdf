"""What the sources read over HTTP share — a department's REST API and another sharing
platform: their common options, one pooled `httpx.AsyncClient` per source with at most
`concurrency` calls at once over all requests, and the readiness call.

Redirects are never followed: the secrets go with every call, and a redirect could
take them to another host.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

import httpx
from pydantic import Field

from connectors._sql_rows import source_unavailable
from connectors.kinds import SourceOptions

# httpx logs every request's URL at INFO, and a source's URLs hold the keys a read asks for
# (identity numbers, credit codes): a value read must never reach a log.
logging.getLogger("httpx").setLevel(logging.WARNING)
logging.getLogger("httpcore").setLevel(logging.WARNING)

FAILURES = (httpx.HTTPError, TimeoutError, ValueError)
"""How a call fails: transport and status errors, timeouts, bodies not as declared
(`Malformed` and JSON's decoding errors are ValueErrors)."""


class HttpOptions(SourceOptions):
    """What every source read over HTTP takes."""

    concurrency: int = Field(default=4, gt=0)
    """The most calls to the source at once, over all requests."""
    max_pages: int = Field(default=100, gt=0)
    """The most pages one read follows; a source that pages on past it is failing."""


class HttpSource:
    """The pooled client of one source and the bound on its calls at once."""

    def __init__(
        self,
        name: str,
        options: HttpOptions,
        headers: Mapping[str, str],
        base_url: str = "",
    ) -> None:
        self.name = name
        self.timeout_seconds = options.timeout_seconds
        self.client = httpx.AsyncClient(
            base_url=base_url,
            headers=dict(headers),
            timeout=options.timeout_seconds,
            limits=httpx.Limits(max_connections=options.concurrency),
            follow_redirects=False,
        )
        self.calls = asyncio.Semaphore(options.concurrency)

    async def ping(self, url: httpx.URL | str) -> None:
        """Any answer below 500 means the source is up."""
        try:
            async with asyncio.timeout(self.timeout_seconds), self.calls:
                response = await self.client.get(url)
            if response.status_code >= 500:
                response.raise_for_status()
        except FAILURES as exc:
            raise source_unavailable(self.name, exc) from None

    async def close(self) -> None:
        await self.client.aclose()
