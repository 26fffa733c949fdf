"""Follow the grants in the platform store, so a new or revoked grant takes effect
within one polling interval, without a restart.

Polling one aggregate row is cheap and works on every store; a grant's own start and
end times need no polling at all (the policy's cache expires at them).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError

from policies.grants import Grant, GrantStore

logger = logging.getLogger("gov_share.policies")


async def follow_grants(
    store: GrantStore,
    on_change: Callable[[list[Grant]], None],
    *,
    interval: float,
    seen: tuple[int, object] | None = None,
) -> None:
    """Call `on_change` with the grants in force whenever they change; runs until cancelled.

    While the store cannot be read the last policy stays in force: nothing is served
    then anyway, as the audit log cannot be written to the same store."""
    while True:
        await asyncio.sleep(interval)
        try:
            version = await store.version()
            if version != seen:
                on_change(await store.listed())
                seen = version
        except SQLAlchemyError as exc:
            logger.warning("grants unreadable", extra={"error": type(exc).__name__})
