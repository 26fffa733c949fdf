"""What a server holds of trusted documents: the store and its caches, the modes in
force, and the Redis channel on which instances tell each other of a registration or a
mode change (`<GOV_SHARE_REDIS_CHANNEL>:documents`).

Without Redis, an instance sees a document registered elsewhere at once when it is
called by id (a miss by id is never remembered), and a registration's free-text match
and a mode change within `policy_refresh_seconds`.
"""

from __future__ import annotations

import asyncio
import contextlib

from sqlalchemy.ext.asyncio import AsyncEngine

from documents.cache import SharedCache
from documents.modes import Modes
from documents.store import DocumentStore
from grants.announcements import Announcements
from settings import Settings


def announcements_of(settings: Settings) -> Announcements | None:
    """None without `GOV_SHARE_REDIS_URL`; registrations and mode changes are announced
    on `<GOV_SHARE_REDIS_CHANNEL>:documents`."""
    return Announcements.from_settings(settings, topic="documents", subject="document change")


class TrustedDocuments:
    def __init__(self, engine: AsyncEngine, settings: Settings) -> None:
        shared = (
            SharedCache(settings.redis_url, f"{settings.redis_channel}:document:")
            if settings.redis_url
            else None
        )
        refresh = settings.policy_refresh_seconds
        self.store = DocumentStore(engine, shared=shared, miss_seconds=refresh)
        self.modes = Modes(engine, refresh_seconds=refresh)
        self.announcements = announcements_of(settings)
        self._listening: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self.announcements is not None:
            self._listening = asyncio.create_task(
                self.announcements.listen(self.heard), name="document-changes"
            )

    async def heard(self) -> None:
        """Another instance registered documents or changed a mode."""
        self.store.forget_misses()
        await self.modes.heard()

    async def announce(self) -> None:
        """Tell the other instances of a registration made here."""
        if self.announcements is not None:
            await self.announcements.announce(0)

    async def close(self) -> None:
        if self._listening is not None:
            self._listening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listening
        if self.store.shared is not None:
            await self.store.shared.close()
