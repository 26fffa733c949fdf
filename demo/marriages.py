"""婚姻登记信息: couples of the population register, married, some divorced, some reissued.

The certificates are the civil affairs bureau's to share, on its conditions: no other
register repeats their numbers, dates or offices (the licence office holds none).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date, timedelta
from random import Random
from typing import NamedTuple

from demo import identity, places
from demo.dates import REFERENCE_DATE, between, coming_of_age, soon_after, years_after
from demo.people import Person

_YESTERDAY = REFERENCE_DATE - timedelta(days=1)
# Legal minimum ages: men 22, women 20 (婚姻法 1980; 民法典 第一千零四十七条).
_MIN_AGE = {"男": 22, "女": 20}
# Husbands are about two years older than their wives: mean and spread, in days.
_AGE_GAP = (730.0, 900.0)
_DIVORCE_SHARE = 0.12
_REISSUE_SHARE = 0.04
# Since the 婚姻登记条例 (1 Oct 2003) the county registry registers every marriage here;
# before it, the township or 街道办事处 of the parties did.
_COUNTY_REGISTRY_SINCE = date(2003, 10, 1)
_COUNTY_REGISTRY = "林州市民政局婚姻登记处"


class Step(NamedTuple):
    """A kind of registration and the prefix of the certificate number it issues."""

    registration_type: str
    prefix: str


MARRIAGE = Step("结婚登记", "J")
DIVORCE = Step("离婚登记", "L")
REISSUED_MARRIAGE = Step("补发结婚证", "BJ")
REISSUED_DIVORCE = Step("补发离婚证", "BL")


class MarriageRegistration(NamedTuple):
    registration_number: str
    registration_type: str
    registered_on: date
    registry_office: str
    party_a_id_number: str
    party_a_name: str
    party_b_id_number: str
    party_b_name: str
    certificate_number: str


class _Event(NamedTuple):
    day: date
    couple: int
    step: Step
    office: str


def make_marriages(
    rng: Random, persons: Sequence[Person], share: float
) -> list[MarriageRegistration]:
    """`share` of the smaller sex of marriageable age married, the first person among them
    if of age; certificates numbered in date order, as the registry issues them."""
    couples = _couples(rng, persons, share)
    events = sorted(
        event for index, couple in enumerate(couples) for event in _events(rng, index, *couple)
    )
    return _numbered(rng, events, couples)


def _couples(rng: Random, persons: Sequence[Person], share: float) -> list[tuple[Person, Person]]:
    """Men and women paired by age, each husband a couple of years older, give or take."""
    men, women = (
        [person for person in persons if person.gender == gender and _of_age(person)]
        for gender in ("男", "女")
    )
    count = round(min(len(men), len(women)) * share)
    if not count:
        return []
    husbands = _chosen(rng, men, count, persons[0])
    gaps = [rng.gauss(*_AGE_GAP) for _ in husbands]
    by_wife_birth = sorted(zip(husbands, gaps, strict=True), key=lambda h: _ordinal(h[0]) + h[1])
    wives = sorted(_chosen(rng, women, count, persons[0]), key=_ordinal)
    return [(husband, wife) for (husband, _), wife in zip(by_wife_birth, wives, strict=True)]


def _of_age(person: Person) -> bool:
    return _may_marry_from(person) <= _YESTERDAY


def _may_marry_from(person: Person) -> date:
    return coming_of_age(person.birth_date, _MIN_AGE[person.gender])


def _ordinal(person: Person) -> int:
    return person.birth_date.toordinal()


def _chosen(rng: Random, pool: list[Person], count: int, featured: Person) -> list[Person]:
    """`count` of the pool, the featured person among them if in it."""
    if featured not in pool:
        return rng.sample(pool, count)
    rest = [person for person in pool if person is not featured]
    return [featured, *rng.sample(rest, count - 1)]


def _events(rng: Random, couple: int, husband: Person, wife: Person) -> list[_Event]:
    """Marriage once both are of age; then perhaps a divorce, perhaps a reissued certificate."""
    start = max(_may_marry_from(husband), _may_marry_from(wife))
    married = soon_after(rng, start, min(years_after(start, 15), _YESTERDAY))
    events = [_Event(married, couple, MARRIAGE, _office(rng, married))]
    if rng.random() < _DIVORCE_SHARE and (day := _a_year_after(rng, married)):
        events.append(_Event(day, couple, DIVORCE, _office(rng, day)))
    if rng.random() < _REISSUE_SHARE and (day := _a_year_after(rng, events[-1].day)):
        step = REISSUED_DIVORCE if events[-1].step is DIVORCE else REISSUED_MARRIAGE
        events.append(_Event(day, couple, step, _office(rng, day)))
    return events


def _a_year_after(rng: Random, day: date) -> date | None:
    """A day at least a year after `day` and before the reference date, if there is one."""
    start = years_after(day, 1)
    return between(rng, start, _YESTERDAY) if start <= _YESTERDAY else None


def _office(rng: Random, day: date) -> str:
    if day >= _COUNTY_REGISTRY_SINCE:
        return _COUNTY_REGISTRY
    _, place = places.township(rng)
    county = "林县" if identity.linzhou_code(day.year) != "410581" else "林州市"
    return county + place + ("办事处" if place.endswith("街道") else "人民政府")


def _numbered(
    rng: Random, events: Sequence[_Event], couples: Sequence[tuple[Person, Person]]
) -> list[MarriageRegistration]:
    """Certificate numbers run per kind and year; record numbers are drawn at random."""
    yearly: Counter[tuple[str, int]] = Counter()
    taken: set[str] = set()
    registrations = []
    for event in events:
        yearly[event.step.prefix, event.day.year] += 1
        husband, wife = couples[event.couple]
        registrations.append(
            MarriageRegistration(
                registration_number=identity.unique(
                    taken, lambda: identity.marriage_registration_number(rng)
                ),
                registration_type=event.step.registration_type,
                registered_on=event.day,
                registry_office=event.office,
                party_a_id_number=husband.id_number,
                party_a_name=husband.name,
                party_b_id_number=wife.id_number,
                party_b_name=wife.name,
                certificate_number=identity.marriage_certificate_number(
                    event.step.prefix, event.day, yearly[event.step.prefix, event.day.year]
                ),
            )
        )
    return registrations
