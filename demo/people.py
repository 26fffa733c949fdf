"""人口基础信息: the residents every other register refers back to."""

from __future__ import annotations

from datetime import date, timedelta
from random import Random
from typing import NamedTuple

from demo import identity, places, words
from demo.dates import REFERENCE_DATE, age_on, between, years_after


class Person(NamedTuple):
    id_number: str
    name: str
    gender: str
    ethnicity: str
    birth_date: date
    household_address: str
    township: str
    phone: str

    @property
    def age(self) -> int:
        return age_on(self.birth_date, REFERENCE_DATE)


def make_persons(rng: Random, count: int) -> list[Person]:
    """`count` residents; the first is a working-age adult the demo is built around."""
    taken: set[str] = set()
    ages = [rng.randint(35, 55)] + [_age(rng) for _ in range(count - 1)]
    return [_person(rng, age, taken) for age in ages]


def _age(rng: Random) -> int:
    return words.AGE_BRACKETS.pick(rng) + rng.randrange(10)


def _person(rng: Random, age: int, taken: set[str]) -> Person:
    birth = between(
        rng,
        years_after(REFERENCE_DATE, -age - 1) + timedelta(days=1),
        years_after(REFERENCE_DATE, -age),
    )
    male = rng.random() < 0.51
    _, place = places.township(rng)
    return Person(
        id_number=identity.unique(taken, lambda: identity.resident_id_number(rng, birth, male)),
        name=identity.person_name(rng, male),
        gender="男" if male else "女",
        ethnicity=words.ETHNICITIES.pick(rng),
        birth_date=birth,
        household_address=places.address(rng, place, dwelling=True),
        township=place,
        phone=identity.mobile_number(rng),
    )
