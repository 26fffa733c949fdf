"""When a source says a resource was last updated (Art. 10): what the catalog declares
to read it from, and the one shape every answer is turned into.

A source that can tell (`Dated`) reads it as a single value — the greatest value of a
column, or one response header — never as records: freshness is metadata, and asking
for it must not move data the policy has not decided on.
"""

from __future__ import annotations

import datetime
import email.utils
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class UpdateSign:
    """Where a resource's last update is read: the greatest `column` of `table` (a
    database), or the `header` of a HEAD request to `path` (an API)."""

    table: str
    column: str | None = None
    path: str | None = None
    header: str | None = None


@runtime_checkable
class Dated(Protocol):
    """A connector that can tell when a resource was last updated."""

    async def last_update(self, sign: UpdateSign) -> datetime.datetime | None:
        """The last update in UTC; None if the sign declares nothing this source reads,
        or the resource holds nothing yet. Raises `SourceUnavailable` if it cannot answer."""


def as_utc(value: object) -> datetime.datetime | None:
    """A source's answer as a UTC time: a datetime (naive ones are stored in UTC), a
    date (its start), or text in ISO 8601 or HTTP-date form. Anything else is no answer."""
    if isinstance(value, str):
        value = _parsed(value.strip())
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=datetime.UTC)
        return value.astimezone(datetime.UTC)
    if isinstance(value, datetime.date):
        return datetime.datetime.combine(value, datetime.time(), datetime.UTC)
    return None


def _parsed(text: str) -> datetime.datetime | None:
    try:
        return datetime.datetime.fromisoformat(text)
    except ValueError:
        pass
    try:
        return email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
