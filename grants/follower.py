"""Follow the rule files, the catalog and the grants while the server runs, so a change
takes effect without a restart. Three things notice a change, and each only calls the
one seam, `PolicySource.reload()`, which reads what moved and swaps it in whole:

- a file watcher on the policy and catalog directories (watchfiles: the operating
  system's notifications), at once when a file there is saved;
- a message from whoever changed a grant (`announcements.py`, when Redis is set), at
  once when the grant is committed;
- a check every `interval` seconds: one row of the store and the files' digests,
  nothing more while neither moved. It finds what the other two missed (a file system
  without notifications, a message lost while Redis was away), so it bounds how stale
  a server can be.

Nothing stops the follower but cancellation. A reload that fails keeps the last good
policy in force and says why (`PolicySource.problem`); the next change or check tries
again, so fixing the file is enough to recover. A watcher that cannot start (no such
directory, the system's limit of watches reached) leaves the periodic check alone.
A grant's own start and end times need no following at all (the policy's cached
decisions expire at them).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from watchfiles import Change, awatch

from grants.announcements import Announcements
from grants.policy_source import PolicySource

logger = logging.getLogger("gov_share.policies")


async def follow(
    source: PolicySource[Any],
    *,
    interval: float,
    watched: Sequence[Path],
    announcements: Announcements | None,
) -> None:
    """Follow with all three until cancelled."""
    async with asyncio.TaskGroup() as following:
        following.create_task(follow_periodically(source, interval=interval))
        following.create_task(follow_files(source, watched))
        if announcements is not None:
            following.create_task(announcements.listen(source.reload))


async def follow_periodically(source: PolicySource[Any], *, interval: float) -> None:
    """Reload `source` every `interval` seconds; runs until cancelled."""
    while True:
        await asyncio.sleep(interval)
        await source.reload()


async def follow_files(source: PolicySource[Any], directories: Sequence[Path]) -> None:
    """Reload `source` whenever a file under `directories` changes (a burst of changes,
    as an editor saving or a deployment copying files, is one reload); until cancelled."""
    # The first yield (a change, or a second with none) comes once the watches are
    # set: reloading then catches what changed between start-up and that moment.
    caught_up = False
    try:
        async for changes in awatch(
            *directories, watch_filter=_read_from, rust_timeout=1000, yield_on_timeout=True
        ):
            if changes or not caught_up:
                caught_up = True
                await source.reload()
    except Exception as exc:  # the periodic check still follows: say so, and go on without
        logger.warning(
            "rule and catalog files are not watched; changes are found by the periodic check",
            extra={"error": type(exc).__name__},
        )


def _read_from(change: Change, path: str) -> bool:
    """What the policy and catalog are read from — catalog, rule and model files — and
    folders (a deployment may swap a whole folder in); not whatever else shares the
    directories, such as a store or log written at every request."""
    name = Path(path).name
    return name.endswith((".yaml", ".csv", ".conf")) or "." not in name.lstrip(".")
