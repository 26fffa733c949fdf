"""One consistent synthetic city: every register drawn from the same residents and firms."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from random import Random
from typing import Any, Protocol

from demo.enterprises import make_enterprises
from demo.insurance import make_contributions
from demo.land import make_land_parcels
from demo.licences import make_licences
from demo.marriages import make_marriages
from demo.people import make_persons
from demo.taxation import make_tax_registrations


class Row(Protocol):
    """A generated record; its field names are the catalog's column names."""

    def _asdict(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class DemoScale:
    """How big the city is; derived registers follow the two head counts."""

    persons: int = 10000
    enterprises: int = 2000
    parcels_per_enterprise: float = 1.3
    licences_per_person: float = 1.6
    tax_registered_share: float = 0.9
    married_share: float = 0.7  # of the smaller sex, among those of marriageable age
    insured_share: float = 0.45  # of working-age residents, employed by an enterprise
    contribution_months: int = 6

    def __post_init__(self) -> None:
        if self.persons < 1 or self.enterprises < 1:
            raise ValueError("a demo city needs at least one person and one enterprise")
        if min(self.parcels_per_enterprise, self.licences_per_person) < 0:
            raise ValueError("per-head ratios cannot be negative")
        shares = (self.tax_registered_share, self.married_share, self.insured_share)
        if not all(0 <= share <= 1 for share in shares):
            raise ValueError("tax_registered_share, married_share and insured_share are shares")
        if self.contribution_months < 1:
            raise ValueError("contributions need at least one month")


def build_world(rng: Random, scale: DemoScale) -> Mapping[str, Sequence[Row]]:
    """Rows by catalog resource id, drawn in a fixed order so a seed fixes every value."""
    persons = make_persons(rng, scale.persons)
    enterprises = make_enterprises(rng, scale.enterprises, persons)
    parcels = make_land_parcels(
        rng, _at_least_one(scale.enterprises * scale.parcels_per_enterprise), enterprises
    )
    marriages = make_marriages(rng, persons, scale.married_share)
    licences = make_licences(rng, _at_least_one(scale.persons * scale.licences_per_person), persons)
    return {
        "person": persons,
        "enterprise": enterprises,
        "land_parcel": parcels,
        "marriage_registration": marriages,
        "licence": licences,
        "tax_registration": make_tax_registrations(
            rng, _at_least_one(scale.enterprises * scale.tax_registered_share), enterprises
        ),
        "insurance_contribution": make_contributions(
            rng, persons, enterprises, scale.insured_share, scale.contribution_months
        ),
    }


def _at_least_one(size: float) -> int:
    """The demo's first enterprise always has a parcel, a licensed head and a tax record."""
    return max(1, round(size))
