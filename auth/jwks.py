"""The single sign-on's public keys (a JWKS), from a file or a URL.

They are read once, then again only when a token names a key the set does not hold
(the sign-on rotated its keys), and then at most once per `refresh_seconds`: a stream
of tokens naming made-up keys costs one fetch per interval, never one per request.
A fetch that fails keeps the keys already known.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import jwt

logger = logging.getLogger("gov_share.auth")

FETCH_TIMEOUT_SECONDS = 5.0


class KeySet:
    def __init__(
        self,
        source: str,
        *,
        refresh_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.source = source
        self.refresh_seconds = refresh_seconds
        self._clock = clock
        self._keys: dict[str, jwt.PyJWK] = {}
        self._read_at: float | None = None
        self._reading = asyncio.Lock()

    @classmethod
    def holding(cls, document: dict[str, Any], *, source: str) -> KeySet:
        """Keys known from the start and never read again (the demo sign-on's, derived
        from the seed: there is nothing to fetch)."""
        keys = cls(source, refresh_seconds=math.inf)
        published = jwt.PyJWKSet.from_dict(document).keys
        keys._keys = {key.key_id: key for key in published if key.key_id}
        keys._read_at = keys._clock()
        return keys

    @property
    def is_url(self) -> bool:
        return self.source.startswith(("https://", "http://"))

    async def key(self, key_id: str) -> jwt.PyJWK | None:
        """The key with this id, read again if it is not known and the last read is old
        enough; None when the sign-on does not publish it."""
        if key_id in self._keys:
            return self._keys[key_id]
        async with self._reading:
            if key_id not in self._keys and self._may_read():
                await self._read()
        return self._keys.get(key_id)

    def _may_read(self) -> bool:
        return self._read_at is None or self._clock() - self._read_at >= self.refresh_seconds

    async def _read(self) -> None:
        self._read_at = self._clock()
        try:
            document = await (self._fetch() if self.is_url else asyncio.to_thread(self._load))
            keys = jwt.PyJWKSet.from_dict(document).keys
        except (OSError, ValueError, httpx.HTTPError, jwt.PyJWKSetError) as error:
            # The keys known stay in use; which source failed is logged, not what it held.
            logger.warning(
                "the sign-on's keys cannot be read",
                extra={"source": self.source, "error": type(error).__name__},
            )
            return
        self._keys = {key.key_id: key for key in keys if key.key_id}

    def _load(self) -> dict[str, object]:
        document = json.loads(Path(self.source).read_text(encoding="utf-8"))
        if not isinstance(document, dict):
            raise ValueError("a JWKS is a JSON object")
        return document

    async def _fetch(self) -> dict[str, object]:
        async with httpx.AsyncClient(timeout=FETCH_TIMEOUT_SECONDS) as client:
            response = await client.get(self.source)
            response.raise_for_status()
            document = response.json()
        if not isinstance(document, dict):
            raise ValueError("a JWKS is a JSON object")
        return document
