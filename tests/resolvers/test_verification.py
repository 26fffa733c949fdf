"""Each verification alias is decided, answered and accounted for on its own: one claim
that cannot be verified nulls its own alias only, with its own error at its own path,
and spends no check of the daily quota."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from store.tables import verification_usage
from tests.conftest import Gateway

pytestmark = pytest.mark.anyio


async def checks_spent(gateway: Gateway, system: str) -> int:
    quota = gateway.platform.executor.quota
    async with quota.engine.connect() as connection:  # type: ignore[attr-defined]
        used = await connection.scalar(
            sa.select(sa.func.sum(verification_usage.c.used)).where(
                verification_usage.c.caller_system.endswith(f"/{system}")
            )
        )
    return int(used or 0)


def person(department_db: Any) -> Any:
    [row] = department_db(
        "public_security", "SELECT * FROM person WHERE phone IS NOT NULL ORDER BY id_number LIMIT 1"
    )
    return row


def registration(department_db: Any) -> Any:
    [row] = department_db(
        "civil_affairs", "SELECT * FROM marriage_registration ORDER BY registration_number LIMIT 1"
    )
    return row


async def verify_apart(
    gateway: Gateway, aliases: dict[str, str], system: str, fine: str, refused: str
) -> None:
    """Both orders of the aliases: `fine` answers True, `refused` null with its error."""
    for order in (list(aliases), list(reversed(aliases))):
        spent = await checks_spent(gateway, system)
        query = "{ " + " ".join(f"{alias}: {aliases[alias]}" for alias in order) + " }"
        response = await gateway.query(query, system=system, purpose="data_verification")
        body = response.json()
        assert body["data"] == {fine: True, refused: None}
        [error] = body["errors"]
        assert error["path"] == [refused]
        assert error["extensions"]["code"] == "NOT_VERIFIABLE"
        record = await gateway.audit(response)
        decisions = {field["path"]: field["decision"] for field in record["fields"]}
        assert decisions == {fine: "verified", refused: "denied"}
        assert record["error_codes"] == ["NOT_VERIFIABLE"]
        assert await checks_spent(gateway, system) == spent + 1


async def test_two_aliases_of_one_verify_field_are_answered_apart(
    gateway: Gateway, department_db: Any
) -> None:
    someone = person(department_db)
    who = f'idNumber: "{someone["id_number"]}"'
    aliases = {
        "name": f'verifyPerson({who}, claims: {{name: "{someone["name"]}"}})',
        "phone": f'verifyPerson({who}, claims: {{phone: "{someone["phone"]}"}})',
    }
    await verify_apart(gateway, aliases, "marriage-registry", fine="name", refused="phone")


async def test_two_aliases_of_another_verify_field_are_answered_apart(
    gateway: Gateway, department_db: Any
) -> None:
    """The housing bureau may verify a registration's type, not its certificate."""
    marriage = registration(department_db)
    number = f'registrationNumber: "{marriage["registration_number"]}"'
    aliases = {
        "kind": (
            f"verifyMarriageRegistration({number}, "
            f'claims: {{registrationType: "{marriage["registration_type"]}"}})'
        ),
        "certificate": (
            f"verifyMarriageRegistration({number}, "
            f'claims: {{certificateNumber: "{marriage["certificate_number"]}"}})'
        ),
    }
    await verify_apart(gateway, aliases, "planning-permits", fine="kind", refused="certificate")


async def test_each_refused_alias_has_its_own_error(gateway: Gateway, department_db: Any) -> None:
    someone = person(department_db)
    who = f'idNumber: "{someone["id_number"]}"'
    query = f"""{{
      phone: verifyPerson({who}, claims: {{phone: "{someone["phone"]}"}})
      address: verifyPerson({who}, claims: {{householdAddress: "x", name: "{someone["name"]}"}})
      name: verifyPerson({who}, claims: {{name: "{someone["name"]}"}})
    }}"""
    response = await gateway.query(query, system="school-enrolment", purpose="data_verification")
    body = response.json()
    assert body["data"] == {"phone": None, "address": None, "name": True}
    assert {tuple(e["path"]): e["extensions"]["code"] for e in body["errors"]} == {
        ("phone",): "NOT_VERIFIABLE",
        ("address",): "NOT_VERIFIABLE",
    }
    fields = {e["path"][0]: e["extensions"]["restsOn"] for e in body["errors"]}
    assert fields == {"phone": "Person.phone", "address": "Person.householdAddress"}
