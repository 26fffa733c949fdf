"""Misuse signals: for each, data that raises it and data like it that does not, on
SQLite and PostgreSQL, written through the audit log (facets filed as in service)."""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

import pytest
import sqlalchemy as sa

from audit import AuditLog, FieldAccount
from audit.__main__ import main
from audit.signals import Signal, misuse_signals
from errors import BadUserInput
from settings import Settings
from store.tables import grants
from tests.audit.conftest import Store, make_record
from workdays.calendar import SHANGHAI, WorkingCalendar

pytestmark = pytest.mark.anyio

# Monday 2 to Sunday 8 March 2026: five working days, then a weekend.
START = datetime.datetime(2026, 3, 2, tzinfo=SHANGHAI)
END = datetime.datetime(2026, 3, 9, tzinfo=SHANGHAI)
CALENDAR = WorkingCalendar()


def at(day: int, hour: int, minute: int = 0) -> datetime.datetime:
    """A moment in Shanghai time: 2 March 2026 is day 0."""
    return START + datetime.timedelta(days=day, hours=hour, minutes=minute)


def subjects(*names: str) -> dict[str, dict[str, list[str]]]:
    return {"person": {"keys": [f"k-{n}" for n in names], "subjects": [f"s-{n}" for n in names]}}


async def signals(store: Store, kind: str, records: list[Any], **settings: Any) -> list[Signal]:
    log = AuditLog(store.engine)
    await asyncio.gather(*(log.write(record) for record in records))
    await log.close()
    found = await misuse_signals(store.engine, Settings(**settings), CALENDAR, START, END)
    return [signal for signal in found if signal.kind == kind]


def by(system: str, when: datetime.datetime, **changes: Any) -> Any:
    return make_record(caller_system=system, occurred_at=when, **changes)


async def test_volume_far_above_the_callers_own_usual(store: Store) -> None:
    before = [by("burst", at(-d, 10)) for d in range(1, 5)]  # one a day
    before += [by("steady", at(-d, 10, m)) for d in range(1, 5) for m in range(6)]
    during = [by("burst", at(d % 5, 11, d)) for d in range(40)]  # ~5.7 a day
    during += [by("steady", at(d % 5, 11, d)) for d in range(42)]  # 6 a day, as before
    found = await signals(
        store,
        "volume",
        before + during,
        signal_volume_factor=5,
        signal_volume_floor=2,
        signal_baseline_days=4,
    )
    assert [signal.caller for signal in found] == [("11410581005000006G", "burst", None)]
    assert found[0].count == 40 and len(found[0].records) == 20
    assert all(one.record.caller_system == "burst" for one in found[0].records)


async def test_a_persons_requests_outside_working_hours(store: Store) -> None:
    late = [
        by("desk", at(0, 22), person="li-1"),  # Monday night
        by("desk", at(2, 7, 59), person="li-1"),  # Wednesday, before 08:30
        by("desk", at(5, 11), person="li-1"),  # Saturday
    ]
    usual = [by("desk", at(d, 10), person="wang-2") for d in range(3)]
    usual.append(by("desk", at(4, 18, 0), person="wang-2"))  # 18:00 on: off hours, one
    nightly = [by("batch", at(d, 3)) for d in range(5)]  # a system's night job: no person
    found = await signals(store, "off_hours", late + usual + nightly)
    assert [(signal.caller, signal.count) for signal in found] == [
        (("11410581005000006G", "desk", "li-1"), 3)
    ]
    assert {one.record.request_id for one in found[0].records} == {r.request_id for r in late}


async def test_a_period_within_one_working_days_hours_has_no_time_off(store: Store) -> None:
    """An auditor asking about one working morning: nothing lies outside working hours,
    so nothing is raised (and the question is still answered)."""
    morning = [by("desk", at(1, 9, n), person="li-1") for n in range(5)]
    log = AuditLog(store.engine)
    await asyncio.gather(*(log.write(record) for record in morning))
    await log.close()
    found = await misuse_signals(store.engine, Settings(), CALENDAR, at(1, 9), at(1, 11))
    assert [signal for signal in found if signal.kind == "off_hours"] == []


async def test_one_purpose_reference_for_many_subjects(store: Store) -> None:
    wide = [
        by("desk", at(1, 10, n), purpose_reference="R-1", records=subjects(str(n)))
        for n in range(5)
    ]
    narrow = [
        by("desk", at(1, 11, n), purpose_reference="R-2", records=subjects("a", "b"))
        for n in range(4)
    ]
    found = await signals(store, "reference", wide + narrow, signal_reference_subjects=5)
    assert [(signal.subject, signal.count) for signal in found] == [("R-1", 5)]
    assert "5 distinct data subjects" in found[0].detail


async def test_repeated_denied_attempts(store: Store) -> None:
    refused = [by("prober", at(1, 10, n), outcome="refused", http_status=403) for n in range(2)]
    denied_field = FieldAccount("persons.edges.node.phone", 1, "denied", "rules:no_match")
    refused.append(by("prober", at(1, 11), outcome="partial", fields=[denied_field]))
    once = [by("careful", at(1, 10, n), outcome="refused", http_status=403) for n in range(2)]
    served = [by("careful", at(1, 12, n)) for n in range(5)]
    found = await signals(store, "denied", refused + once + served, signal_denied_attempts=3)
    assert [(signal.subject, signal.count) for signal in found] == [
        ("11410581005000006G/prober", 3)
    ]


async def test_reads_right_up_to_a_grants_end(store: Store) -> None:
    ends = at(3, 17)
    async with store.engine.begin() as connection:
        ids = []
        for consumer in ("late-reader", "early-reader"):
            result = await connection.execute(
                sa.insert(grants).values(
                    consumer=consumer,
                    resource_id="person",
                    items=["phone"],
                    action="read",
                    purposes=["administrative_basis"],
                    valid_until=ends,
                    reference="（2026）1号",
                    created_at=at(-30, 9),
                    changed_at=at(-30, 9),
                )
            )
            ids.append(result.inserted_primary_key[0])
    late, early = ids

    def through(grant: int, when: datetime.datetime) -> Any:
        field = FieldAccount("persons.edges.node.phone", 1, "clear", f"grant:{grant} & grant:99")
        return by("desk", when, fields=[field])

    reads = [through(late, ends - datetime.timedelta(minutes=10 * n + 1)) for n in range(3)]
    reads += [through(early, at(1, 10, n)) for n in range(5)]  # days before its end
    found = await signals(store, "grant_end", reads, signal_grant_end_reads=3)
    assert [(signal.subject, signal.count) for signal in found] == [(f"grant {late}", 3)]


async def test_many_subjects_read_through_verification(store: Store) -> None:
    def checks(system: str, names: str) -> list[Any]:
        return [
            by(system, at(1, 10, n), purpose="data_verification", records=subjects(name))
            for n, name in enumerate(names)
        ]

    wide = checks("checker", "abcd")
    narrow = checks("counter", "abcabc")  # six checks, three subjects
    found = await signals(store, "verification", wide + narrow, signal_verification_subjects=4)
    assert [(signal.subject, signal.count) for signal in found] == [
        ("11410581005000006G/checker", 4)
    ]


async def test_a_period_must_be_zoned_forwards_and_bounded(sqlite_store: Store) -> None:
    settings = Settings()
    for start, end in (
        (START.replace(tzinfo=None), END),
        (END, START),
        (START, START + datetime.timedelta(days=93)),
    ):
        with pytest.raises(BadUserInput):
            await misuse_signals(sqlite_store.engine, settings, CALENDAR, start, end)


async def test_the_command_line_lists_signals_on_record(
    sqlite_store: Store, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    refused = [by("prober", at(1, 10, n), outcome="forbidden", http_status=403) for n in range(5)]
    log = AuditLog(sqlite_store.engine)
    await asyncio.gather(*(log.write(record) for record in refused))
    await log.close()
    monkeypatch.setenv("GOV_SHARE_DATA_DIR", str(sqlite_store.tmp_path))
    monkeypatch.setenv("GOV_SHARE_AUDIT_KEY_ID", "k1")
    monkeypatch.setenv("GOV_SHARE_AUDIT_KEYS", '{"k1": "the key in use"}')
    period = ["--from", START.isoformat(), "--until", END.isoformat()]
    arguments = ["signals", "--store-url", sqlite_store.url, "--auditor", "审计员 刘", *period]
    assert await asyncio.to_thread(main, arguments) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("denied  11410581005000006G/prober: 5 requests refused")
    assert printed.endswith("1 signals\n") and printed.count(" forbidden ") == 5
    rows = await sqlite_store.rows()
    assert rows[-1]["operator"] == "审计员 刘" and rows[-1]["operation_name"] == "audit signals"
    with pytest.raises(SystemExit):
        main([*arguments[:-1], "2026-03-10"])
    assert "needs a time zone" in capsys.readouterr().err
