"""`myAccess`: a caller's own "what may I see of this resource, and why", answered from
the decisions a query by it gets, with the rule line or grant, its window and scope,
and for a denied item the very error a query gets and the application it would take."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from catalog import load_catalog
from grants import Grant
from policies import Purpose
from policies.decision import Action
from settings import ROOT
from tests.conftest import Gateway

pytestmark = pytest.mark.anyio

CATALOG = load_catalog(ROOT / "catalog" / "departments")
FIELDS = (
    "item nameZh access basis validFrom validUntil scoped scopes outsideScope mask "
    "verifiable code message application { resource resourceCode resourceName provider "
    "providerCode fields purpose conditions }"
)


async def my_access(gateway: Gateway, resource: str, **asked: Any) -> dict[str, dict[str, Any]]:
    purpose = asked.pop("argument", None)
    argument = f", purpose: {purpose}" if purpose else ""
    response = await gateway.query(
        f"{{ myAccess(resource: {resource}{argument}) {{ {FIELDS} }} }}", **asked
    )
    body = response.json()
    assert "errors" not in body, body
    await gateway.audit(response)  # asking is on record like any request
    return {answer["item"]: answer for answer in body["data"]["myAccess"]}


async def test_every_item_of_the_resource_is_answered_with_its_basis(gateway: Gateway) -> None:
    answers = await my_access(gateway, "person")  # the marriage registry, administrative_basis
    assert list(answers) == [item.name for item in CATALOG.resources["person"].items]
    assert answers["idNumber"]["access"] == "clear"
    assert answers["idNumber"]["basis"] == "catalog:unconditional"
    address = answers["householdAddress"]
    assert address["access"] == "clear"
    assert address["basis"].startswith("public_security.csv:")  # the rule line that grants it
    assert address["verifiable"] is True
    assert address["validFrom"] is None and address["validUntil"] is None
    phone = answers["phone"]
    assert (phone["access"], phone["mask"], phone["code"]) == ("masked", "hide_middle", None)
    assert phone["basis"] == "catalog:masked_for_all_departments"


async def test_a_denied_item_carries_the_error_a_query_gets_and_what_to_apply_for(
    gateway: Gateway,
) -> None:
    answers = await my_access(gateway, "enterprise", system="tax-admin", purpose="work_reference")
    denied = answers["legalRepIdNumber"]
    assert (denied["access"], denied["code"]) == ("denied", "APPLICATION_REQUIRED")
    enterprise = CATALOG.resources["enterprise"]
    response = await gateway.query(
        f"{{ {enterprise.list_field}(first: 1) {{ edges {{ node {{ legalRepIdNumber }} }} }} }}",
        system="tax-admin",
        purpose="work_reference",
    )
    error = response.json()["errors"][0]
    assert denied["message"] == error["message"]
    applied = error["extensions"]["application"]
    assert denied["application"] == {
        "resource": "enterprise",
        "resourceCode": applied["resourceCode"],
        "resourceName": applied["resourceName"],
        "provider": applied["provider"],
        "providerCode": CATALOG.provider_of["enterprise"].department.code,
        "fields": ["legalRepIdNumber"],
        "purpose": "work_reference",
        "conditions": enterprise.item("legalRepIdNumber").conditions,
    }


async def test_a_not_shared_item_says_so_with_no_application(gateway: Gateway) -> None:
    answers = await my_access(gateway, "tax_registration")
    assert answers["bankAccount"]["code"] == "NOT_SHARED"
    assert answers["bankAccount"]["application"] is None
    assert "legal basis" in answers["bankAccount"]["message"]


async def test_without_a_purpose_it_asks_for_one_and_the_argument_asks_about_another(
    gateway: Gateway,
) -> None:
    undeclared = await my_access(gateway, "person", purpose=None)
    assert undeclared["householdAddress"]["code"] == "PURPOSE_REQUIRED"
    asked = await my_access(gateway, "person", purpose=None, argument="administrative_basis")
    assert asked["householdAddress"]["access"] == "clear"


async def test_a_scoped_grant_shows_its_scope_its_window_and_the_rest(gateway: Gateway) -> None:
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    end = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=30)
    made = await _grant(
        gateway,
        consumer="11410581005000008N/school-enrolment",
        resource_id="person",
        items=("householdAddress",),
        action=Action.READ_CLEAR,
        scope="township=township",
        valid_from=start,
        valid_until=end,
    )
    address = (await my_access(gateway, "person", system="school-enrolment"))["householdAddress"]
    assert address["access"] == "clear"
    assert address["basis"] == f"grant:{made.id}"
    assert (address["scoped"], address["scopes"]) == (True, ["township=township"])
    assert address["outsideScope"] == "masked"
    assert datetime.datetime.fromisoformat(address["validFrom"]) == start
    assert datetime.datetime.fromisoformat(address["validUntil"]) == end


async def test_an_item_that_may_only_be_checked_is_verify_only(gateway: Gateway) -> None:
    made = await _grant(
        gateway,
        consumer=CATALOG.provider_of["tax_registration"].department.code,  # the tax bureau
        resource_id="enterprise",
        items=("legalRepIdNumber",),
        action=Action.VERIFY,
    )
    answers = await my_access(gateway, "enterprise", system="tax-admin", purpose="work_reference")
    checked = answers["legalRepIdNumber"]
    assert (checked["access"], checked["verifiable"]) == ("verify_only", True)
    assert checked["basis"] == f"grant:{made.id}"
    assert checked["code"] is None


async def test_the_public_is_asked_only_about_what_its_schema_holds(gateway: Gateway) -> None:
    answers = await my_access(gateway, "enterprise", system=None, purpose=None)
    public = await gateway.query(
        '{ __type(name: "Enterprise") { fields { name } } }', system=None, purpose=None
    )
    shown = [field["name"] for field in public.json()["data"]["__type"]["fields"]]
    items = {item.name for item in CATALOG.resources["enterprise"].items}
    assert list(answers) == [name for name in shown if name in items]
    assert "legalRepIdNumber" not in answers  # conditional: withheld from the public
    assert answers["legalRepName"]["access"] == "masked"
    closed = await gateway.query("{ myAccess(resource: person) { item } }", system=None)
    assert closed.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    ids = await gateway.query(
        '{ __type(name: "ResourceId") { enumValues { name } } }', system=None, purpose=None
    )
    assert [v["name"] for v in ids.json()["data"]["__type"]["enumValues"]] == ["enterprise"]


async def _grant(gateway: Gateway, **fields: Any) -> Grant:
    platform = gateway.platform
    grant = Grant(
        purposes=(Purpose.WORK_REFERENCE, Purpose.ADMINISTRATIVE_BASIS),
        reference="林数〔2026〕7号",
        **fields,
    )
    made = await platform.grants.add(grant, platform.catalog, operator="gs-admin", reason="test")
    assert await platform.policy_source.reload()
    return made
