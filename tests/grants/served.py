"""What the enrolment system's scoped address grant serves, checked alike by every test
that reads through it (`grant_enrolment_addresses(gateway, scope="township=township")`
in tests/grants/running.py): clear inside the system's own township, masked outside."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from catalog import Mask

TOWNSHIP = "开元街道"
"""The enrolment system's own township: the attribute its demo key carries."""


def assert_clear_only_in_its_township(
    persons: Sequence[Mapping[str, Any]],
    source: Mapping[str, Mapping[str, Any]],
    mask: Mask,
) -> None:
    """`persons` as served (idNumber, householdAddress) against `source`, the
    department's rows by id number: some inside the township, some outside."""
    inside = 0
    for person in persons:
        row = source[person["idNumber"]]
        if row["township"] == TOWNSHIP:
            inside += 1
            assert person["householdAddress"] == row["household_address"]
        else:
            assert person["householdAddress"] == mask.apply(row["household_address"])
    assert 0 < inside < len(persons)
