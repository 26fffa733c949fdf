"""Figures for the evaluation of sharing work (Art. 12), per provider: how fast it
answers, in working hours (a weekend or holiday in between does not count against it),
how many answers came within the deadline, its refusals (each with its reason, which
Art. 8 requires), and how many applications wait past their deadline now.

An answer is the provider's first approval or refusal; applications answered at once by
the catalog (not_shared) and those withdrawn unanswered are not the provider's answers.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Sequence
from dataclasses import dataclass

from applications.model import Application, State, Step
from workdays import WorkingCalendar


@dataclass(frozen=True)
class ProviderFigures:
    provider_code: str
    applications: int
    """Applications addressed to it (not_shared ones aside)."""
    answered: int
    median_answer_hours: float | None
    p90_answer_hours: float | None
    answered_in_time: float | None
    """The share of answers given by the deadline."""
    refusals: int
    overdue: int
    """Applications waiting past their deadline now."""


def provider_figures(
    applications: Sequence[Application], calendar: WorkingCalendar, now: datetime.datetime
) -> list[ProviderFigures]:
    by_provider: dict[str, list[Application]] = {}
    for application in applications:
        if application.state is not State.NOT_SHARED:
            by_provider.setdefault(application.provider_code, []).append(application)
    return [_figures(code, found, calendar, now) for code, found in sorted(by_provider.items())]


def _figures(
    code: str, applications: list[Application], calendar: WorkingCalendar, now: datetime.datetime
) -> ProviderFigures:
    hours: list[float] = []
    in_time = refusals = 0
    for application in applications:
        answer = next((s for s in application.steps if s.step in (Step.APPROVE, Step.REFUSE)), None)
        if answer is None:
            continue
        hours.append(calendar.working_hours(application.made_at, answer.at))
        in_time += answer.at <= application.due_at
        refusals += answer.step is Step.REFUSE
    return ProviderFigures(
        provider_code=code,
        applications=len(applications),
        answered=len(hours),
        median_answer_hours=_percentile(hours, 50),
        p90_answer_hours=_percentile(hours, 90),
        answered_in_time=in_time / len(hours) if hours else None,
        refusals=refusals,
        overdue=sum(application.overdue_at(now) for application in applications),
    )


def _percentile(values: list[float], percent: int) -> float | None:
    """The nearest-rank percentile: a value that occurred, never an interpolation."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[max(0, math.ceil(percent / 100 * len(ordered)) - 1)], 2)
