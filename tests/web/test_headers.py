"""Free-text headers (X-Operator, X-Purpose-Reference) are percent-encoded UTF-8:
decoded into the audit record exactly, or refused with BAD_HEADER — never stored as
mojibake, never too long for the record's columns."""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest

from tests.conftest import Gateway

pytestmark = pytest.mark.anyio

NAMES = "{ enterprises(first: 1) { edges { node { name } } } }"


def refusal(response: httpx.Response) -> dict[str, object]:
    assert response.status_code == 400, response.text
    assert "data" not in response.json()
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_HEADER"
    return dict(error)


async def test_percent_encoded_utf_8_is_stored_as_text(gateway: Gateway) -> None:
    response = await gateway.query(
        NAMES,
        headers={"X-Operator": quote("张三"), "X-Purpose-Reference": quote("林民登字 第118号+1")},
    )
    assert response.status_code == 200
    record = await gateway.audit(response)
    assert record["operator"] == "张三"
    assert record["purpose_reference"] == "林民登字 第118号+1"


async def test_raw_utf_8_is_refused_and_recorded_without_the_operator(gateway: Gateway) -> None:
    response = await gateway.query(NAMES, headers={"X-Operator": "张三".encode()})  # type: ignore[dict-item]
    error = refusal(response)
    assert "X-Operator" in str(error["message"]) and "percent-encoded UTF-8" in str(
        error["message"]
    )
    assert error["extensions"] == {"code": "BAD_HEADER", "header": "X-Operator"}
    record = await gateway.audit(response)
    assert record["outcome"] == "bad_header" and record["http_status"] == 400
    assert record["operator"] is None
    assert record["caller_system"] == "marriage-registry"  # who sent it is still known
    assert record["error_codes"] == ["BAD_HEADER"]


async def test_raw_utf_8_reference_is_refused(gateway: Gateway) -> None:
    response = await gateway.query(
        NAMES,
        headers={"X-Operator": "mz-0231", "X-Purpose-Reference": "第118号".encode()},  # type: ignore[dict-item]
    )
    assert "X-Purpose-Reference" in str(refusal(response)["message"])
    record = await gateway.audit(response)
    assert record["purpose_reference"] is None and record["operator"] == "mz-0231"


async def test_what_does_not_decode_is_refused(gateway: Gateway) -> None:
    for value in (
        "%E5%BC",  # a UTF-8 sequence cut short
        "%ZZ",  # not a percent sequence
        "100%",
        "%C0%AF",  # an overlong encoding: not UTF-8
        "mz%0A0231",  # a line feed, once decoded
        "mz%E2%80%AE1320",  # a right-to-left override
        "mz\t0231",
    ):
        response = await gateway.query(NAMES, headers={"X-Operator": value})
        refusal(response)
        assert (await gateway.audit(response))["operator"] is None, value


async def test_values_longer_than_the_record_holds_are_refused(gateway: Gateway) -> None:
    fits = await gateway.query(
        NAMES, headers={"X-Operator": quote("张" * 100), "X-Purpose-Reference": "r" * 200}
    )
    assert fits.status_code == 200
    assert (await gateway.audit(fits))["operator"] == "张" * 100
    for header, limit in (("X-Operator", 100), ("X-Purpose-Reference", 200)):
        response = await gateway.query(NAMES, headers={header: quote("张" * (limit + 1))})
        assert f"at most {limit} characters" in str(refusal(response)["message"])
        await gateway.audit(response)


async def test_the_public_is_held_to_the_same_rule(gateway: Gateway) -> None:
    response = await gateway.query(
        NAMES,
        system=None,
        purpose=None,
        headers={"X-Operator": "Zoë".encode("latin-1")},  # type: ignore[dict-item]
    )
    refusal(response)
    record = await gateway.audit(response)
    assert record["caller_department"] is None and record["operator"] is None
