"""A cursor opens the next page only for what shaped the page it came from: the same API
key (so the same system and scope attributes), the same purpose, and the same decisions
on the items it is ordered and paged by. Replayed by another key of the department,
under another purpose, or after a grant changed an ordered item's decision, it is
BAD_CURSOR: the page it would open tells where a value hidden from that caller sorts."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Gateway
from tests.grants.running import grant_enrolment_addresses

pytestmark = pytest.mark.anyio

CIVIL_AFFAIRS = ("11410581005000006G", "林州市民政局", "marriage-registry", "婚姻登记系统")
PAGE = """query ($after: String) {
  enterprises(first: 3, after: $after, orderBy: [{legalRepIdNumber: asc}]) {
    edges { node { creditCode } } pageInfo { endCursor } } }"""
ADDRESSES = """query ($after: String) {
  persons(first: 3, after: $after, orderBy: [{householdAddress: desc}]) {
    edges { node { idNumber } } pageInfo { endCursor } } }"""


async def page(
    gateway: Gateway, query: str, after: str | None = None, **sent: Any
) -> dict[str, Any]:
    body: dict[str, Any] = (await gateway.query(query, variables={"after": after}, **sent)).json()
    return body


def codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]


def end_cursor(body: dict[str, Any], field: str) -> str:
    assert "errors" not in body, body["errors"]
    cursor: str = body["data"][field]["pageInfo"]["endCursor"]
    return cursor


def as_key(key: str) -> dict[str, Any]:
    return {"system": None, "headers": {"Authorization": f"Bearer {key}"}}


async def test_the_same_caller_pages_on(gateway: Gateway) -> None:
    first = await page(gateway, PAGE)
    second = await page(gateway, PAGE, end_cursor(first, "enterprises"))
    assert "errors" not in second
    seen = [
        e["node"]["creditCode"] for b in (first, second) for e in b["data"]["enterprises"]["edges"]
    ]
    assert len(set(seen)) == 6


@pytest.mark.parametrize(
    "attributes", [{"township": "开元街道"}, {}], ids=["another attribute", "same attributes"]
)
async def test_another_key_of_the_same_department_cannot_replay_a_cursor(
    gateway: Gateway, attributes: dict[str, str]
) -> None:
    cursor = end_cursor(await page(gateway, PAGE), "enterprises")
    other = await gateway.platform.keys.register(*CIVIL_AFFAIRS, attributes)
    replayed = await page(gateway, PAGE, cursor, **as_key(other))
    assert codes(replayed) == ["BAD_CURSOR"]
    assert replayed["data"]["enterprises"] is None
    own = end_cursor(await page(gateway, PAGE, **as_key(other)), "enterprises")
    assert "errors" not in await page(gateway, PAGE, own, **as_key(other))


async def test_a_cursor_is_refused_under_another_purpose(gateway: Gateway) -> None:
    query = PAGE.replace("legalRepIdNumber", "name")
    cursor = end_cursor(await page(gateway, query, purpose="administrative_basis"), "enterprises")
    assert codes(await page(gateway, query, cursor, purpose="work_reference")) == ["BAD_CURSOR"]
    assert codes(await page(gateway, query, cursor, purpose=None)) == ["BAD_CURSOR"]
    assert codes(await page(gateway, query, cursor, purpose="administrative_basis")) == []


async def test_a_cursor_is_refused_once_a_grant_changed_an_ordered_items_decision(
    gateway: Gateway,
) -> None:
    """Inside its township the enrolment system may order by household address; a cursor
    issued then would, after a grant for every row, place a row it has never seen."""
    enrolment = {"system": "school-enrolment"}
    assert codes(await page(gateway, ADDRESSES, **enrolment)) == ["MASKED_ONLY"]
    await grant_enrolment_addresses(gateway, scope="township=township")
    first = await page(gateway, ADDRESSES, **enrolment)
    cursor = end_cursor(first, "persons")
    assert "errors" not in await page(gateway, ADDRESSES, cursor, **enrolment)
    await grant_enrolment_addresses(gateway)
    assert codes(await page(gateway, ADDRESSES, cursor, **enrolment)) == ["BAD_CURSOR"]
    fresh = end_cursor(await page(gateway, ADDRESSES, **enrolment), "persons")
    assert "errors" not in await page(gateway, ADDRESSES, fresh, **enrolment)
