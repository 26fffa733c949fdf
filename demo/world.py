"""One consistent synthetic city: every register drawn from the same residents and firms."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from random import Random
from typing import Any, Protocol

from demo.enterprises import make_enterprises
from demo.land import make_land_parcels
from demo.licences import make_licences
from demo.people import make_persons
from demo.taxation import make_tax_registrations


class Row(Protocol):
    """A generated record; its field names are the catalog's column names."""

    def _asdict(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class DemoScale:
    """How big the city is; derived registers follow the two head counts."""

    persons: int = 5000
    enterprises: int = 1200
    parcels_per_enterprise: float = 1.3
    licences_per_person: float = 1.6
    tax_registered_share: float = 0.9

    def __post_init__(self) -> None:
        if self.persons < 1 or self.enterprises < 1:
            raise ValueError("a demo city needs at least one person and one enterprise")
        if min(self.parcels_per_enterprise, self.licences_per_person) < 0:
            raise ValueError("per-head ratios cannot be negative")
        if not 0 <= self.tax_registered_share <= 1:
            raise ValueError("tax_registered_share is a share, between 0 and 1")


def build_world(rng: Random, scale: DemoScale) -> Mapping[str, Sequence[Row]]:
    """Rows by catalog resource id, drawn in a fixed order so a seed fixes every value."""
    persons = make_persons(rng, scale.persons)
    enterprises = make_enterprises(rng, scale.enterprises, persons)
    return {
        "person": persons,
        "enterprise": enterprises,
        "land_parcel": make_land_parcels(
            rng, _at_least_one(scale.enterprises * scale.parcels_per_enterprise), enterprises
        ),
        "licence": make_licences(
            rng, _at_least_one(scale.persons * scale.licences_per_person), persons
        ),
        "tax_registration": make_tax_registrations(
            rng, _at_least_one(scale.enterprises * scale.tax_registered_share), enterprises
        ),
    }


def _at_least_one(size: float) -> int:
    """The demo's first enterprise always has a parcel, a licensed head and a tax record."""
    return max(1, round(size))
