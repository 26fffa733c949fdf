"""A denial is made whole or not at all: the details its reason needs, and no others."""

from __future__ import annotations

from typing import Any

import pytest

from errors import DenialReason
from policies import ApplicationRequest, Denial, Purpose

APPLICATION = ApplicationRequest(
    resource_id="person",
    resource_code="01010100/000001",
    resource_name_zh="人口基础信息",
    provider_name="林州市公安局",
    provider_code="11410581005000001X",
    items=("householdAddress",),
    purpose=Purpose.WORK_REFERENCE,
    conditions="限行政依据用途。",
)


@pytest.mark.parametrize(
    ("reason", "details", "problem"),
    [
        (DenialReason.NOT_SHARED, {}, "a legal basis is given for NOT_SHARED"),
        (DenialReason.PURPOSE_REQUIRED, {"legal_basis": "《条例》"}, "a legal basis"),
        (DenialReason.APPLICATION_REQUIRED, {}, "an application is given"),
        (DenialReason.MASKED_ONLY, {"application": APPLICATION}, "an application"),
        (DenialReason.OUT_OF_SCOPE, {"name_zh": None}, "OUT_OF_SCOPE names the item"),
    ],
)
def test_a_denial_without_what_its_reason_needs_is_refused(
    reason: DenialReason, details: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        Denial(reason, "Person.householdAddress", **{"name_zh": "户籍地址", **details})


def test_a_root_field_refused_to_the_public_needs_no_item_name() -> None:
    denial = Denial(DenialReason.NOT_OPEN, "Query.persons")
    assert denial.name_zh is None and denial.resting_field is None
