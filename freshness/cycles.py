"""How old a resource may be for its declared update cycle (更新周期) before it is stale.

Each cycle allows its own length plus a day's grace (an hour for real-time sources),
so a daily load that arrives a few hours late is not yet flagged: the flag is for a
department that stopped updating, not for a slow night. An irregular resource is never
stale: it declares no cycle to miss.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping

from catalog import UpdateCycle

_DAY = datetime.timedelta(days=1)

ALLOWED_AGE: Mapping[UpdateCycle, datetime.timedelta | None] = {
    UpdateCycle.REAL_TIME: datetime.timedelta(hours=1),
    UpdateCycle.DAILY: _DAY + _DAY,
    UpdateCycle.WEEKLY: 7 * _DAY + _DAY,
    UpdateCycle.MONTHLY: 31 * _DAY + _DAY,
    UpdateCycle.QUARTERLY: 92 * _DAY + _DAY,
    UpdateCycle.YEARLY: 366 * _DAY + _DAY,
    UpdateCycle.IRREGULAR: None,
}


def is_stale(
    cycle: UpdateCycle, last_update: datetime.datetime | None, now: datetime.datetime
) -> bool:
    """Whether a known last update is older than the cycle allows; an unknown one is not
    judged (the source declares nothing to read it from, or has not answered yet)."""
    allowed = ALLOWED_AGE[cycle]
    if allowed is None or last_update is None:
        return False
    return now - last_update > allowed
