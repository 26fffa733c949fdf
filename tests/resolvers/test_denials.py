"""A denial as the caller reads it: the policy's typed reason worded as the GraphQL error
clients have always had, message, extension names and their order alike."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from errors import DenialReason
from policies import ApplicationRequest, Denial, Purpose
from resolvers.denials import field_denied

HOUSEHOLD = "Person.householdAddress (户籍地址)"
APPLICATION = ApplicationRequest(
    resource_id="enterprise",
    resource_code="02010100/000001",
    resource_name_zh="市场主体登记信息",
    provider_name="林州市市场监督管理局",
    provider_code="114105810050000024",
    items=("contactPhone", "legalRepIdNumber"),
    purpose=Purpose.WORK_REFERENCE,
    conditions="限行政依据、数据校核用途，经市场监督管理局批准后使用。",
)


def sent(denial: Denial) -> str:
    """The error's message and extensions as the response's JSON holds them, in order."""
    error = field_denied(denial)
    return json.dumps([error.message, error.as_extensions()], ensure_ascii=False)


def expected(message: str, **extensions: Any) -> str:
    return json.dumps([message, extensions], ensure_ascii=False)


def person(reason: DenialReason, **details: Any) -> Denial:
    return Denial(reason, "Person.householdAddress", "户籍地址", **details)


CASES = [
    (
        person(DenialReason.NOT_SHARED, legal_basis="《户口登记条例》第十条"),
        f"{HOUSEHOLD} is not shared; legal basis: 《户口登记条例》第十条",
        {"legalBasis": "《户口登记条例》第十条"},
    ),
    (
        person(DenialReason.PURPOSE_REQUIRED),
        f"{HOUSEHOLD} is shared on conditions: declare a purpose in X-Purpose",
        {},
    ),
    (
        person(DenialReason.NOT_OPEN),
        "Person.householdAddress is not open to the public: present a department system's API key",
        {},
    ),
    (
        person(DenialReason.MASKED_ONLY),
        f"{HOUSEHOLD} is shared with you masked: it cannot be filtered, ordered, counted "
        "or paged on",
        {},
    ),
    (
        person(DenialReason.NOT_VERIFIABLE),
        f"{HOUSEHOLD} cannot be verified by you: it needs a grant for data_verification",
        {},
    ),
    (
        person(DenialReason.OUT_OF_SCOPE),
        f"{HOUSEHOLD} is withheld for records outside the scope of your grant",
        {},
    ),
]
"""Every reason but APPLICATION_REQUIRED, which has a test of its own."""


def test_the_cases_cover_every_reason() -> None:
    covered = {denial.reason for denial, _, _ in CASES} | {DenialReason.APPLICATION_REQUIRED}
    assert covered == set(DenialReason)


@pytest.mark.parametrize(("denial", "message", "extensions"), CASES)
def test_each_reason_is_worded_as_before(
    denial: Denial, message: str, extensions: dict[str, Any]
) -> None:
    code = {"code": denial.reason.value}
    assert sent(denial) == expected(message, **code, field="Person.householdAddress", **extensions)
    resting = dataclasses.replace(denial, resting_field="Query.persons")
    assert sent(resting) == expected(
        f"Query.persons rests on Person.householdAddress: {message}",
        **code,
        field="Query.persons",
        restsOn="Person.householdAddress",
        **extensions,
    )


def test_an_application_names_the_resource_provider_items_and_purpose() -> None:
    denial = Denial(
        DenialReason.APPLICATION_REQUIRED,
        "Enterprise.legalRepIdNumber",
        "法定代表人身份证号",
        application=APPLICATION,
    )
    message = (
        "Enterprise.legalRepIdNumber (法定代表人身份证号) is shared on conditions: apply to "
        "林州市市场监督管理局 for 市场主体登记信息 (02010100/000001) with purpose work_reference"
    )
    application = {
        "resource": "enterprise",
        "resourceCode": "02010100/000001",
        "resourceName": "市场主体登记信息",
        "provider": "林州市市场监督管理局",
        "providerCode": "114105810050000024",
        "fields": ["contactPhone", "legalRepIdNumber"],
        "purpose": "work_reference",
        "conditions": "限行政依据、数据校核用途，经市场监督管理局批准后使用。",
    }
    assert sent(denial) == expected(
        message,
        code="APPLICATION_REQUIRED",
        field="Enterprise.legalRepIdNumber",
        application=application,
    )
    resting = dataclasses.replace(denial, resting_field="Person.enterprises")
    assert sent(resting) == expected(
        f"Person.enterprises rests on Enterprise.legalRepIdNumber: {message}",
        code="APPLICATION_REQUIRED",
        field="Person.enterprises",
        restsOn="Enterprise.legalRepIdNumber",
        application=application,
    )
