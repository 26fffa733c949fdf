"""Answer deadlines on China's calendar: one working day in Asia/Shanghai, stored in
UTC, across weekends, statutory holidays and their make-up working days (调休), a year
only the city's override file knows, and a year nobody knows (provisional)."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from errors import ConfigurationError
from settings import ROOT, Settings
from startup import check
from workdays import WorkingCalendar, load_calendar

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
CALENDAR = WorkingCalendar()


def made(day: str, clock: str = "10:00") -> datetime.datetime:
    """An application made at `clock` Asia/Shanghai on `day`."""
    return datetime.datetime.fromisoformat(f"{day}T{clock}:00+08:00")


def due_local(deadline: datetime.datetime) -> str:
    return deadline.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M %a")


def test_the_deadline_is_stored_in_utc_as_the_end_of_the_next_working_day() -> None:
    deadline = CALENDAR.deadline(made("2026-12-08"))  # a Tuesday
    assert deadline.due_at == datetime.datetime(2026, 12, 9, 16, 0, tzinfo=datetime.UTC)
    assert deadline.due_at.tzinfo is datetime.UTC
    assert not deadline.provisional


def test_the_day_is_the_shanghai_day_not_the_utc_day() -> None:
    # 23:30 UTC on Monday is 07:30 on Tuesday in Shanghai: due at the end of Wednesday.
    monday_night_utc = datetime.datetime(2026, 12, 7, 23, 30, tzinfo=datetime.UTC)
    assert due_local(CALENDAR.deadline(monday_night_utc).due_at) == "2026-12-10 00:00 Thu"


def test_across_a_weekend() -> None:
    for day in ("2026-12-11", "2026-12-12", "2026-12-13"):  # Friday, Saturday, Sunday
        assert due_local(CALENDAR.deadline(made(day)).due_at) == "2026-12-15 00:00 Tue"


def test_the_national_day_week_2026_and_its_make_up_working_days() -> None:
    # Made on Wednesday 30 September: 1–7 October are off, Thursday the 8th is the first
    # working day after it.
    assert due_local(CALENDAR.deadline(made("2026-09-30")).due_at) == "2026-10-09 00:00 Fri"
    # Made during the holiday: the same.
    assert due_local(CALENDAR.deadline(made("2026-10-03")).due_at) == "2026-10-09 00:00 Fri"
    # Made on Friday 9 October: Saturday the 10th is a make-up working day.
    assert due_local(CALENDAR.deadline(made("2026-10-09")).due_at) == "2026-10-11 00:00 Sun"
    # Made on Saturday 19 September: Sunday the 20th is a make-up working day.
    assert due_local(CALENDAR.deadline(made("2026-09-19")).due_at) == "2026-09-21 00:00 Mon"
    # Mid-Autumn: Friday 25 to Sunday 27 September are off.
    assert due_local(CALENDAR.deadline(made("2026-09-24")).due_at) == "2026-09-29 00:00 Tue"


def test_the_spring_festival_2026_and_its_make_up_working_days() -> None:
    # Made on Friday 13 February: Saturday the 14th is a make-up working day.
    assert due_local(CALENDAR.deadline(made("2026-02-13")).due_at) == "2026-02-15 00:00 Sun"
    # Made on the 14th: the 15th to the 23rd are off; Tuesday the 24th is due.
    assert due_local(CALENDAR.deadline(made("2026-02-14")).due_at) == "2026-02-25 00:00 Wed"
    # Made on Friday 27 February: Saturday the 28th is a make-up working day.
    assert due_local(CALENDAR.deadline(made("2026-02-27")).due_at) == "2026-03-01 00:00 Sun"
    assert not CALENDAR.deadline(made("2026-02-14")).provisional


def write_year(directory: Path, year: int, days: list[dict[str, object]]) -> Path:
    path = directory / f"{year}.json"
    path.write_text(
        json.dumps({"$schema": "https://example.invalid/schema.json", "year": year, "days": days}),
        encoding="utf-8",
    )
    return path


YEAR_2027 = [
    {"name": "元旦", "date": "2027-01-01", "isOffDay": True},
    {"name": "春节", "date": "2027-02-06", "isOffDay": True},
    {"name": "春节", "date": "2027-02-07", "isOffDay": False},
]


def test_a_year_only_the_override_file_knows(tmp_path: Path) -> None:
    write_year(tmp_path, 2027, YEAR_2027)
    calendar = load_calendar(tmp_path)
    assert calendar.knows(2027) and not WorkingCalendar().knows(2027)
    # Thursday 31 December 2026: Friday 1 January 2027 is off, so Monday is due.
    deadline = calendar.deadline(made("2026-12-31"))
    assert due_local(deadline.due_at) == "2027-01-05 00:00 Tue"
    assert not deadline.provisional
    # Friday 5 February 2027: Saturday off, Sunday the 7th a make-up working day.
    assert due_local(calendar.deadline(made("2027-02-05")).due_at) == "2027-02-08 00:00 Mon"
    assert calendar.provisional_problem(made("2026-12-31")) is None


def test_a_local_adjustment_wins_over_the_package(tmp_path: Path) -> None:
    write_year(tmp_path, 2026, [{"name": "林州市地方假日", "date": "2026-12-09", "isOffDay": True}])
    calendar = load_calendar(tmp_path)
    assert due_local(calendar.deadline(made("2026-12-08")).due_at) == "2026-12-11 00:00 Fri"
    # The rest of 2026 is still the State Council's: 10 October stays a working day.
    assert calendar.is_working_day(datetime.date(2026, 10, 10))


def test_a_year_nobody_knows_is_counted_on_weekends_and_marked_provisional() -> None:
    deadline = CALENDAR.deadline(made("2030-09-30"))  # a Monday
    assert due_local(deadline.due_at) == "2030-10-02 00:00 Wed"
    assert deadline.provisional
    # A deadline reaching into an unknown year is provisional too.
    assert CALENDAR.deadline(made("2026-12-31")).provisional
    problem = CALENDAR.provisional_problem(made("2026-12-31"))
    assert problem is not None and "does not know 2027" in problem
    assert CALENDAR.provisional_problem(made("2026-12-08")) is None


@pytest.mark.parametrize(
    ("document", "where"),
    [
        ("{not json", "not a readable JSON file"),
        ("[]", "a calendar file is a JSON object"),
        ('{"days": []}', "year: a year such as 2027 is required"),
        ('{"year": 2027}', "days: a list of days is required"),
        ('{"year": 2027, "days": [{"date": "2027-01-01", "isOffDay": true}]}', "name"),
        ('{"year": 2027, "days": [{"name": "x", "date": "2027-1-1", "isOffDay": true}]}', "date"),
        (
            '{"year": 2027, "days": [{"name": "x", "date": "2027-01-01", "isOffDay": 1}]}',
            "isOffDay",
        ),
        (
            '{"year": 2027, "days": [{"name": "x", "date": "2028-01-01", "isOffDay": true}]}',
            "not in the file's year 2027",
        ),
        (
            '{"year": 2027, "days": [{"name": "x", "date": "2027-01-01", "isOffDay": true},'
            ' {"name": "x", "date": "2027-01-01", "isOffDay": false}]}',
            "listed twice",
        ),
    ],
)
def test_a_bad_override_file_is_a_configuration_error(
    tmp_path: Path, document: str, where: str
) -> None:
    (tmp_path / "2027.json").write_text(document, encoding="utf-8")
    with pytest.raises(ConfigurationError) as raised:
        load_calendar(tmp_path)
    assert raised.value.file.endswith("2027.json")
    assert where in str(raised.value)


def test_two_files_for_one_year_are_refused(tmp_path: Path) -> None:
    write_year(tmp_path, 2027, YEAR_2027)
    (tmp_path / "local-2027.json").write_text('{"year": 2027, "days": []}', encoding="utf-8")
    with pytest.raises(ConfigurationError, match="given by another file too"):
        load_calendar(tmp_path)


def test_the_server_does_not_start_with_a_bad_calendar_file(tmp_path: Path) -> None:
    overrides = tmp_path / "calendar"
    overrides.mkdir()
    (overrides / "2027.json").write_text('{"year": "2027"}', encoding="utf-8")
    settings = Settings(demo=True, data_dir=tmp_path, calendar_dir=overrides)
    with pytest.raises(ExceptionGroup) as raised:
        check(settings)
    [problem] = raised.value.exceptions
    assert isinstance(problem, ConfigurationError) and "2027.json" in str(problem)


def test_the_shipped_override_files_load() -> None:
    load_calendar(ROOT / "workdays" / "overrides")


def test_working_hours_leave_out_weekends_and_holidays() -> None:
    friday_evening = made("2026-12-11", "18:00")
    monday_morning = made("2026-12-14", "09:00")
    assert CALENDAR.working_hours(friday_evening, monday_morning) == 6 + 9
    # Across the National Day week: 30 September 12:00 to 8 October 12:00.
    assert CALENDAR.working_hours(made("2026-09-30", "12:00"), made("2026-10-08", "12:00")) == 24
    assert CALENDAR.working_hours(monday_morning, friday_evening) == 0
