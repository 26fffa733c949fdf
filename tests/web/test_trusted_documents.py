"""Trusted documents per department system, as integrators and policy admins meet
them: a manifest registered through the admin mutation with its policy report (only
by a person holding policy_admin), refused whole when one operation cannot run; calls
bound to purposes; another department's documents unless shared; free text matched
after normalising; persisted-only and log-unknown modes; the document id on record."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from auth import demo_key
from documents import Mode, Owner
from documents.modes import set_mode, unknown_of
from documents.store import DocumentStore, Terms
from policies import Purpose
from settings import Settings
from tests.auth.sso import AUDIENCE, ISSUER, SignOn, rsa_key
from tests.conftest import SEED, Gateway, serving
from tests.test_readme import examples

pytestmark = pytest.mark.anyio

MARRIAGE = Owner("11410581005000006G", "marriage-registry")
TAX = Owner("11410581005000005D", "tax-admin")
NAMES = "query EnterpriseNames { enterprises(first: 2) { edges { node { name } } } }"
PERSONS = (
    "query PersonRecords { persons(first: 1) { edges { node { name householdAddress phone } } } }"
)
ANOTHER = "query Another { enterprises(first: 1) { edges { node { name } } } }"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def apollo(*bodies: tuple[str, str]) -> str:
    return json.dumps(
        {
            "format": "apollo-persisted-query-manifest",
            "version": 1,
            "operations": [
                {"id": sha256(body), "name": name, "type": "query", "body": body}
                for name, body in bodies
            ],
        }
    )


REGISTER = """mutation Register($system: String!, $manifest: String!, $purposes: [String!]) {
  registerDocuments(system: $system, manifest: $manifest, purposes: $purposes,
                    reason: "go-live review") {
    system
    operations { id name operationType
                 report { purpose withheld { resource item access code message } } }
  }
}"""


@pytest.fixture
async def signed(settings: Settings, tmp_path: Path) -> AsyncIterator[tuple[Gateway, SignOn]]:
    sign_on = SignOn({"rsa-1": rsa_key()})
    jwks = str(sign_on.write(tmp_path / "jwks.json"))
    changed = settings.model_copy(
        update={
            "sso_issuer": ISSUER,
            "sso_audience": AUDIENCE,
            "sso_jwks": jwks,
            "policy_refresh_seconds": 0.05,
        }
    )
    async with serving(changed) as gateway:
        yield gateway, sign_on


async def admin(
    gateway: Gateway, sign_on: SignOn, variables: dict[str, Any], roles: list[str]
) -> httpx.Response:
    token = sign_on.token(roles=roles)
    return await gateway.client.post(
        "/graphql",
        json={"query": REGISTER, "variables": variables},
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
    )


async def call(
    gateway: Gateway,
    body: dict[str, Any],
    system: str = "marriage-registry",
    purpose: str = "administrative_basis",
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {demo_key(SEED, system)}", "X-Purpose": purpose}
    return await gateway.client.post("/graphql", json=body, headers=headers)


async def code_of(gateway: Gateway, response: httpx.Response) -> str:
    [error] = response.json()["errors"]
    code = str(error["extensions"]["code"])
    assert (await gateway.audit(response))["error_codes"] == [code]
    return code


async def test_an_apollo_manifest_registered_by_a_policy_admin_with_its_report(
    signed: tuple[Gateway, SignOn],
) -> None:
    gateway, sign_on = signed
    variables = {
        "system": str(MARRIAGE),
        "manifest": apollo(("PersonRecords", PERSONS)),
        "purposes": ["administrative_basis", "work_reference"],
    }
    response = await admin(gateway, sign_on, variables, ["policy_admin"])
    assert response.status_code == 200, response.text
    registered = response.json()["data"]["registerDocuments"]
    [operation] = registered["operations"]
    assert operation["id"] == f"sha256:{sha256(PERSONS)}" and operation["name"] == "PersonRecords"
    record = await gateway.audit(response)
    assert record["person"] == "zhangsan-0231" and record["outcome"] == "served"
    # The report is myAccess's answer for the system, item by item, per purpose.
    for report in operation["report"]:
        asked = await gateway.query(
            "{ myAccess(resource: person) { item access code } }", purpose=report["purpose"]
        )
        access = {a["item"]: a for a in asked.json()["data"]["myAccess"]}
        withheld = {w["item"]: w for w in report["withheld"]}
        for item in ("name", "householdAddress", "phone"):
            if access[item]["access"] == "clear":
                assert item not in withheld or withheld[item]["access"] == "clear"
            else:
                assert withheld[item]["access"] == access[item]["access"]
                assert withheld[item]["code"] == access[item]["code"]
    assert any(report["withheld"] for report in operation["report"]), "a report that shows nothing"

    by_id = await call(gateway, {"documentId": f"sha256:{sha256(PERSONS)}"})
    assert by_id.status_code == 200, by_id.text
    assert (await gateway.audit(by_id))["document_id"] == f"sha256:{sha256(PERSONS)}"
    unbound = await call(
        gateway, {"documentId": f"sha256:{sha256(PERSONS)}"}, purpose="data_verification"
    )
    assert unbound.status_code == 400
    assert await code_of(gateway, unbound) == "DOCUMENT_PURPOSE_REFUSED"
    assert "administrative_basis, work_reference only" in unbound.json()["errors"][0]["message"]


async def test_the_mutation_is_refused_without_the_role(signed: tuple[Gateway, SignOn]) -> None:
    gateway, sign_on = signed
    variables = {"system": str(MARRIAGE), "manifest": apollo(("EnterpriseNames", NAMES))}
    refused = await admin(gateway, sign_on, variables, ["provider_approver", "auditor"])
    assert refused.status_code == 403
    assert await code_of(gateway, refused) == "FORBIDDEN"
    with_key = await call(gateway, {"query": REGISTER, "variables": variables})
    assert with_key.status_code == 403
    assert await code_of(gateway, with_key) == "FORBIDDEN"
    # An admin field inside a fragment is the admins' as surely as one at the root.
    for hidden in (
        '{ ... on Query { registeredDocuments(system: "x") { id } } }',
        '{ ...Listed } fragment Listed on Query { registeredDocuments(system: "x") { id } }',
    ):
        fragment = await call(gateway, {"query": hidden})
        assert fragment.status_code == 403, fragment.text
        assert await code_of(gateway, fragment) == "FORBIDDEN"
    assert await DocumentStore(gateway.platform.store).listed(MARRIAGE) == []


async def test_an_invalid_manifest_is_refused_whole(signed: tuple[Gateway, SignOn]) -> None:
    gateway, sign_on = signed
    broken = apollo(("EnterpriseNames", NAMES), ("Broken", "query Broken { enterprises { nope } }"))
    response = await admin(
        gateway, sign_on, {"system": str(MARRIAGE), "manifest": broken}, ["policy_admin"]
    )
    assert response.json()["data"] is None
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "MANIFEST_REFUSED"
    assert (
        error["message"].startswith("Broken (sha256:") and "does not validate" in error["message"]
    )
    wrong_id = json.loads(apollo(("EnterpriseNames", NAMES)))
    wrong_id["operations"][0]["id"] = sha256("{ __typename }")
    response = await admin(
        gateway,
        sign_on,
        {"system": str(MARRIAGE), "manifest": json.dumps(wrong_id)},
        ["policy_admin"],
    )
    assert "is not the SHA-256 of its" in response.json()["errors"][0]["message"]
    assert await DocumentStore(gateway.platform.store).listed(MARRIAGE) == []
    missed = await call(gateway, {"documentId": f"sha256:{sha256(NAMES)}"})
    assert await code_of(gateway, missed) == "PERSISTED_QUERY_NOT_FOUND"


async def register(gateway: Gateway, *texts: str, shared: frozenset[Owner] = frozenset()) -> None:
    terms = Terms(None, shared, "gs-admin", "test")
    store = DocumentStore(gateway.platform.store)
    await store.register_all(MARRIAGE, [(text, None, None) for text in texts], terms)


async def mode(gateway: Gateway, system: Owner, to: Mode) -> None:
    await set_mode(gateway.platform.store, system, to, operator="gs-admin", reason="test")
    await asyncio.sleep(0.1)  # past the servers' refresh (0.05 s here)


async def test_persisted_only_serves_registered_text_however_spaced(
    signed: tuple[Gateway, SignOn],
) -> None:
    gateway, _ = signed
    await register(gateway, NAMES)
    await mode(gateway, MARRIAGE, Mode.PERSISTED_ONLY)
    respaced = (
        "query EnterpriseNames {\n  enterprises(first: 2) {\n    edges { node { name } }\n  }\n}"
    )
    served = await call(gateway, {"query": respaced})
    assert served.status_code == 200 and served.json()["data"]["enterprises"]["edges"]
    assert (await gateway.audit(served))["document_id"] == f"sha256:{sha256(NAMES)}"
    refused = await call(gateway, {"query": ANOTHER})
    assert (
        refused.status_code == 400 and await code_of(gateway, refused) == "PERSISTED_QUERY_REQUIRED"
    )
    apq = {
        "query": ANOTHER,
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256(ANOTHER)}},
    }
    assert await code_of(gateway, await call(gateway, apq)) == "PERSISTED_QUERY_REQUIRED"
    introspection = await call(gateway, {"query": "{ __schema { queryType { name } } }"})
    assert introspection.status_code == 200, introspection.text
    # Another system in open mode is untouched.
    assert (await call(gateway, {"query": ANOTHER}, system="tax-admin")).status_code == 200
    await mode(gateway, MARRIAGE, Mode.OPEN)
    assert (await call(gateway, {"query": ANOTHER})).status_code == 200


async def test_log_unknown_counts_what_a_system_still_sends(
    signed: tuple[Gateway, SignOn],
) -> None:
    gateway, _ = signed
    await register(gateway, NAMES)
    await mode(gateway, MARRIAGE, Mode.LOG_UNKNOWN)
    for text in (ANOTHER, ANOTHER.replace(" ", "  "), NAMES, PERSONS):
        assert (await call(gateway, {"query": text})).status_code == 200
    listed = await unknown_of(gateway.platform.store, MARRIAGE)
    assert [(u.name, u.count) for u in listed] == [("Another", 2), ("PersonRecords", 1)]
    assert await unknown_of(gateway.platform.store, TAX) == []


async def test_another_departments_document_only_when_shared(
    signed: tuple[Gateway, SignOn],
) -> None:
    gateway, _ = signed
    await register(gateway, NAMES)
    await register(gateway, ANOTHER, shared=frozenset({TAX}))
    own = await call(gateway, {"documentId": f"sha256:{sha256(NAMES)}"}, system="tax-admin")
    assert own.status_code == 400 and await code_of(gateway, own) == "PERSISTED_QUERY_NOT_FOUND"
    shared = await call(gateway, {"documentId": f"sha256:{sha256(ANOTHER)}"}, system="tax-admin")
    assert shared.status_code == 200, shared.text
    record = await gateway.audit(shared)
    assert record["caller_system"] == "tax-admin"
    assert record["document_id"] == f"sha256:{sha256(ANOTHER)}"
    public = await gateway.client.post("/graphql", json={"documentId": f"sha256:{sha256(ANOTHER)}"})
    assert await code_of(gateway, public) == "PERSISTED_QUERY_NOT_FOUND"


async def test_the_readmes_mutation_as_a_policy_admin(signed: tuple[Gateway, SignOn]) -> None:
    gateway, sign_on = signed
    [example] = [e for e in examples() if e.name == "register-documents"]
    body = (
        "query PermitHolders { enterprises(first: 2) { edges { node { name legalRepIdNumber } } } }"
    )
    response = await gateway.client.post(
        "/graphql",
        json={"query": example.body, "variables": {"manifest": apollo(("PermitHolders", body))}},
        headers={"Authorization": f"Bearer {sign_on.token(roles=['policy_admin'])}"},
    )
    assert response.status_code == 200, response.text
    registered = response.json()["data"]["registerDocuments"]
    assert registered["system"] == "11410581005000007K/planning-permits"
    [operation] = registered["operations"]
    assert sorted(operation["report"], key=lambda report: report["purpose"]) == [
        {
            "purpose": purpose,
            "withheld": [
                {
                    "resource": "enterprise",
                    "item": "legalRepIdNumber",
                    "access": "denied",
                    "code": "APPLICATION_REQUIRED",
                }
            ],
        }
        for purpose in ("administrative_basis", "work_reference")
    ]
    listed = await gateway.client.post(
        "/graphql",
        json={
            "query": '{ registeredDocuments(system: "11410581005000007K/planning-permits") '
            "{ id name purposes sharedWith } }"
        },
        headers={"Authorization": f"Bearer {sign_on.token(roles=['policy_admin'])}"},
    )
    assert listed.json()["data"]["registeredDocuments"] == [
        {
            "id": f"sha256:{sha256(body)}",
            "name": "PermitHolders",
            "purposes": ["administrative_basis", "work_reference"],
            "sharedWith": [],
        }
    ]


async def test_free_text_in_open_mode_is_the_document_it_matches(
    signed: tuple[Gateway, SignOn],
) -> None:
    gateway, _ = signed
    terms = Terms(frozenset({Purpose.WORK_REFERENCE}), frozenset(), "gs-admin", "test")
    store = DocumentStore(gateway.platform.store)
    await store.register_all(MARRIAGE, [(NAMES, None, None)], terms)
    respaced = NAMES.replace("{ ", "{\n  ")
    served = await call(gateway, {"query": respaced}, purpose="work_reference")
    assert served.status_code == 200, served.text
    assert (await gateway.audit(served))["document_id"] == f"sha256:{sha256(NAMES)}"
    refused = await call(gateway, {"query": respaced})
    assert await code_of(gateway, refused) == "DOCUMENT_PURPOSE_REFUSED"
    other = await call(gateway, {"query": ANOTHER})
    assert other.status_code == 200 and (await gateway.audit(other))["document_id"] is None
