"""Follow the grants in the platform store, so a new or revoked grant takes effect
within one polling interval, without a restart.

Polling one aggregate row is cheap and works on every store; a grant's own start and
end times need no polling at all (the policy's cache expires at them).

Nothing stops the follower but cancellation. When the grants cannot be read or the
new policy cannot be made (a rule file broken since start-up), the last policy stays
in force, the problem is logged once and shown in `Following`, and the next interval
tries again: fixing the file is enough to recover.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from errors import ConfigurationError
from grants import Grant, GrantStore

logger = logging.getLogger("gov_share.policies")


@dataclass
class Following:
    """Why the grants in force may not be the store's: None while they are."""

    problem: str | None = None
    _logged: tuple[str, ...] = ()


async def follow_grants(
    store: GrantStore,
    on_change: Callable[[list[Grant]], None],
    *,
    interval: float,
    seen: tuple[int, object] | None = None,
    following: Following | None = None,
) -> None:
    """Call `on_change` with the grants in force whenever they change; runs until cancelled."""
    following = following or Following()
    while True:
        await asyncio.sleep(interval)
        try:
            version = await store.version()
            if version != seen:
                on_change(await store.listed())
                seen = version
        except SQLAlchemyError as exc:
            # While the store cannot be read nothing is served anyway: the audit log
            # cannot be written to the same store.
            _failing(following, "the platform store cannot be read", error=type(exc).__name__)
        except ConfigurationError as exc:
            problem = f"{Path(exc.file).name} does not load; the last good policy stays in force"
            _failing(following, problem, path=exc.file, where=exc.where, problem=exc.problem)
        except Exception as exc:  # a defect: keep following, never die silently
            _failing(following, "grants could not be applied", error=type(exc).__name__)
        else:
            if following.problem is not None:
                logger.info("grants followed again")
                following.problem, following._logged = None, ()


def _failing(following: Following, reason: str, **details: str) -> None:
    """Log a problem once, not at every interval it lasts."""
    logged = (reason, *(f"{name}={value}" for name, value in sorted(details.items())))
    if following._logged != logged:
        logger.error(f"grants not followed: {reason}", extra=details)
    following.problem, following._logged = reason, logged
