"""The city's calendar override files: one JSON file per year, in holiday-cn's format.

    {"year": 2027,
     "days": [{"name": "元旦", "date": "2027-01-01", "isOffDay": true},
              {"name": "春节", "date": "2027-02-07", "isOffDay": false}, …]}

`isOffDay: true` is a day off (a holiday, or a local rest day), `false` a working day
(a make-up working day on a weekend, or a local working day). Other keys holiday-cn
writes (`$schema`, `$id`, `papers`) are allowed and ignored. A listed day wins over the
package for that date, and the package answers for the others; a year the package does
not know is known once it has a file, its unlisted days plain weekdays and weekends.
Every problem is a `ConfigurationError` naming the file: the server does not start on
a calendar it cannot read (a wrong deadline is a legal matter).
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from errors import ConfigurationError


@dataclass(frozen=True)
class Overrides:
    """What the override files say: whether each listed day is off, and the years they
    cover (a year with a file is known even if it lists no day)."""

    days: dict[datetime.date, bool]
    """Date → is it a day off."""
    years: frozenset[int]


NONE = Overrides({}, frozenset())


def read_overrides(directory: Path | None) -> Overrides:
    """Every `*.json` of `directory`, validated; no directory (or none there): no overrides."""
    if directory is None or not directory.is_dir():
        return NONE
    days: dict[datetime.date, bool] = {}
    years: set[int] = set()
    for path in sorted(directory.glob("*.json")):
        year, listed = _read(path)
        if year in years:
            raise ConfigurationError(str(path), "year", f"{year} is given by another file too")
        years.add(year)
        days.update(listed)
    return Overrides(days, frozenset(years))


def _read(path: Path) -> tuple[int, dict[datetime.date, bool]]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ConfigurationError(str(path), "", f"not a readable JSON file: {error}") from None
    if not isinstance(document, dict):
        raise ConfigurationError(str(path), "", "a calendar file is a JSON object")
    year = document.get("year")
    if not isinstance(year, int) or isinstance(year, bool) or not 2000 <= year <= 2100:
        raise ConfigurationError(str(path), "year", "a year such as 2027 is required")
    entries = document.get("days")
    if not isinstance(entries, list):
        raise ConfigurationError(str(path), "days", "a list of days is required")
    days: dict[datetime.date, bool] = {}
    for index, entry in enumerate(entries):
        where = f"days[{index}]"
        date, off = _day(path, where, entry)
        if date.year != year:
            raise ConfigurationError(str(path), where, f"{date} is not in the file's year {year}")
        if date in days:
            raise ConfigurationError(str(path), where, f"{date} is listed twice")
        days[date] = off
    return year, days


def _day(path: Path, where: str, entry: Any) -> tuple[datetime.date, bool]:
    if not isinstance(entry, dict):
        raise ConfigurationError(str(path), where, "a day is an object: name, date, isOffDay")
    name, date, off = entry.get("name"), entry.get("date"), entry.get("isOffDay")
    if not isinstance(name, str) or not name.strip():
        raise ConfigurationError(str(path), where, "name: the holiday's name is required")
    if not isinstance(off, bool):
        raise ConfigurationError(str(path), where, "isOffDay: true or false is required")
    parsed = None
    if isinstance(date, str) and len(date) == len("2027-01-01"):
        try:
            parsed = datetime.date.fromisoformat(date)
        except ValueError:
            parsed = None
    if parsed is None:
        raise ConfigurationError(str(path), where, "date: YYYY-MM-DD is required")
    return parsed, off
