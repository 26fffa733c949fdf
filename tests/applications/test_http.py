"""The whole way of an application through HTTP (issue 14's "done when"): a query gets
APPLICATION_REQUIRED, the consumer applies from the error's payload alone, the
provider's approver (a person, from a verified sign-on token) approves, the same query
returns the item, the grant ends without a restart, and the item is denied again. And
who may do what: fail closed, every step on record."""

from __future__ import annotations

import asyncio
import datetime
import uuid
from pathlib import Path
from typing import Any

import pytest

from auth import demo_key
from settings import Settings
from tests.auth.sso import SignOn, rsa_key
from tests.conftest import SEED, Gateway, serving
from tests.grants.test_follower import HOUR, eventually
from tests.test_readme import examples
from tests.web.test_people import with_sign_on

pytestmark = pytest.mark.anyio

TAXATION = "11410581005000005D"
MARRIAGE = "11410581005000006G"
CREDIT = "{ enterprises(first: 2) { edges { node { name taxRegistration { creditRating } } } } }"
APPLY = """
mutation Apply($application: ApplicationInput!) {
  applyForAccess(application: $application) {
    id state provider providerCode resource fields purpose dueAt deadlineProvisional
    acknowledged legalBasis negotiation steps { step state person reason }
  }
}"""
APPROVE = """
mutation Approve($id: Int!, $reason: String!, $validUntil: DateTime, $masked: Boolean! = false) {
  approveApplication(id: $id, reason: $reason, validUntil: $validUntil, masked: $masked) {
    id state grant answeredAt steps { step state person department reason terms }
  }
}"""
REFUSE = "mutation($id: Int!, $reason: String!) { refuseApplication(id: $id, reason: $reason) { state negotiation steps { step person reason } } }"
REVOKE = "mutation($id: Int!, $reason: String!) { revokeApplication(id: $id, reason: $reason) { state } }"
TO_ANSWER = "{ applicationsToAnswer { id state consumer fields overdue } }"
MINE = "{ myApplications { id state } }"


def later(seconds: float) -> str:
    moment = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=seconds)
    return moment.isoformat()


class Approver:
    """王五 of the tax bureau, signed in with the role provider_approver."""

    def __init__(self, gateway: Gateway, sign_on: SignOn, **claims: Any) -> None:
        self.gateway = gateway
        wangwu = {
            "sub": "wangwu-0502",
            "department": TAXATION,
            "azp": "tax-admin",
            "roles": ["provider_approver"],
        }
        self.token = sign_on.token(**{**wangwu, **claims})

    async def send(self, query: str, **variables: Any) -> dict[str, Any]:
        response = await self.gateway.query(
            query,
            system=None,
            purpose=None,
            variables=variables,
            headers={"Authorization": f"Bearer {self.token}"},
        )
        assert response.status_code == 200, response.text
        self.last = response
        body: dict[str, Any] = response.json()
        return body


async def serving_with_sign_on(settings: Settings, tmp_path: Path) -> tuple[Any, SignOn]:
    sign_on = SignOn({"rsa-1": rsa_key()})
    jwks = str(sign_on.write(tmp_path / "jwks.json"))
    return serving(with_sign_on(settings, jwks)), sign_on


async def apply_from(gateway: Gateway, error: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """What a front end sends, filled from the error's `application` alone."""
    asked = error["extensions"]["application"]
    application = {
        "resource": asked["resource"],
        "fields": asked["fields"],
        "purpose": asked["purpose"],
        "businessReason": "核实婚姻登记当事人所在企业纳税信用",
        "caseReference": "2026-MZ-0118",
        "validUntil": later(3600),
        "acknowledgeUseConditions": True,
        **changes,
    }
    response = await gateway.query(APPLY, variables={"application": application})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def credit_denial(body: dict[str, Any]) -> dict[str, Any]:
    return next(
        e
        for e in body.get("errors", [])
        if e["extensions"]["field"] == "TaxRegistration.creditRating"
    )


def ratings(body: dict[str, Any]) -> list[Any]:
    return [
        edge["node"]["taxRegistration"]["creditRating"]
        for edge in body["data"]["enterprises"]["edges"]
        if edge["node"]["taxRegistration"] is not None
    ]


@pytest.mark.slow  # waits for a grant to end
async def test_from_application_required_to_a_grant_that_ends(
    settings: Settings, tmp_path: Path
) -> None:
    running, sign_on = await serving_with_sign_on(settings, tmp_path)
    async with running as gateway:
        before = (await gateway.query(CREDIT)).json()
        denial = credit_denial(before)
        assert denial["extensions"]["code"] == "APPLICATION_REQUIRED"
        assert set(ratings(before)) == {None}

        applied = await apply_from(gateway, denial)
        assert "errors" not in applied, applied
        application = applied["data"]["applyForAccess"]
        assert application["state"] == "applied" and application["providerCode"] == TAXATION
        assert application["fields"] == ["creditRating"]
        assert application["acknowledged"].startswith("Art. 11")
        assert application["deadlineProvisional"] is False
        assert application["steps"][0]["person"] == f"{MARRIAGE}/marriage-registry"

        approver = Approver(gateway, sign_on)
        pending = (await approver.send(TO_ANSWER))["data"]["applicationsToAnswer"]
        assert [p["id"] for p in pending] == [application["id"]]

        ends = later(4)
        approved = await approver.send(
            APPROVE, id=application["id"], reason="同意，限本案使用", validUntil=ends
        )
        assert "errors" not in approved, approved
        answer = approved["data"]["approveApplication"]
        assert answer["state"] == "approved_narrower"  # a shorter validity than asked
        step = answer["steps"][-1]
        assert (step["person"], step["department"], step["reason"]) == (
            "wangwu-0502",
            TAXATION,
            "同意，限本案使用",
        )
        record = await gateway.audit(approver.last)  # on the audit record like a read
        assert (record["person"], record["caller_department"]) == ("wangwu-0502", TAXATION)
        assert record["outcome"] == "served" and record["error_codes"] == []

        granted = (await gateway.query(CREDIT)).json()
        assert "TaxRegistration.creditRating" not in {
            e["extensions"]["field"] for e in granted.get("errors", [])
        }
        assert ratings(granted) and all(rating is not None for rating in ratings(granted))

        for _ in range(100):  # the grant ends at its time, without a restart
            again = (await gateway.query(CREDIT)).json()
            if any(
                e["extensions"]["field"] == "TaxRegistration.creditRating"
                for e in again.get("errors", [])
            ):
                break
            await asyncio.sleep(0.1)
        assert credit_denial(again)["extensions"]["code"] == "APPLICATION_REQUIRED"
        mine = (await gateway.query(MINE)).json()["data"]["myApplications"]
        assert mine == [{"id": application["id"], "state": "expired"}]


async def test_refused_with_a_reason_revoked_early_and_on_record(
    settings: Settings, tmp_path: Path
) -> None:
    running, sign_on = await serving_with_sign_on(settings, tmp_path)
    async with running as gateway:
        denial = credit_denial((await gateway.query(CREDIT)).json())
        approver = Approver(gateway, sign_on)
        first = (await apply_from(gateway, denial))["data"]["applyForAccess"]

        duplicate = await apply_from(gateway, denial)
        [error] = duplicate["errors"]
        assert error["extensions"] == {
            "code": "APPLICATION_DUPLICATE",
            "openApplication": first["id"],
        }

        no_reason = await approver.send(REFUSE, id=first["id"], reason=" ")
        assert no_reason["errors"][0]["extensions"]["code"] == "APPLICATION_INVALID"
        refused = await approver.send(REFUSE, id=first["id"], reason="无婚姻登记业务依据")
        answer = refused["data"]["refuseApplication"]
        assert answer["state"] == "refused" and "市行政服务中心" in answer["negotiation"]
        assert answer["steps"][-1] == {
            "step": "refuse",
            "person": "wangwu-0502",
            "reason": "无婚姻登记业务依据",
        }
        twice = await approver.send(APPROVE, id=first["id"], reason="同意")
        [error] = twice["errors"]
        assert error["extensions"] == {"code": "APPLICATION_STATE_CONFLICT", "state": "refused"}
        assert error["message"] == f"application {first['id']} is refused: it cannot approve"

        second = (await apply_from(gateway, denial))["data"]["applyForAccess"]
        approved = await approver.send(APPROVE, id=second["id"], reason="同意")
        assert approved["data"]["approveApplication"]["state"] == "approved"
        figures = "{ consumerFigures { consumerDepartment approvals used neverUsed } }"
        unused = (await gateway.query(figures)).json()["data"]["consumerFigures"]
        assert unused == [
            {"consumerDepartment": MARRIAGE, "approvals": 1, "used": 0, "neverUsed": 1}
        ]
        assert all(r is not None for r in ratings((await gateway.query(CREDIT)).json()))
        used = (await gateway.query(figures)).json()["data"]["consumerFigures"]
        assert used == [{"consumerDepartment": MARRIAGE, "approvals": 1, "used": 1, "neverUsed": 0}]
        revoked = await approver.send(REVOKE, id=second["id"], reason="发现超范围使用")
        assert revoked["data"]["revokeApplication"]["state"] == "revoked"
        after = (await gateway.query(CREDIT)).json()
        assert credit_denial(after)["extensions"]["code"] == "APPLICATION_REQUIRED"


async def test_a_not_shared_item_is_answered_at_once_with_its_legal_basis(
    gateway: Gateway,
) -> None:
    body = await apply_from(
        gateway,
        {
            "extensions": {
                "application": {
                    "resource": "tax_registration",
                    "fields": ["annualTaxPaid"],
                    "purpose": "administrative_basis",
                }
            }
        },
    )
    answer = body["data"]["applyForAccess"]
    assert answer["state"] == "not_shared"
    assert "税收征收管理法" in answer["legalBasis"]
    assert "negotiate with the provider" in answer["negotiation"]
    assert [s["step"] for s in answer["steps"]] == ["apply", "refuse"]


async def test_bad_applications_say_every_problem(gateway: Gateway) -> None:
    body = await apply_from(
        gateway,
        {
            "extensions": {
                "application": {
                    "resource": "tax_registration",
                    "fields": ["taxpayerName", "nope"],
                    "purpose": "curiosity",
                }
            }
        },
        acknowledgeUseConditions=False,
        businessReason="",
        validUntil="2020-01-01T00:00:00+08:00",
    )
    [error] = body["errors"]
    assert error["extensions"]["code"] == "APPLICATION_INVALID"
    for problem in (
        "taxpayerName is shared unconditionally: no application is needed",
        "tax_registration has no item 'nope'",
        "purpose 'curiosity' is not one of",
        "validUntil must be in the future",
        "business reason: a reason is required",
        "acknowledge the use conditions of Art. 11",
    ):
        assert problem in error["message"]


async def test_who_may_do_what(settings: Settings, tmp_path: Path) -> None:
    running, sign_on = await serving_with_sign_on(settings, tmp_path)
    async with running as gateway:
        public = await gateway.query(MINE, system=None, purpose=None)
        assert public.status_code == 403
        assert public.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        by_get = await gateway.client.get(
            "/graphql",
            params={"query": "mutation { withdrawApplication(id: 1) { state } }"},
            headers={"Authorization": f"Bearer {demo_key(SEED, 'marriage-registry')}"},
        )
        assert by_get.status_code == 405, "GET changes nothing"
        # A system's key cannot answer, nor a person without the role.
        by_key = await gateway.query(TO_ANSWER, system="tax-admin")
        assert by_key.status_code == 403
        plain = Approver(gateway, sign_on, roles=["wiki_editor"])
        response = await gateway.query(
            TO_ANSWER, system=None, headers={"Authorization": f"Bearer {plain.token}"}
        )
        assert response.status_code == 403
        assert (await gateway.audit(response))["outcome"] == "forbidden"

        denial = credit_denial((await gateway.query(CREDIT)).json())
        application = (await apply_from(gateway, denial))["data"]["applyForAccess"]
        # An approver of another department finds no such application.
        other = Approver(gateway, sign_on, department=MARRIAGE, azp="marriage-registry")
        refused = await other.send(APPROVE, id=application["id"], reason="同意")
        assert refused["errors"][0]["extensions"]["code"] == "APPLICATION_NOT_FOUND"
        assert (await other.send(TO_ANSWER))["data"]["applicationsToAnswer"] == []
        # Another consumer does not see it either.
        theirs = await gateway.query(MINE, system="school-enrolment")
        assert theirs.json()["data"]["myApplications"] == []


def readme_example(name: str) -> str:
    [example] = [example for example in examples() if example.name == name]
    return example.body


async def test_the_readmes_requests_for_a_consumer_and_a_provider(
    settings: Settings, tmp_path: Path
) -> None:
    """The README's own texts: its consumers' applications, and its approver's answers
    sent as a signed-in approver of a sign-on other than the demo's."""
    running, sign_on = await serving_with_sign_on(settings, tmp_path)
    async with running as gateway:
        applied = (await gateway.query(readme_example("apply"))).json()
        application = applied["data"]["applyForAccess"]
        assert application["id"] == 1, "the README's answers name application 1"
        approver = Approver(gateway, sign_on)
        approved = (await approver.send(readme_example("approve")))["data"]["approveApplication"]
        assert approved["state"] == "approved_narrower"  # temporary: shorter than asked
        ends = datetime.datetime.fromisoformat(approved["grantedUntil"])
        hours = (ends - datetime.datetime.now(datetime.UTC)).total_seconds() / 3600
        assert 71 < hours <= 72
        assert approved["steps"][-1]["person"] == "wangwu-0502"
        granted = (await gateway.query(CREDIT)).json()
        assert all(rating is not None for rating in ratings(granted))
        [mine] = (await gateway.query(readme_example("my-applications"))).json()["data"][
            "myApplications"
        ]
        assert mine["grant"] == approved["grant"] and mine["state"] == "approved_narrower"
        planning = await gateway.query(readme_example("apply-planning"), system="planning-permits")
        assert planning.json()["data"]["applyForAccess"] == {"id": 2, "state": "applied"}
        refused = (await approver.send(readme_example("refuse")))["data"]["refuseApplication"]
        assert (refused["id"], refused["state"]) == (2, "refused")


async def test_an_approval_is_in_force_on_every_instance_at_once(
    settings: Settings, tmp_path: Path, redis_url: str
) -> None:
    """Two servers on one store, polling only hourly: an approval answered on one is
    served by the other at once (announced over Redis), and so is its revocation."""
    channel = f"gov-share-test:{uuid.uuid4().hex}"
    shared = settings.model_copy(
        update={"redis_url": redis_url, "redis_channel": channel, "policy_refresh_seconds": HOUR}
    )
    running, sign_on = await serving_with_sign_on(shared, tmp_path)
    other = serving(running_settings(shared, tmp_path))
    async with running as first, other as second:
        for gateway in (first, second):
            await eventually(lambda g=gateway: listening(g))
        denial = credit_denial((await second.query(CREDIT)).json())
        application = (await apply_from(second, denial))["data"]["applyForAccess"]
        approver = Approver(first, sign_on)
        approved = await approver.send(APPROVE, id=application["id"], reason="同意")
        assert approved["data"]["approveApplication"]["state"] == "approved"

        async def served() -> bool:
            return all(r is not None for r in ratings((await second.query(CREDIT)).json()))

        await eventually(served)
        await approver.send(REVOKE, id=application["id"], reason="提前终止")

        async def denied() -> bool:
            body = (await second.query(CREDIT)).json()
            return any(
                e["extensions"]["code"] == "APPLICATION_REQUIRED" for e in body.get("errors", [])
            )

        await eventually(denied)


def running_settings(settings: Settings, tmp_path: Path) -> Settings:
    """The second server's: the same store and sign-on as the first."""
    return with_sign_on(settings, str(tmp_path / "jwks.json"))


async def listening(gateway: Gateway) -> bool:
    ready = (await gateway.client.get("/readyz")).json()
    return bool(ready["announcements"] == "listening")


OFFICE_DEPARTMENT = "114105810050000993"
DECIDE = "mutation($id: Int!, $grant: Boolean!, $reason: String!) { decideEscalation(id: $id, grant: $grant, reason: $reason) { state grant steps { step person reason } } }"
PENDING = "{ pendingWork { mine { id state } toAnswer { id state } toDecide { id state } overdue { id } } }"


async def test_escalated_to_the_office_which_grants_on_the_providers_behalf(
    settings: Settings, tmp_path: Path
) -> None:
    running, sign_on = await serving_with_sign_on(settings, tmp_path)
    async with running as gateway:
        await gateway.platform.keys.register(
            OFFICE_DEPARTMENT, "林州市行政服务中心", "coordination", "共享协调系统"
        )
        office = Approver(
            gateway,
            sign_on,
            sub="zhaoliu-0001",
            department=OFFICE_DEPARTMENT,
            azp="coordination",
            roles=["coordination_office"],
        )
        approver = Approver(gateway, sign_on)
        denial = credit_denial((await gateway.query(CREDIT)).json())
        application = (await apply_from(gateway, denial))["data"]["applyForAccess"]
        number = application["id"]
        # Within its deadline it waits for the provider.
        early = await gateway.query(
            'mutation($id: Int!) { escalateApplication(id: $id, statement: "急") { state } }',
            variables={"id": number},
        )
        assert early.json()["errors"][0]["extensions"]["code"] == "APPLICATION_INVALID"
        await approver.send(REFUSE, id=number, reason="无业务依据")
        escalated = await gateway.query(
            'mutation($id: Int!) { escalateApplication(id: $id, statement: "婚姻登记须核实") { state } }',
            variables={"id": number},
        )
        assert escalated.json()["data"]["escalateApplication"]["state"] == "escalated"
        responded = await approver.send(
            'mutation($id: Int!) { respondToEscalation(id: $id, statement: "属税务秘密") { state } }',
            id=number,
        )
        assert responded["data"]["respondToEscalation"]["state"] == "escalated"
        work = (await office.send(PENDING))["data"]["pendingWork"]
        assert work["toDecide"] == [{"id": number, "state": "escalated"}]
        assert (await approver.send(PENDING))["data"]["pendingWork"]["toAnswer"] == [
            {"id": number, "state": "escalated"}
        ]
        # Only the office decides.
        by_approver = await gateway.query(
            DECIDE,
            system=None,
            variables={"id": number, "grant": True, "reason": "x"},
            headers={"Authorization": f"Bearer {approver.token}"},
        )
        assert by_approver.status_code == 403
        decided = (await office.send(DECIDE, id=number, grant=True, reason="协调决定：准予"))[
            "data"
        ]["decideEscalation"]
        assert decided["state"] == "approved_by_office" and decided["grant"] is not None
        assert decided["steps"][-1] == {
            "step": "decide",
            "person": "zhaoliu-0001",
            "reason": "协调决定：准予",
        }
        assert all(r is not None for r in ratings((await gateway.query(CREDIT)).json()))
        counts = (await office.send("{ overdueCounts { providerCode overdue } }"))["data"]
        assert counts == {"overdueCounts": []}
        figures = "{ applicationFigures { providerCode answered refusals answeredInTime overdue } }"
        [taxation] = (await office.send(figures))["data"]["applicationFigures"]
        assert taxation == {
            "providerCode": TAXATION,
            "answered": 1,
            "refusals": 1,
            "answeredInTime": 1.0,
            "overdue": 0,
        }
        mine = (await gateway.query(figures)).json()["data"]["applicationFigures"]
        assert mine == [], "the marriage registry's department provides nothing applied for"
