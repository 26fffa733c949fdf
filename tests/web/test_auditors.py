"""The auditors' interface at /graphql: the log and nothing else, for a person holding
the role auditor; reading it is on record."""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from settings import Settings
from tests.auth.sso import AUDIENCE, ISSUER, SignOn, rsa_key
from tests.conftest import Gateway, serving

pytestmark = pytest.mark.anyio

REPRESENTED = (
    "{ enterprises(first: 1, where: {legalRepIdNumber: {_is_null: false}}) "
    "{ edges { node { creditCode legalRepIdNumber } } } }"
)
SEARCH = """query Search($filter: AuditRecordFilter, $after: String) {
  auditRecords(filter: $filter, first: 2, after: $after) {
    edges { cursor node { requestId callerDepartment callerSystem person purpose outcome
                          grants resources { resource subjects } fields { path decision } } }
    pageInfo { hasNextPage endCursor }
  }
}"""


@pytest.fixture
async def signed(settings: Settings, tmp_path: Path) -> AsyncIterator[tuple[Gateway, SignOn]]:
    sign_on = SignOn({"rsa-1": rsa_key()})
    jwks = str(sign_on.write(tmp_path / "jwks.json"))
    changed = settings.model_copy(
        update={"sso_issuer": ISSUER, "sso_audience": AUDIENCE, "sso_jwks": jwks}
    )
    async with serving(changed) as gateway:
        yield gateway, sign_on


async def as_auditor(
    gateway: Gateway,
    sign_on: SignOn,
    query: str,
    variables: dict[str, Any] | None = None,
    roles: tuple[str, ...] = ("auditor",),
) -> httpx.Response:
    token = sign_on.token(roles=list(roles), sub="shenji-0007")
    return await gateway.query(
        query,
        system=None,
        purpose=None,
        variables=variables,
        headers={"Authorization": f"Bearer {token}"},
    )


async def test_an_identifier_served_through_another_resource_is_found_by_its_subject(
    signed: tuple[Gateway, SignOn],
) -> None:
    gateway, sign_on = signed
    served = await gateway.query(REPRESENTED)
    assert served.status_code == 200, served.text
    [edge] = served.json()["data"]["enterprises"]["edges"]
    representative = edge["node"]["legalRepIdNumber"]

    found = await as_auditor(gateway, sign_on, SEARCH, {"filter": {"subject": representative}})
    assert found.status_code == 200, found.text
    [hit] = found.json()["data"]["auditRecords"]["edges"]
    node = hit["node"]
    assert node["requestId"] == served.headers["x-request-id"]
    assert node["callerSystem"] == "marriage-registry"
    assert [r["resource"] for r in node["resources"]] == ["enterprise"]

    # Reading the log is on record, under the subject's keyed hash: the next search for
    # the subject finds the auditor's first one.
    own = await gateway.audit(found)
    hashed = gateway.platform.hasher.hash(representative)
    assert own["person"] == "shenji-0007"
    assert own["records"]["audit_records"]["subjects"] == [hashed]
    assert own["records"]["audit_records"]["keys"] == [
        gateway.platform.hasher.hash(served.headers["x-request-id"])
    ]
    again = await as_auditor(gateway, sign_on, SEARCH, {"filter": {"subject": representative}})
    edges = again.json()["data"]["auditRecords"]["edges"]
    assert [e["node"]["requestId"] for e in edges] == [
        found.headers["x-request-id"],
        served.headers["x-request-id"],
    ]


async def test_pages_and_filters_reach_the_log(signed: tuple[Gateway, SignOn]) -> None:
    gateway, sign_on = signed
    for _ in range(3):
        assert (await gateway.query(REPRESENTED)).status_code == 200
    where = {"system": "marriage-registry", "item": "legalRepIdNumber", "decision": "clear"}
    first = await as_auditor(gateway, sign_on, SEARCH, {"filter": where})
    page = first.json()["data"]["auditRecords"]
    assert len(page["edges"]) == 2 and page["pageInfo"]["hasNextPage"]
    rest = await as_auditor(
        gateway, sign_on, SEARCH, {"filter": where, "after": page["pageInfo"]["endCursor"]}
    )
    last = rest.json()["data"]["auditRecords"]
    assert len(last["edges"]) == 1 and not last["pageInfo"]["hasNextPage"]


async def test_an_export_as_csv_and_jsonl(signed: tuple[Gateway, SignOn]) -> None:
    gateway, sign_on = signed
    await gateway.query(REPRESENTED)
    query = 'query { csv: auditExport(format: CSV, filter: {resource: "enterprise"}) ' + (
        'jsonl: auditExport(format: JSONL, filter: {resource: "enterprise"}) }'
    )
    response = await as_auditor(gateway, sign_on, query)
    data = response.json()["data"]
    assert data["csv"].splitlines()[0].startswith("id,request_id,occurred_at")
    assert len(data["csv"].splitlines()) == 2 and len(data["jsonl"].splitlines()) == 1


async def test_only_an_auditor_reads_the_log(signed: tuple[Gateway, SignOn]) -> None:
    gateway, sign_on = signed
    refused = await as_auditor(gateway, sign_on, SEARCH, roles=("policy_admin",))
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    with_key = await gateway.query(SEARCH)
    assert with_key.status_code == 403
    assert (await gateway.audit(with_key))["error_codes"] == ["FORBIDDEN"]


async def test_the_auditors_schema_holds_no_department_data(
    signed: tuple[Gateway, SignOn],
) -> None:
    gateway, sign_on = signed
    mixed = "{ auditRecords(first: 1) { edges { cursor } } persons(first: 1) { edges { cursor } } }"
    response = await as_auditor(gateway, sign_on, mixed)
    assert response.status_code == 400  # application/graphql-response+json: not valid
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_a_bad_subject_is_refused_with_a_clear_error(
    signed: tuple[Gateway, SignOn],
) -> None:
    gateway, sign_on = signed
    response = await as_auditor(gateway, sign_on, SEARCH, {"filter": {"subject": "410581"}})
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "18-character" in error["message"]


REPORT = """query Report($subject: String!) {
  subjectAccessReport(subject: $subject) {
    total complete html
    groups { department departmentName system purpose count resources items references
             grants { id reference } requestIds }
  }
}"""


async def test_a_subject_access_report_through_graphql(signed: tuple[Gateway, SignOn]) -> None:
    gateway, sign_on = signed
    case = {"X-Purpose-Reference": quote("林民〔2026〕3号")}  # percent-encoded UTF-8
    served = await gateway.query(REPRESENTED, headers=case)
    representative = served.json()["data"]["enterprises"]["edges"][0]["node"]["legalRepIdNumber"]
    response = await as_auditor(gateway, sign_on, REPORT, {"subject": representative})
    assert response.status_code == 200, response.text
    report = response.json()["data"]["subjectAccessReport"]
    assert report["total"] == 1 and report["complete"]
    [group] = report["groups"]
    assert group["department"] == "11410581005000006G"
    assert group["departmentName"] == "林州市民政局"
    assert (group["system"], group["purpose"]) == ("marriage-registry", "administrative_basis")
    assert group["references"] == ["林民〔2026〕3号"]
    assert "legalRepIdNumber" in group["items"]
    assert group["requestIds"] == [served.headers["x-request-id"]]
    assert "数据主体访问报告" in report["html"] and "林州市民政局" in report["html"]
    own = await gateway.audit(response)
    assert own["records"]["audit_records"]["subjects"] == [
        gateway.platform.hasher.hash(representative)
    ]


SIGNALS = """query Signals($from: DateTime!, $until: DateTime!) {
  misuseSignals(occurredFrom: $from, occurredUntil: $until) {
    kind subject detail count caller { department system person }
    records { requestId outcome callerSystem }
  }
}"""


async def test_misuse_signals_through_graphql_are_on_record(
    settings: Settings, tmp_path: Path
) -> None:
    sign_on = SignOn({"rsa-1": rsa_key()})
    jwks = str(sign_on.write(tmp_path / "jwks.json"))
    changed = settings.model_copy(
        update={
            "sso_issuer": ISSUER,
            "sso_audience": AUDIENCE,
            "sso_jwks": jwks,
            "signal_denied_attempts": 2,
        }
    )
    async with serving(changed) as gateway:
        refused = [await gateway.query(SEARCH) for _ in range(2)]  # a key may not read the log
        assert all(response.status_code == 403 for response in refused)
        now = datetime.datetime.now(datetime.UTC)
        period = {
            "from": (now - datetime.timedelta(hours=1)).isoformat(),
            "until": (now + datetime.timedelta(minutes=1)).isoformat(),
        }
        found = await as_auditor(gateway, sign_on, SIGNALS, period)
        assert found.status_code == 200, found.text
        [denied] = [s for s in found.json()["data"]["misuseSignals"] if s["kind"] == "denied"]
        assert denied["caller"]["system"] == "marriage-registry" and denied["count"] == 2
        assert {r["requestId"] for r in denied["records"]} == {
            response.headers["x-request-id"] for response in refused
        }
        own = await gateway.audit(found)
        assert own["person"] == "shenji-0007"
        assert own["records"]["audit_records"]["keys"] == gateway.platform.hasher.hash_all(
            response.headers["x-request-id"] for response in refused
        )
        bad = await as_auditor(gateway, sign_on, SIGNALS, {**period, "until": period["from"]})
        assert bad.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
