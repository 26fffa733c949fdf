"""电子证照信息: licences issued to residents, one current licence per kind and holder.

No marriage or divorce certificates: the civil affairs bureau shares those in its
marriage register, conditionally. A licence repeating one would hand every department
the certificate number, date, office and kind of registration that register withholds.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from random import Random
from typing import NamedTuple

from demo import identity
from demo.dates import LONG_TERM, REFERENCE_DATE, age_on, between, years_after
from demo.people import Person

_YESTERDAY = REFERENCE_DATE - timedelta(days=1)
_REVOKED_SHARE = 0.02


class Kind(NamedTuple):
    """A licence kind: who may hold it, since when it is issued, how long it lasts."""

    name: str
    issuer: str
    min_age: int
    max_age: int
    since: date
    recent_years: int | None  # a current one was issued within this many years
    terms: tuple[int, ...]  # validity in years; 0 is 长期
    share: int  # weight among licences other than the ID card


ID_CARD = Kind("居民身份证", "林州市公安局", 16, 120, date(2004, 1, 1), 10, (), 0)
KINDS = (
    ID_CARD,
    Kind("机动车驾驶证", "安阳市公安局交通警察支队", 18, 70, date(1995, 1, 1), 7, (6, 10, 10), 40),
    Kind("不动产权证书", "林州市自然资源和规划局", 18, 120, date(2016, 1, 1), None, (0,), 15),
    Kind("出生医学证明", "林州市人民医院", 0, 0, date(1996, 1, 1), None, (0,), 10),
    Kind("教师资格证书", "林州市教育体育局", 22, 60, date(2001, 1, 1), None, (0,), 5),
)
_TOTAL_SHARE = sum(kind.share for kind in KINDS)


class Licence(NamedTuple):
    licence_number: str
    licence_type: str
    holder_name: str
    holder_id_number: str
    issuer: str
    issued_on: date
    valid_until: date
    status: str
    file_id: str


def make_licences(rng: Random, count: int, persons: Sequence[Person]) -> list[Licence]:
    """About `count` licences: ID cards first (the first person's included), then the rest
    by holder."""
    taken: set[str] = set()
    cards = _id_cards(rng, count, persons)
    others = count - len(cards)
    grants = [(holder, 0) for holder in cards] + _grants(rng, others, persons)
    return [_licence(rng, persons[holder], KINDS[kind], taken) for holder, kind in sorted(grants)]


def _id_cards(rng: Random, count: int, persons: Sequence[Person]) -> list[int]:
    eligible = _eligible(ID_CARD, persons)
    return eligible[:1] + rng.sample(eligible[1:], min(count, len(eligible)) - 1)


def _grants(rng: Random, others: int, persons: Sequence[Person]) -> list[tuple[int, int]]:
    """(person index, kind index) pairs of the kinds after the ID card, at most one each."""
    grants = []
    for index, kind in enumerate(KINDS[1:], start=1):
        eligible = _eligible(kind, persons)
        quota = min(round(others * kind.share / _TOTAL_SHARE), len(eligible))
        grants += [(holder, index) for holder in rng.sample(eligible, quota)]
    return grants


def _eligible(kind: Kind, persons: Sequence[Person]) -> list[int]:
    windows = ((index, _window(kind, person)) for index, person in enumerate(persons))
    return [index for index, (start, end) in windows if start <= end]


def _window(kind: Kind, person: Person) -> tuple[date, date]:
    """The days this person could have been issued their current licence of this kind."""
    start = max(years_after(person.birth_date, kind.min_age), kind.since)
    if kind.recent_years is not None:
        start = max(start, years_after(REFERENCE_DATE, -kind.recent_years))
    end = min(years_after(person.birth_date, kind.max_age + 1) - timedelta(days=1), _YESTERDAY)
    return start, end


def _licence(rng: Random, holder: Person, kind: Kind, taken: set[str]) -> Licence:
    issued = between(rng, *_window(kind, holder))
    valid_until = _valid_until(rng, kind, holder, issued)
    return Licence(
        licence_number=identity.unique(
            taken, lambda: identity.licence_number(rng, kind.name, holder.id_number, issued)
        ),
        licence_type=kind.name,
        holder_name=holder.name,
        holder_id_number=holder.id_number,
        issuer=kind.issuer,
        issued_on=issued,
        valid_until=valid_until,
        status=_status(rng, valid_until),
        file_id=identity.file_id(rng),
    )


def _valid_until(rng: Random, kind: Kind, holder: Person, issued: date) -> date:
    if kind is ID_CARD:
        term = _id_card_term(age_on(holder.birth_date, issued))
    else:
        term = rng.choice(kind.terms)
    return years_after(issued, term) if term else LONG_TERM


def _id_card_term(age: int) -> int:
    """Validity by age at issue, per the Resident Identity Card Law (art. 5); 0 is 长期."""
    if age < 26:
        return 10
    return 20 if age < 46 else 0


def _status(rng: Random, valid_until: date) -> str:
    if valid_until < REFERENCE_DATE:
        return "已过期"
    return "已注销" if rng.random() < _REVOKED_SHARE else "有效"
