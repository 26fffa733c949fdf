"""Follow the grants in the platform store and the rule files while the server runs, so
a grant made or revoked, or a rule file edited, takes effect within one interval,
without a restart.

Each interval is one reload of the policy source: a look at one aggregate row of the
store and at the rule files' digest, and nothing more while neither changed. A grant's
own start and end times need no polling at all (the policy's cache expires at them).

Nothing stops the follower but cancellation. A reload that fails keeps the last good
policy in force and says why (`PolicySource.problem`), and the next interval tries
again: fixing the file is enough to recover.
"""

from __future__ import annotations

import asyncio

from grants.policy_source import PolicySource


async def follow_grants(source: PolicySource, *, interval: float) -> None:
    """Reload `source` every `interval` seconds; runs until cancelled."""
    while True:
        await asyncio.sleep(interval)
        await source.reload()
