"""市场主体登记信息: enterprises, each run by a resident of the population register."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from random import Random
from typing import NamedTuple

from demo import identity, places, words
from demo.dates import REFERENCE_DATE, recent, years_after
from demo.people import Person

_EARLIEST = date(1993, 1, 1)
_REPEAT_REPRESENTATIVE = 0.15
# 经营范围 is Chinese prose, so it takes full-width punctuation.
_SCOPE_HEAD = "一般项目："
_SCOPE_SEPARATOR = "；"
_SCOPE_FOOTNOTE = "（除依法须经批准的项目外，凭营业执照依法自主开展经营活动）"


class Enterprise(NamedTuple):
    credit_code: str
    name: str
    entity_type: str
    legal_rep_name: str
    legal_rep_id_number: str
    registered_capital: Decimal
    established_on: date
    address: str
    business_scope: str
    status: str
    contact_phone: str
    industry: str

    @property
    def active(self) -> bool:
        return self.status in words.ACTIVE_STATUSES


def make_enterprises(rng: Random, count: int, persons: Sequence[Person]) -> list[Enterprise]:
    """`count` enterprises; the first two share the first person as legal representative."""
    codes: set[str] = set()
    names: set[str] = set()
    representatives = _representatives(rng, count, persons)
    return [
        _enterprise(rng, person, codes, names, featured=index == 0)
        for index, person in enumerate(representatives)
    ]


def _representatives(rng: Random, count: int, persons: Sequence[Person]) -> list[Person]:
    """Mostly distinct adults, with some serial founders heading several enterprises."""
    candidates = [person for person in persons[1:] if 22 <= person.age <= 75]
    rng.shuffle(candidates)
    chosen = [persons[0], persons[0]]
    while len(chosen) < count:
        if candidates and rng.random() >= _REPEAT_REPRESENTATIVE:
            chosen.append(candidates.pop())
        else:
            chosen.append(rng.choice(chosen))
    return chosen[:count]


def _enterprise(
    rng: Random, rep: Person, codes: set[str], names: set[str], *, featured: bool
) -> Enterprise:
    entity_type = words.ENTITY_TYPES.pick(rng)
    industry = rng.choice(tuple(words.INDUSTRIES))
    suffix = rng.choice(words.NAME_SUFFIXES[entity_type])
    start = max(_EARLIEST, years_after(rep.birth_date, 20))
    established = recent(rng, start, REFERENCE_DATE - timedelta(days=30))
    _, place = places.township(rng)
    return Enterprise(
        credit_code=identity.unique(codes, lambda: identity.credit_code(rng, established)),
        name=identity.unique(names, lambda: identity.enterprise_name(rng, industry, suffix)),
        entity_type=entity_type,
        legal_rep_name=rep.name,
        legal_rep_id_number=rep.id_number,
        registered_capital=Decimal(rng.choice(words.CAPITALS[entity_type])).quantize(
            Decimal("0.01")
        ),
        established_on=established,
        address=places.address(rng, place),
        business_scope=_scope(rng, industry),
        status="存续" if featured else words.ENTERPRISE_STATUSES.pick(rng),
        contact_phone=_contact_phone(rng),
        industry=industry,
    )


def _contact_phone(rng: Random) -> str:
    """Small firms give the owner's mobile, larger ones often an office line."""
    return identity.mobile_number(rng) if rng.random() < 0.6 else identity.landline_number(rng)


def _scope(rng: Random, industry: str) -> str:
    """经营范围 in the post-2021 wording: general items, then the standard footnote."""
    activities = words.INDUSTRIES[industry]
    chosen = rng.sample(activities, rng.randint(2, len(activities)))
    return _SCOPE_HEAD + _SCOPE_SEPARATOR.join(chosen) + _SCOPE_FOOTNOTE
