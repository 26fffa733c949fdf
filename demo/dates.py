"""Calendar helpers anchored on a fixed day, so the data never depends on the clock."""

from __future__ import annotations

from datetime import date, timedelta
from random import Random

REFERENCE_DATE = date(2026, 1, 1)

# Registries store 长期 (no expiry) as the last representable day rather than NULL.
LONG_TERM = date(9999, 12, 31)


def between(rng: Random, start: date, end: date) -> date:
    """A uniformly drawn day in [start, end]."""
    return start + timedelta(days=rng.randint(0, (end - start).days))


def recent(rng: Random, start: date, end: date) -> date:
    """A day in [start, end] skewed towards `end`: registrations grow year on year."""
    span = (end - start).days
    return start + timedelta(days=round(rng.triangular(0, span, span)))


def soon_after(rng: Random, start: date, end: date) -> date:
    """A day in [start, end] most likely a few years after `start`: people marry, say,
    some years after they may, not the day they come of age."""
    span = (end - start).days
    return start + timedelta(days=round(rng.triangular(0, span, min(span, 3 * 365))))


def years_after(day: date, years: int) -> date:
    """The same calendar day `years` later (earlier if negative); 29 Feb falls back to 28."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def coming_of_age(birth: date, years: int) -> date:
    """The first day of being `years` old; born on 29 Feb, that is 1 Mar in common years."""
    day = years_after(birth, years)
    return day if age_on(birth, day) >= years else day + timedelta(days=1)


def age_on(birth: date, day: date) -> int:
    """Completed years of age, as the ID-card and marriage rules count them."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def months_before(day: date, count: int) -> list[date]:
    """The first days of the `count` whole months before `day`'s month, oldest first."""
    index = day.year * 12 + day.month - 1
    return [date(m // 12, m % 12 + 1, 1) for m in range(index - count, index)]
