"""Art. 12's figures per provider, from applications and their steps: answer times in
working hours, the share answered in time, refusals and overdue applications."""

from __future__ import annotations

import dataclasses
import datetime

from applications import Application, State, Step, StepTaken
from applications.figures import provider_figures
from tests.applications.helpers import APPLICANT, APPROVER, TAXATION, draft
from workdays import WorkingCalendar

CALENDAR = WorkingCalendar()


def at(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(f"{text}+08:00").astimezone(datetime.UTC)


def application(
    number: int, made: str, answer: tuple[Step, str] | None, state: State
) -> Application:
    made_at = at(made)
    steps = [StepTaken(Step.APPLY, State.APPLIED, APPLICANT, None, {}, made_at)]
    if answer is not None:
        steps.append(StepTaken(answer[0], state, APPROVER, "理由", {}, at(answer[1])))
    return Application(
        id=number,
        consumer="11410581005000006G/marriage-registry",
        applicant=APPLICANT.person,
        provider_code=TAXATION,
        asked=draft()[0].asked,
        business_reason="x",
        case_reference="y",
        acknowledged="z",
        state=state,
        made_at=made_at,
        due_at=CALENDAR.deadline(made_at).due_at,
        provisional=False,
        steps=tuple(steps),
    )


def test_answer_times_in_working_hours_in_time_refusals_and_overdue() -> None:
    now = at("2026-12-21T12:00:00")
    found = [
        # Friday 18:00, answered Monday 09:00: 15 working hours, in time.
        application(
            1, "2026-12-11T18:00:00", (Step.APPROVE, "2026-12-14T09:00:00"), State.APPROVED
        ),
        # Tuesday 10:00, refused Thursday 10:00: 48 hours, late (due Wednesday 24:00).
        application(2, "2026-12-08T10:00:00", (Step.REFUSE, "2026-12-10T10:00:00"), State.REFUSED),
        # Tuesday 10:00, answered 2 hours later.
        application(
            3, "2026-12-15T10:00:00", (Step.APPROVE, "2026-12-15T12:00:00"), State.APPROVED
        ),
        # Thursday 17 December, never answered: overdue on Monday the 21st.
        application(4, "2026-12-17T10:00:00", None, State.APPLIED),
        dataclasses.replace(
            application(5, "2026-12-17T10:00:00", None, State.NOT_SHARED),
            state=State.NOT_SHARED,
        ),
    ]
    [figures] = provider_figures(found, CALENDAR, now)
    assert figures.provider_code == TAXATION
    assert (figures.applications, figures.answered) == (4, 3)
    assert figures.median_answer_hours == 15
    assert figures.p90_answer_hours == 48
    assert figures.answered_in_time == 2 / 3
    assert (figures.refusals, figures.overdue) == (1, 1)


def test_no_answers_yet_give_no_times() -> None:
    [figures] = provider_figures(
        [application(1, "2026-12-17T10:00:00", None, State.APPLIED)],
        CALENDAR,
        at("2026-12-17T11:00:00"),
    )
    assert figures.median_answer_hours is figures.answered_in_time is None
    assert figures.overdue == 0
