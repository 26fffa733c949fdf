"""One rule of the sharing model (`model.conf`'s `p` tuple), and time as the model
compares it: plain values shared by the rule files, the grants and the index."""

from __future__ import annotations

import dataclasses
import datetime
import functools
from collections.abc import Sequence
from dataclasses import dataclass

INSTANT = "%Y-%m-%dT%H:%M:%S.%fZ"
"""How the model writes a time: UTC, fixed width, so text order is time order."""


@functools.lru_cache(maxsize=64)
def instant(moment: datetime.datetime) -> str:
    """A time as the model compares it.

    Remembered: a request asks it once per decision with one `now`. Written field by
    field as `INSTANT` says (strftime took twice as long, and every request that is
    not remembered whole makes one `now` anew); the year unpadded, as strftime's."""
    at = moment.astimezone(datetime.UTC)
    return (
        f"{at.year}-{at.month:02d}-{at.day:02d}T{at.hour:02d}:{at.minute:02d}:{at.second:02d}"
        f".{at.microsecond:06d}Z"
    )


def from_instant(text: str) -> datetime.datetime:
    """A rule's time (`instant`) back as a datetime."""
    return datetime.datetime.strptime(text, INSTANT).replace(tzinfo=datetime.UTC)


@dataclass(frozen=True)
class Rule:
    """One `p` tuple of the model, from a rule file line or a stored grant."""

    subject: str
    obj: str
    action: str
    purpose: str
    scope: str = ""
    valid_from: str = ""
    valid_until: str = ""
    basis: str = ""

    def values(self) -> list[str]:
        return list(dataclasses.astuple(self))

    @property
    def resource_id(self) -> str:
        return self.obj.partition(".")[0]


def grant_rules(
    consumer: str,
    obj_items: tuple[str, Sequence[str]],
    action: str,
    purposes: Sequence[str],
    scope: str,
    window: tuple[datetime.datetime | None, datetime.datetime | None],
    grant_id: int | None,
) -> list[Rule]:
    """A grant as the model reads it: one rule per (item, purpose), its basis naming the
    grant. `obj_items` is the resource id and the items."""
    resource_id, items = obj_items
    valid_from, valid_until = (instant(moment) if moment else "" for moment in window)
    return [
        Rule(
            consumer,
            f"{resource_id}.{item}",
            action,
            purpose,
            scope,
            valid_from,
            valid_until,
            f"grant:{grant_id}",
        )
        for item in items
        for purpose in purposes
    ]
