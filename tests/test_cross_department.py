"""The user story of the skeleton: one query walks four departments, under the law."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import Gateway

pytestmark = pytest.mark.anyio

WALK = """
query Walk($code: String!) {
  enterprise(creditCode: $code) {
    name creditCode legalRepName legalRepIdNumber registeredCapital establishedOn
    legalRepresentative {
      idNumber name gender birthDate householdAddress
      licences(first: 10) { edges { node { licenceNumber licenceType validUntil } } }
    }
    landParcels(first: 10) { edges { node { parcelCode area landUse location } } }
    taxRegistration { taxpayerName taxAuthority annualTaxPaid bankAccount creditRating }
  }
}
"""


def _first_enterprise(department_db: Any) -> Any:
    return department_db(
        "market_regulation", "SELECT * FROM enterprise ORDER BY credit_code LIMIT 1"
    )[0]


async def test_walk_returns_exactly_what_the_departments_hold(
    gateway: Gateway, department_db: Any
) -> None:
    enterprise = _first_enterprise(department_db)
    response = await gateway.query(WALK, variables={"code": enterprise["credit_code"]})
    assert response.status_code == 200
    data = response.json()["data"]["enterprise"]

    assert data["name"] == enterprise["name"]
    assert data["legalRepIdNumber"] == enterprise["legal_rep_id_number"]
    assert Decimal(data["registeredCapital"]) == Decimal(str(enterprise["registered_capital"]))
    assert data["establishedOn"] == enterprise["established_on"]

    person = department_db(
        "public_security",
        "SELECT * FROM person WHERE id_number = ?",
        enterprise["legal_rep_id_number"],
    )[0]
    rep = data["legalRepresentative"]
    assert (rep["idNumber"], rep["name"], rep["gender"], rep["birthDate"]) == (
        person["id_number"],
        person["name"],
        person["gender"],
        person["birth_date"],
    )
    assert rep["householdAddress"] == person["household_address"]

    licences = department_db(
        "licence_office",
        "SELECT licence_number, licence_type, valid_until FROM licence WHERE holder_id_number = ? "
        "ORDER BY licence_number LIMIT 10",
        person["id_number"],
    )
    assert [e["node"] for e in rep["licences"]["edges"]] == [
        {"licenceNumber": row[0], "licenceType": row[1], "validUntil": row[2]} for row in licences
    ]
    parcels = department_db(
        "natural_resources",
        "SELECT parcel_code, area, land_use, location FROM land_parcel WHERE holder_credit_code = ? "
        "ORDER BY parcel_code LIMIT 10",
        enterprise["credit_code"],
    )
    assert [e["node"] for e in data["landParcels"]["edges"]] == [
        {"parcelCode": p[0], "area": p[1], "landUse": p[2], "location": p[3]} for p in parcels
    ]


async def test_withheld_fields_are_errors_and_the_rest_still_arrives(
    gateway: Gateway, department_db: Any
) -> None:
    enterprise = _first_enterprise(department_db)
    body = (await gateway.query(WALK, variables={"code": enterprise["credit_code"]})).json()
    errors = {error["extensions"]["field"]: error for error in body["errors"]}

    assert set(errors) == {
        "TaxRegistration.annualTaxPaid",
        "TaxRegistration.bankAccount",
        "TaxRegistration.creditRating",
    }
    not_shared = errors["TaxRegistration.annualTaxPaid"]
    assert not_shared["extensions"]["code"] == "NOT_SHARED"
    assert "税收征收管理法" in not_shared["extensions"]["legalBasis"]
    assert not_shared["path"] == ["enterprise", "taxRegistration", "annualTaxPaid"]
    application = errors["TaxRegistration.creditRating"]["extensions"]
    assert application["code"] == "APPLICATION_REQUIRED"
    assert application["application"]["resource"] == "tax_registration"
    assert application["application"]["fields"] == ["creditRating"]
    assert application["application"]["purpose"] == "administrative_basis"

    tax = body["data"]["enterprise"]["taxRegistration"]
    if tax is not None:
        assert (
            tax["annualTaxPaid"] is None
            and tax["bankAccount"] is None
            and tax["creditRating"] is None
        )
        assert tax["taxpayerName"] == enterprise["name"]


async def test_a_not_shared_value_never_leaves(
    gateway: Gateway, department_db: Any, caplog: pytest.LogCaptureFixture
) -> None:
    rows = department_db(
        "taxation", "SELECT annual_tax_paid, bank_account FROM tax_registration LIMIT 50"
    )
    # Bank accounts are 19 digits; amounts are kept only where long enough to be telling.
    secrets = {str(row["bank_account"]) for row in rows}
    secrets |= {
        str(row["annual_tax_paid"]) for row in rows if len(str(row["annual_tax_paid"])) >= 7
    }
    query = "{ taxRegistrations(first: 50) { edges { node { creditCode annualTaxPaid bankAccount } } } }"
    for system in ("tax-admin", "marriage-registry", None):
        response = await gateway.query(query, system=system)
        record = await gateway.audit(response)
        exposed = response.text + repr(record) + caplog.text
        assert [secret for secret in secrets if secret in exposed] == []


async def test_not_shared_errors_once_per_field_not_per_row(gateway: Gateway) -> None:
    query = "{ taxRegistrations(first: 30) { edges { node { creditCode a: annualTaxPaid b: annualTaxPaid } } } }"
    body = (await gateway.query(query, system="tax-admin")).json()
    assert len(body["data"]["taxRegistrations"]["edges"]) == 30
    assert [e["extensions"]["field"] for e in body["errors"]] == ["TaxRegistration.annualTaxPaid"]
    assert body["errors"][0]["path"] == ["taxRegistrations", "edges", 0, "node", "a"]
