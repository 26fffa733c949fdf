"""Which days are working days in Asia/Shanghai, and when an answer is due.

A deadline is the end (24:00 Asia/Shanghai) of the first working day after the day the
application was made, stored in UTC: made on Friday, due by Monday night; made on the
eve of the National Day week, due by the night of its first working day after it, a
make-up Saturday included. The rule is one line in `deadline`, so the city can tell a
reader exactly how a deadline came about.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import chinese_calendar

from workdays.overrides import NONE, Overrides, read_overrides

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Far more than any holiday (the longest is nine days): a calendar that finds no working
# day within it is broken, not merely long.
_LONGEST_SEARCH_DAYS = 60


@dataclass(frozen=True)
class Deadline:
    due_at: datetime.datetime
    """In UTC: the end of the working day the answer is due on."""
    provisional: bool
    """A day it was counted over is of a year neither the package nor an override file
    knows: counted on weekends alone, to be checked when the year's schedule is out."""


@dataclass(frozen=True)
class _Day:
    working: bool
    known: bool


Schedule = Callable[[datetime.date], bool | None]
"""The State Council's schedule: whether a day is a working day, None for a year it
does not know. `chinese-calendar`'s by default; a test gives one that knows less."""


class WorkingCalendar:
    def __init__(self, overrides: Overrides = NONE, schedule: Schedule | None = None) -> None:
        self.overrides = overrides
        self.schedule = schedule or _package_day
        # Days answered so far: the package takes ~150 µs a day, and Art. 12's figures ask
        # for every day of every application's answer time. Bounded by the days asked.
        self._days: dict[datetime.date, _Day] = {}

    def knows(self, year: int) -> bool:
        """Whether the year's holidays and make-up days are known (package or file)."""
        return year in self.overrides.years or self.schedule(datetime.date(year, 6, 1)) is not None

    def is_working_day(self, day: datetime.date) -> bool:
        return self._day(day).working

    def deadline(self, made_at: datetime.datetime) -> Deadline:
        """When the answer to an application made at `made_at` (zone-aware) is due."""
        if made_at.tzinfo is None:
            raise ValueError("a moment needs a time zone")
        day = made_at.astimezone(SHANGHAI).date()
        provisional = False
        for _ in range(_LONGEST_SEARCH_DAYS):
            day += datetime.timedelta(days=1)
            found = self._day(day)
            provisional = provisional or not found.known
            if found.working:
                end = datetime.datetime.combine(
                    day + datetime.timedelta(days=1), datetime.time(), SHANGHAI
                )
                return Deadline(end.astimezone(datetime.UTC), provisional)
        raise ValueError(f"no working day within {_LONGEST_SEARCH_DAYS} days of {made_at}")

    def working_hours(self, start: datetime.datetime, end: datetime.datetime) -> float:
        """The hours between two moments that fall on working days (Asia/Shanghai, whole
        days of 24 hours): how long an answer took, as Art. 12's figures count it, so a
        weekend or a holiday in between does not count against the provider."""
        if end <= start:
            return 0.0
        hours = 0.0
        moment = start.astimezone(SHANGHAI)
        finish = end.astimezone(SHANGHAI)
        while moment < finish:
            midnight = datetime.datetime.combine(
                moment.date() + datetime.timedelta(days=1), datetime.time(), SHANGHAI
            )
            until = min(midnight, finish)
            if self._day(moment.date()).working:
                hours += (until - moment).total_seconds() / 3600
            moment = until
        return hours

    def provisional_problem(self, now: datetime.datetime) -> str | None:
        """What /readyz says while an application made now gets a provisional deadline."""
        deadline = self.deadline(now)
        if not deadline.provisional:
            return None
        first = now.astimezone(SHANGHAI).year
        years = sorted(
            {year for year in range(first, deadline.due_at.year + 1) if not self.knows(year)}
        )
        named = ", ".join(str(year) for year in years)
        return (
            f"the working-day calendar does not know {named}: answer deadlines are counted "
            "on weekends alone and marked provisional (add the year's file to the "
            "calendar overrides)"
        )

    def _day(self, day: datetime.date) -> _Day:
        found = self._days.get(day)
        if found is None:
            found = self._days[day] = self._answered(day)
        return found

    def _answered(self, day: datetime.date) -> _Day:
        off = self.overrides.days.get(day)
        if off is not None:
            return _Day(not off, True)
        working = self.schedule(day)
        if working is not None:
            return _Day(working, True)
        return _Day(day.weekday() < 5, day.year in self.overrides.years)


def _package_day(day: datetime.date) -> bool | None:
    """The package's answer, or None for a year it does not know (it raises for those)."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None


def load_calendar(directory: Path | None) -> WorkingCalendar:
    """The calendar with the override files of `directory`; ConfigurationError if one is bad."""
    return WorkingCalendar(read_overrides(directory))
