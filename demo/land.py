"""宗地登记信息: state-owned construction land held by active enterprises."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from random import Random
from typing import NamedTuple

from demo import identity, places, words
from demo.dates import REFERENCE_DATE, between
from demo.enterprises import Enterprise

# Share of active enterprises that hold any land; holders then own one parcel or several.
_HOLDER_SHARE = 0.45


class LandParcel(NamedTuple):
    parcel_code: str
    location: str
    area: float
    land_use: str
    right_type: str
    holder_credit_code: str
    holder_name: str
    registered_on: date
    boundary_wkt: str
    transaction_price: Decimal


def make_land_parcels(
    rng: Random, count: int, enterprises: Sequence[Enterprise]
) -> list[LandParcel]:
    """`count` parcels; the first enterprise always holds the first one."""
    active = [enterprise for enterprise in enterprises[1:] if enterprise.active]
    holders = [enterprises[0], *rng.sample(active, round(len(active) * _HOLDER_SHARE))]
    taken: set[str] = set()
    return [
        _parcel(rng, holders[0] if index == 0 else rng.choice(holders), taken)
        for index in range(count)
    ]


def _parcel(rng: Random, holder: Enterprise, taken: set[str]) -> LandParcel:
    district, place = places.township(rng)
    land_use = words.LAND_USE_SHARES.pick(rng)
    area = round(rng.lognormvariate(8.0, 0.9) + 150, 2)
    low, high = words.LAND_USES[land_use]
    return LandParcel(
        parcel_code=identity.unique(taken, lambda: identity.parcel_code(rng, district)),
        location=places.parcel_location(rng, place),
        area=area,
        land_use=land_use,
        right_type=words.RIGHT_TYPE,
        holder_credit_code=holder.credit_code,
        holder_name=holder.name,
        registered_on=between(rng, holder.established_on, REFERENCE_DATE - timedelta(days=1)),
        boundary_wkt=places.boundary_wkt(rng, area),
        transaction_price=_price(area * rng.randint(low, high)),
    )


def _price(yuan: float) -> Decimal:
    """出让价款 in 万元, to the fen."""
    return Decimal(yuan / 10_000).quantize(Decimal("0.01"))
