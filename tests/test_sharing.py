"""The three outcomes, masks, scoped and timed grants and verification, end to end, with
department data on SQLite and on PostgreSQL: what a consumer receives is what the
catalog, the rules and its grants say, computed in the department's database."""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from catalog import Band, HideMiddle, KeepThrough, Surname, load_catalog
from demo import DemoScale, generate_demo_data
from grants import Grant
from policies.caller import Purpose
from policies.decision import Action
from settings import ROOT, Settings
from tests.conftest import SEED, SOURCES, Gateway, serving
from tests.engines import postgres_database, source_rows
from tests.grants.running import grant_enrolment_addresses
from tests.grants.served import assert_clear_only_in_its_township

pytestmark = pytest.mark.anyio
CATALOG = load_catalog(ROOT / "catalog" / "departments")
SCALE = DemoScale(persons=400, enterprises=150)
ON_POSTGRES = ("public_security", "market_regulation", "human_resources")
EDUCATION = "11410581005000008N"
PHONE = CATALOG.resources["person"].item("phone").mask
ADDRESS = CATALOG.resources["person"].item("householdAddress").mask
INCOME = CATALOG.resources["insurance_contribution"].item("contributionBase").mask
NAME = CATALOG.resources["enterprise"].item("legalRepName").mask
assert isinstance(PHONE, HideMiddle) and isinstance(ADDRESS, KeepThrough)
assert isinstance(INCOME, Band) and isinstance(NAME, Surname)


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
async def sources(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[dict[str, str]]:
    """Demo department databases: all SQLite, or population, market regulation and
    social insurance on PostgreSQL."""
    directory = tmp_path_factory.mktemp("sharing")
    urls = {name: f"sqlite+aiosqlite:///{directory / name}.db" for name in SOURCES}
    if request.param == "sqlite":
        await asyncio.to_thread(_generate, urls)
        yield urls
        return
    databases = [postgres_database() for _ in ON_POSTGRES]
    for name, database in zip(ON_POSTGRES, databases, strict=True):
        urls[name] = await anext(database)
    await asyncio.to_thread(_generate, urls)
    yield urls
    for database in databases:
        await anext(database, None)


def _generate(urls: dict[str, str]) -> None:
    generate_demo_data(CATALOG.departments, urls, seed=SEED, scale=SCALE)


@pytest.fixture
async def gateway(sources: dict[str, str], tmp_path: Path) -> AsyncIterator[Gateway]:
    settings = Settings(
        demo=True,
        seed=SEED,
        data_dir=tmp_path,
        sources=sources,
        policy_refresh_seconds=0.05,
        verification_quota_per_day=5,
    )
    async with serving(settings) as running:
        yield running


async def rows(sources: dict[str, str], source: str, sql: str) -> list[dict[str, Any]]:
    return await source_rows(sources[source], sql)


async def ask(
    gateway: Gateway, query: str, *, system: str | None, purpose: str | None = None
) -> dict[str, Any]:
    response = await gateway.query(query, system=system, purpose=purpose)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def nodes(body: dict[str, Any], field: str) -> list[dict[str, Any]]:
    return [edge["node"] for edge in body["data"][field]["edges"]]


def codes(body: dict[str, Any]) -> dict[str, str]:
    return {
        e["extensions"].get("field", ""): e["extensions"]["code"] for e in body.get("errors", [])
    }


async def grant(gateway: Gateway, **fields: Any) -> Grant:
    """Record a grant as the CLI does and install it, as the follower would."""
    platform = gateway.platform
    made = await platform.grants.add(
        Grant(reference="林公数〔2026〕12号", **fields),
        platform.catalog,
        operator="gs-admin",
        reason="test",
    )
    assert await platform.policy_source.reload()
    return made


async def persons_by_id(sources: dict[str, str]) -> dict[str, dict[str, Any]]:
    found = await rows(sources, "public_security", "SELECT * FROM person")
    return {row["id_number"]: row for row in found}


async def eventually(check: Callable[[], Any], *, seconds: float = 15.0) -> None:
    """Poll until `check` returns true: for changes the server makes on its own time."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "the change never took effect"
        await asyncio.sleep(0.05)


PERSONS = "{ persons(first: 200) { edges { node { idNumber township householdAddress phone } } } }"


async def test_without_a_grant_every_department_sees_the_catalogs_mask(
    gateway: Gateway, sources: dict[str, str]
) -> None:
    body = await ask(gateway, PERSONS, system="school-enrolment", purpose="work_reference")
    assert "errors" not in body
    source = await persons_by_id(sources)
    served = nodes(body, "persons")
    assert len(served) == 200
    for person in served:
        row = source[person["idNumber"]]
        assert person["phone"] == PHONE.apply(row["phone"]) != row["phone"]
        assert person["householdAddress"] == ADDRESS.apply(row["household_address"])
        assert person["householdAddress"] != row["household_address"]


async def test_a_granted_consumer_reads_clear_and_others_masked(
    gateway: Gateway, sources: dict[str, str]
) -> None:
    body = await ask(gateway, PERSONS, system="marriage-registry", purpose="administrative_basis")
    source = await persons_by_id(sources)
    for person in nodes(body, "persons"):
        row = source[person["idNumber"]]
        assert person["householdAddress"] == row["household_address"]  # rule: clear
        assert person["phone"] == PHONE.apply(row["phone"])  # no rule: masked


async def test_the_public_sees_a_legal_representatives_surname_only(
    gateway: Gateway, sources: dict[str, str]
) -> None:
    query = "{ enterprises(first: 50) { edges { node { creditCode legalRepName } } } }"
    body = await ask(gateway, query, system=None)
    assert "errors" not in body, body["errors"]
    source = {
        r["credit_code"]: r
        for r in await rows(sources, "market_regulation", "SELECT * FROM enterprise")
    }
    for enterprise in nodes(body, "enterprises"):
        clear = source[enterprise["creditCode"]]["legal_rep_name"]
        assert enterprise["legalRepName"] == NAME.apply(clear) == clear[0] + "**"
    clear_body = await ask(gateway, query, system="tax-admin", purpose="administrative_basis")
    for enterprise in nodes(clear_body, "enterprises"):
        assert enterprise["legalRepName"] == source[enterprise["creditCode"]]["legal_rep_name"]


async def test_the_public_cannot_ask_for_a_conditional_item_of_an_open_resource(
    gateway: Gateway,
) -> None:
    """Not in the public's schema: the whole document is refused before anything is read."""
    query = "{ enterprises(first: 50) { edges { node { creditCode contactPhone } } } }"
    response = await gateway.query(query, system=None, purpose=None)
    body = response.json()
    assert response.status_code == 400 and "data" not in body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert error["message"] == "Cannot query field 'contactPhone' on type 'Enterprise'."


async def test_an_income_is_a_band_for_a_read_masked_rule_and_clear_for_a_grant(
    gateway: Gateway, sources: dict[str, str]
) -> None:
    query = "{ insuranceContributions(first: 100) { edges { node { recordNumber contributionBase } } } }"
    source = {
        r["record_number"]: Decimal(r["contribution_base"])
        for r in await rows(sources, "human_resources", "SELECT * FROM insurance_contribution")
    }
    banded = await ask(gateway, query, system="planning-permits", purpose="administrative_basis")
    assert "errors" not in banded
    for record in nodes(banded, "insuranceContributions"):
        assert record["contributionBase"] == INCOME.apply(source[record["recordNumber"]])
        assert record["contributionBase"] in INCOME.labels()
    clear = await ask(gateway, query, system="tax-admin", purpose="administrative_basis")
    for record in nodes(clear, "insuranceContributions"):
        assert Decimal(record["contributionBase"]) == source[record["recordNumber"]]
    refused = await ask(gateway, query, system="school-enrolment", purpose="administrative_basis")
    assert codes(refused) == {"InsuranceContribution.contributionBase": "APPLICATION_REQUIRED"}


@pytest.mark.parametrize(
    "arguments",
    [
        'where: {phone: {_like: "138%"}}',
        'where: {householdAddress: {_eq: "x"}}',
        "orderBy: [{phone: asc}]",
    ],
)
async def test_a_masked_item_cannot_be_filtered_or_ordered_on(
    gateway: Gateway, arguments: str
) -> None:
    query = f"{{ persons(first: 5, {arguments}) {{ totalCount edges {{ node {{ name }} }} }} }}"
    body = await ask(gateway, query, system="school-enrolment", purpose="work_reference")
    assert body["data"]["persons"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "MASKED_ONLY"


async def test_a_scoped_grant_is_clear_inside_its_scope_and_masked_outside(
    gateway: Gateway, sources: dict[str, str]
) -> None:
    await grant_enrolment_addresses(gateway, scope="township=township")
    body = await ask(gateway, PERSONS, system="school-enrolment", purpose="administrative_basis")
    assert "errors" not in body
    source = await persons_by_id(sources)
    assert_clear_only_in_its_township(nodes(body, "persons"), source, ADDRESS)
    other = await ask(gateway, PERSONS, system="school-enrolment", purpose="work_reference")
    assert all(p["householdAddress"].endswith("***") for p in nodes(other, "persons"))


async def test_filters_and_counts_on_a_scoped_item_stay_inside_the_scope(
    gateway: Gateway, sources: dict[str, str]
) -> None:
    await grant(
        gateway,
        consumer=EDUCATION,
        resource_id="person",
        items=("householdAddress",),
        action=Action.READ_CLEAR,
        purposes=(Purpose.ADMINISTRATIVE_BASIS,),
        scope="township=township",
    )
    query = '{ persons(first: 500, where: {householdAddress: {_like: "%号"}}, orderBy: [{householdAddress: asc}]) { totalCount edges { node { township householdAddress } } } }'
    body = await ask(gateway, query, system="school-enrolment", purpose="administrative_basis")
    served = nodes(body, "persons")
    expected = await rows(
        sources,
        "public_security",
        "SELECT household_address FROM person WHERE township = '开元街道' ORDER BY household_address",
    )
    assert body["data"]["persons"]["totalCount"] == len(expected) == len(served)
    assert {p["township"] for p in served} == {"开元街道"}
    assert sorted(p["householdAddress"] for p in served) == [
        r["household_address"] for r in expected
    ]


async def test_outside_a_scope_an_unmasked_item_is_withheld_with_one_error(
    gateway: Gateway, sources: dict[str, str]
) -> None:
    key = await gateway.platform.keys.register(
        EDUCATION,
        "林州市教育局",
        "vocational-training",
        "职业培训补贴系统",
        {"industry": "建筑工程"},
    )
    await grant(
        gateway,
        consumer=f"{EDUCATION}/vocational-training",
        resource_id="enterprise",
        items=("legalRepIdNumber",),
        action=Action.READ_CLEAR,
        purposes=(Purpose.ADMINISTRATIVE_BASIS,),
        scope="industry=industry",
    )
    query = (
        "{ enterprises(first: 150) { edges { node { creditCode industry legalRepIdNumber } } } }"
    )
    response = await gateway.query(
        query,
        system=None,
        purpose="administrative_basis",
        headers={"Authorization": f"Bearer {key}"},
    )
    body = response.json()
    source = {
        r["credit_code"]: r
        for r in await rows(sources, "market_regulation", "SELECT * FROM enterprise")
    }
    inside = 0
    for enterprise in nodes(body, "enterprises"):
        row = source[enterprise["creditCode"]]
        if row["industry"] == "建筑工程":
            inside += 1
            assert enterprise["legalRepIdNumber"] == row["legal_rep_id_number"]
        else:
            assert enterprise["legalRepIdNumber"] is None
    assert 0 < inside < len(source)
    assert codes(body) == {"Enterprise.legalRepIdNumber": "OUT_OF_SCOPE"}
    joined = await gateway.query(
        "{ enterprises(first: 3) { edges { node { legalRepresentative { name } } } } }",
        system=None,
        purpose="administrative_basis",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert codes(joined.json()) == {"Enterprise.legalRepresentative": "OUT_OF_SCOPE"}


async def test_a_grant_starts_and_ends_on_time_while_the_server_runs(gateway: Gateway) -> None:
    now = datetime.datetime.now(datetime.UTC)
    await grant(
        gateway,
        consumer=EDUCATION,
        resource_id="person",
        items=("phone",),
        action=Action.READ_CLEAR,
        purposes=(Purpose.BUSINESS_COLLABORATION,),
        valid_from=now + datetime.timedelta(seconds=1.5),
        valid_until=now + datetime.timedelta(seconds=3.5),
    )
    query = "{ persons(first: 3) { edges { node { phone } } } }"

    async def phones() -> list[str]:
        body = await ask(
            gateway, query, system="school-enrolment", purpose="business_collaboration"
        )
        return [p["phone"] for p in nodes(body, "persons")]

    assert all("****" in phone for phone in await phones())  # cached: masked until the start

    async def clear() -> bool:
        return all("****" not in phone for phone in await phones())

    async def masked_again() -> bool:
        return all("****" in phone for phone in await phones())

    await eventually(clear)
    assert datetime.datetime.now(datetime.UTC) >= now + datetime.timedelta(seconds=1.5)
    await eventually(masked_again)
    assert datetime.datetime.now(datetime.UTC) >= now + datetime.timedelta(seconds=3.5)


async def test_new_and_revoked_grants_take_effect_without_a_restart(gateway: Gateway) -> None:
    """Made through the store alone, as `python -m policies grant` does from another process."""
    platform = gateway.platform
    query = '{ lookup: enterprise(creditCode: "x") { name } landParcels(first: 2) { edges { node { boundary } } } }'

    async def code() -> str | None:
        body = await ask(
            gateway, query, system="school-enrolment", purpose="business_collaboration"
        )
        return codes(body).get("LandParcel.boundary")

    assert await code() == "APPLICATION_REQUIRED"
    made = await platform.grants.add(
        Grant(
            consumer=EDUCATION,
            resource_id="land_parcel",
            items=("boundary",),
            action=Action.READ_CLEAR,
            purposes=(Purpose.BUSINESS_COLLABORATION,),
            reference="林自然资函〔2026〕7号",
        ),
        platform.catalog,
        operator="gs-admin",
        reason="test",
    )

    async def granted() -> bool:
        return await code() is None

    async def revoked() -> bool:
        return await code() == "APPLICATION_REQUIRED"

    await eventually(granted)
    assert made.id is not None and await platform.grants.revoke(
        made.id, operator="gs-admin", reason="test"
    )
    await eventually(revoked)


async def test_verification_answers_whether_a_value_matches_never_the_value(
    gateway: Gateway, sources: dict[str, str]
) -> None:
    [registration] = await rows(
        sources,
        "civil_affairs",
        "SELECT * FROM marriage_registration ORDER BY registration_number LIMIT 1",
    )
    number, certificate = registration["registration_number"], registration["certificate_number"]
    query = f"""{{
      right: verifyMarriageRegistration(registrationNumber: "{number}", claims: {{certificateNumber: "{certificate}"}})
      wrong: verifyMarriageRegistration(registrationNumber: "{number}", claims: {{certificateNumber: "{certificate[:-1]}"}})
      nobody: verifyMarriageRegistration(registrationNumber: "000000000000000000", claims: {{certificateNumber: "{certificate}"}})
    }}"""
    response = await gateway.query(query, system="tax-admin", purpose="data_verification")
    body = response.json()
    assert "errors" not in body
    assert body["data"] == {"right": True, "wrong": False, "nobody": False}
    record = await gateway.audit(response)
    decisions = {field["path"]: field["decision"] for field in record["fields"]}
    assert decisions["right"] == decisions["wrong"] == "verified"
    reading = await ask(
        gateway,
        f'{{ marriageRegistration(registrationNumber: "{number}") {{ certificateNumber }} }}',
        system="tax-admin",
        purpose="data_verification",
    )
    assert codes(reading) == {"MarriageRegistration.certificateNumber": "APPLICATION_REQUIRED"}
    assert certificate not in str(reading)


async def test_verification_needs_a_grant_and_whole_values(
    gateway: Gateway, sources: dict[str, str]
) -> None:
    [person] = await rows(
        sources, "public_security", "SELECT * FROM person ORDER BY id_number LIMIT 1"
    )
    who = f'idNumber: "{person["id_number"]}"'
    body = await ask(
        gateway,
        f'{{ name: verifyPerson({who}, claims: {{name: "{person["name"]}"}}) '
        f'surname: verifyPerson({who}, claims: {{name: "{person["name"][0]}"}}) }}',
        system="school-enrolment",
        purpose="work_reference",
    )
    assert "errors" not in body
    assert body["data"] == {"name": True, "surname": False}  # a prefix is not a match
    refused = await ask(
        gateway,
        f'{{ verifyPerson({who}, claims: {{phone: "{person["phone"]}"}}) }}',
        system="school-enrolment",
        purpose="data_verification",
    )
    assert codes(refused) == {"Query.verifyPerson": "NOT_VERIFIABLE"}
    pattern = await gateway.query(
        f'{{ verifyPerson({who}, claims: {{name: {{_like: "张%"}}}}) }}', system="school-enrolment"
    )
    assert pattern.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_verification_has_a_daily_quota_per_system(
    gateway: Gateway, sources: dict[str, str]
) -> None:
    [person] = await rows(
        sources, "public_security", "SELECT * FROM person ORDER BY id_number LIMIT 1"
    )
    query = f'{{ verifyPerson(idNumber: "{person["id_number"]}", claims: {{name: "{person["name"]}"}}) }}'
    answers = [
        (await ask(gateway, query, system="school-enrolment", purpose="work_reference"))
        for _ in range(6)
    ]
    assert [a["data"]["verifyPerson"] for a in answers] == [True] * 5 + [None]
    assert answers[-1]["errors"][0]["extensions"]["code"] == "QUOTA_EXCEEDED"
    other = await ask(gateway, query, system="tax-admin", purpose="work_reference")
    assert other["data"]["verifyPerson"] is True  # another system has its own budget
