"""A peer platform acting for its own caller (`web/acting.py`): only a key listed in
GOV_SHARE_PEER_PLATFORMS may name another caller, only for the departments listed for
it, and then every decision and the audit record are the acting caller's.

The tax bureau's `tax-admin` system stands in for the peer's link here (its rules give
it enterprises' contact phones clear); the marriage registry (civil affairs, which
sees them masked) is the caller it acts for."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import quote

import pytest

from settings import Settings, read_settings
from tests.conftest import Gateway, serving

pytestmark = pytest.mark.anyio

CIVIL_AFFAIRS = "11410581005000006G"
TAX = "11410581005000005D"
PHONES = "{ enterprises(first: 1) { edges { node { contactPhone } } } }"
ACTING = {"X-Acting-Department": CIVIL_AFFAIRS, "X-Acting-System": "marriage-registry"}


@pytest.fixture
async def peered(settings: Settings) -> AsyncIterator[Gateway]:
    peers = {f"{TAX}/tax-admin": [CIVIL_AFFAIRS]}
    async with serving(settings.model_copy(update={"peer_platforms": peers})) as gateway:
        yield gateway


async def phone(gateway: Gateway, headers: dict[str, str]) -> str:
    response = await gateway.query(PHONES, system="tax-admin", headers=headers)
    assert response.status_code == 200, response.text
    value: str = response.json()["data"]["enterprises"]["edges"][0]["node"]["contactPhone"]
    return value


async def test_a_trusted_peer_is_decided_and_recorded_as_the_caller_it_acts_for(
    peered: Gateway,
) -> None:
    assert "*" not in await phone(peered, {}), "the link's own system reads it clear"
    headers = {
        **ACTING,
        "X-Acting-Person": quote("李四"),
        "X-Operator": quote("张三"),
        "X-Purpose-Reference": "2026-MZ-0118",
    }
    assert "****" in await phone(peered, headers), "the caller it acts for sees it masked"
    response = await peered.query(PHONES, system="tax-admin", headers=headers)
    record = await peered.audit(response)
    assert (record["caller_department"], record["caller_system"]) == (
        CIVIL_AFFAIRS,
        "marriage-registry@tax-admin",
    )
    assert (record["person"], record["operator"]) == ("李四", "张三")
    assert record["purpose_reference"] == "2026-MZ-0118"


async def test_acting_headers_from_a_key_not_listed_are_refused(peered: Gateway) -> None:
    response = await peered.query(PHONES, system="registration", headers=ACTING)
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    record = await peered.audit(response)
    assert record["caller_system"] == "registration", "on record as the key's own system"


async def test_the_public_cannot_name_a_caller(peered: Gateway) -> None:
    response = await peered.query(PHONES, system=None, purpose=None, headers=ACTING)
    assert response.status_code == 401


async def test_a_peer_acts_only_for_the_departments_listed_for_it(peered: Gateway) -> None:
    education = {**ACTING, "X-Acting-Department": "11410581005000008N"}
    response = await peered.query(PHONES, system="tax-admin", headers=education)
    assert response.status_code == 401
    unnamed = {"X-Acting-Department": CIVIL_AFFAIRS}
    response = await peered.query(PHONES, system="tax-admin", headers=unnamed)
    assert response.status_code == 401, "a caller is named by department and system"


async def test_a_peer_acting_for_the_public_reads_as_the_public(peered: Gateway) -> None:
    public = {"X-Acting-Department": "public"}
    query = "{ persons(first: 1) { edges { node { idNumber } } } }"  # not open to the public
    response = await peered.query(query, system="tax-admin", headers=public)
    assert response.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    record = await peered.audit(response)
    assert record["caller_department"] is None


def test_a_peer_is_named_by_its_department_and_system() -> None:
    with pytest.raises(ExceptionGroup) as raised:
        read_settings(peer_platforms={"tax-admin": [CIVIL_AFFAIRS]})
    assert "GOV_SHARE_PEER_PLATFORMS" in str(raised.value.exceptions[0])
    with pytest.raises(ExceptionGroup):
        read_settings(peer_platforms={f"{TAX}/tax-admin": ["civil affairs"]})


async def test_a_peer_spends_its_own_links_budget_whoever_it_names(settings: Settings) -> None:
    """Naming a new caller on each request buys a peer no more requests: its link's own
    rate is spent by every request it makes for anyone."""
    update = {
        "peer_platforms": {f"{TAX}/tax-admin": ["*"]},
        "rate_limit_overrides": {f"{TAX}/tax-admin": "2/hour"},
    }
    async with serving(settings.model_copy(update=update)) as gateway:
        for system in ("marriage-registry", "adoption-registry"):
            acting = {"X-Acting-Department": CIVIL_AFFAIRS, "X-Acting-System": system}
            response = await gateway.query(PHONES, system="tax-admin", headers=acting)
            assert response.status_code == 200, response.text
        named = {"X-Acting-Department": CIVIL_AFFAIRS, "X-Acting-System": "archive"}
        refused = await gateway.query(PHONES, system="tax-admin", headers=named)
        assert refused.status_code == 429, refused.text
        error = refused.json()["errors"][0]
        assert error["message"].startswith("the rate limit of this system (2 per 1 hour)")
