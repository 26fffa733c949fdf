"""Grants made in a running platform as the command line makes them, and installed at
once as the grant follower would."""

from __future__ import annotations

from grants import Grant
from policies import Purpose
from policies.decision import Action
from tests.conftest import Gateway


async def grant_enrolment_addresses(gateway: Gateway, scope: str = "") -> Grant:
    """The enrolment system reads household addresses clear for administrative_basis:
    within `scope` (`township=township`), or everywhere."""
    platform = gateway.platform
    made = await platform.grants.add(
        Grant(
            consumer="11410581005000008N/school-enrolment",
            resource_id="person",
            items=("householdAddress",),
            action=Action.READ_CLEAR,
            purposes=(Purpose.ADMINISTRATIVE_BASIS,),
            reference="林公数〔2026〕12号",
            scope=scope,
        ),
        platform.catalog,
        operator="gs-admin",
        reason="test",
    )
    assert await platform.policy_source.reload()
    return made
