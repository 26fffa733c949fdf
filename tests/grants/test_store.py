"""Grants in the platform store, on SQLite and on PostgreSQL: what a provider approves is
kept exactly (times as the same instant, in UTC), listed, revoked once, refused with a
reason when the catalog cannot permit it, and managed end to end through
`python -m policies`."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
import os
import re
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from auth import KeyRegistry
from catalog import load_catalog
from grants import Change, Grant, GrantRefused, GrantStore, checked, rules_of
from grants.store import GrantsChanging
from policies.__main__ import main
from policies.caller import Caller, Purpose
from policies.decision import Action
from policies.rules import load_rules
from quota import VerificationQuota
from settings import ROOT
from store import store_engine, upgrade
from store.migrate import MIGRATIONS
from store.tables import grant_changes
from store.tables import grants as grants_table
from tests.engines import POSTGRES, postgres_database

pytestmark = pytest.mark.anyio

CATALOG = load_catalog(ROOT / "catalog" / "departments")
EDUCATION = "11410581005000008N"
ENROLMENT = f"{EDUCATION}/school-enrolment"
UTC = datetime.UTC
BEIJING = datetime.timezone(datetime.timedelta(hours=8))
AUDIT_ROLES = ("owner", "writer", "retention", "auditor")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class Store:
    """A migrated platform store and what a `python -m policies` process needs to reach it."""

    dialect: str
    engine: AsyncEngine
    env: dict[str, str] = field(default_factory=dict)

    @property
    def grants(self) -> GrantStore:
        return GrantStore(self.engine)


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Store]:
    """On PostgreSQL the migrations make cluster-wide audit roles: under a prefix unique
    to the test, dropped after the test's database is."""
    prefix = f"gs_t{uuid.uuid4().hex[:10]}_audit"
    monkeypatch.setenv("GOV_SHARE_AUDIT_ROLE_PREFIX", prefix)
    env = {"GOV_SHARE_DATA_DIR": str(tmp_path), "GOV_SHARE_AUDIT_ROLE_PREFIX": prefix}
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'platform.db'}"  # the CLI's default there
        await asyncio.to_thread(upgrade, url)
        made = Store("sqlite", store_engine(url), env)
        yield made
        await made.engine.dispose()
        return
    try:
        async for url in postgres_database():
            await asyncio.to_thread(upgrade, url)
            made = Store(
                "postgresql", store_engine(url), {**env, "GOV_SHARE_PLATFORM_STORE_URL": url}
            )
            try:
                yield made
            finally:
                await made.engine.dispose()
    finally:
        await _drop_roles(prefix)


async def _drop_roles(prefix: str) -> None:
    admin = create_async_engine(
        "postgresql+asyncpg://{user}@{host}:{port}/{database}".format(**POSTGRES),
        isolation_level="AUTOCOMMIT",
    )
    try:
        connection = await admin.connect()
    except (OSError, DBAPIError):
        await admin.dispose()
        return  # never reached the server, so no roles were made
    try:
        for role in AUDIT_ROLES:
            await connection.exec_driver_sql(f'DROP ROLE IF EXISTS "{prefix}_{role}"')
        left = await connection.scalar(
            sa.text("SELECT count(*) FROM pg_roles WHERE rolname LIKE :prefix"),
            {"prefix": f"{prefix}%"},
        )
        assert left == 0, "a test left audit roles behind"
    finally:
        await connection.close()
        await admin.dispose()


def address_grant(**changes: Any) -> Grant:
    """The school-enrolment system may read household addresses clear in its township."""
    fields: dict[str, Any] = {
        "consumer": ENROLMENT,
        "resource_id": "person",
        "items": ("householdAddress",),
        "action": Action.READ_CLEAR,
        "purposes": (Purpose.ADMINISTRATIVE_BASIS,),
        "reference": "林公数〔2026〕12号",
        "scope": "township=township",
        "valid_from": datetime.datetime(2026, 12, 1, 8, 0, 0, 123456, tzinfo=BEIJING),
        "valid_until": datetime.datetime(2027, 3, 1, 8, 0, tzinfo=BEIJING),
    }
    return Grant(**{**fields, **changes})


def is_utc(moment: datetime.datetime | None) -> bool:
    return moment is not None and moment.utcoffset() == datetime.timedelta(0)


# --- the store ------------------------------------------------------------------------


async def test_a_grant_is_stored_and_listed_as_given_with_times_in_utc(store: Store) -> None:
    given = address_grant(scope="township=township & gender=gender")
    made = await store.grants.add(given, CATALOG, operator="gs-admin", reason="test")
    assert made.id is not None
    [listed] = await store.grants.listed()
    assert listed == made
    assert listed.id == made.id
    assert listed.consumer == ENROLMENT
    assert listed.resource_id == "person"
    assert listed.items == ("householdAddress",)
    assert listed.action is Action.READ_CLEAR
    assert listed.purposes == (Purpose.ADMINISTRATIVE_BASIS,)
    assert listed.reference == "林公数〔2026〕12号"
    assert listed.scope == "gender=gender & township=township"  # canonical form
    assert listed.revoked_at is None
    # The same instants as given in +08:00, read back as aware UTC times.
    assert listed.valid_from == given.valid_from
    assert listed.valid_until == given.valid_until
    assert is_utc(listed.valid_from) and is_utc(listed.valid_until)
    assert listed.valid_from == datetime.datetime(2026, 12, 1, 0, 0, 0, 123456, tzinfo=UTC)
    assert listed.valid_until == datetime.datetime(2027, 3, 1, 0, 0, tzinfo=UTC)


async def test_an_open_ended_grant_of_several_items_and_purposes_round_trips(
    store: Store,
) -> None:
    given = address_grant(
        consumer=EDUCATION,
        items=("householdAddress", "phone"),
        purposes=(Purpose.BUSINESS_COLLABORATION, Purpose.ADMINISTRATIVE_BASIS),
        scope="",
        valid_from=None,
        valid_until=None,
    )
    made = await store.grants.add(given, CATALOG, operator="gs-admin", reason="test")
    [listed] = await store.grants.listed()
    assert listed == made
    assert listed.items == ("householdAddress", "phone")
    assert listed.purposes == (Purpose.BUSINESS_COLLABORATION, Purpose.ADMINISTRATIVE_BASIS)
    assert (listed.scope, listed.valid_from, listed.valid_until) == ("", None, None)


async def test_grants_are_listed_in_the_order_they_were_made(store: Store) -> None:
    first = await store.grants.add(address_grant(), CATALOG, operator="gs-admin", reason="test")
    second = await store.grants.add(
        address_grant(resource_id="land_parcel", items=("boundary",), scope=""),
        CATALOG,
        operator="gs-admin",
        reason="test",
    )
    assert first.id is not None and second.id is not None and first.id < second.id
    assert [grant.id for grant in await store.grants.listed()] == [first.id, second.id]


async def test_the_sequence_moves_on_add_and_revoke_and_not_on_a_second_revoke(
    store: Store,
) -> None:
    assert await store.grants.sequence() == 0
    made = await store.grants.add(address_grant(), CATALOG, operator="gs-admin", reason="test")
    assert made.id is not None
    assert await store.grants.sequence() == 1
    assert await store.grants.revoke(made.id, operator="gs-admin", reason="test") is True
    assert await store.grants.sequence() == 2
    assert (
        await store.grants.revoke(made.id, operator="gs-admin", reason="test") is False
    )  # revoking twice changes nothing
    assert (
        await store.grants.revoke(made.id + 1000, operator="gs-admin", reason="test") is False
    )  # no such grant
    assert await store.grants.sequence() == 2
    assert await store.grants.in_force() == ([], 2)


async def test_grants_read_with_their_sequence_while_others_are_made(store: Store) -> None:
    """Every read of the grants in force names the sequence they are at, exactly: the
    number of grants made by then, however the reads and the changes interleave."""
    made = 0

    async def make() -> None:
        nonlocal made
        for _ in range(6):
            await store.grants.add(address_grant(), CATALOG, operator="gs-admin", reason="test")
            made += 1

    async def read() -> list[tuple[int, int]]:
        seen = []
        while made < 6:
            # Changes at every attempt may make a read give up (the next reload tries
            # again); what it must never do is name a sequence its grants are not at.
            with contextlib.suppress(GrantsChanging):
                listed, sequence = await store.grants.in_force()
                seen.append((len(listed), sequence))
            await asyncio.sleep(0)
        return seen

    _, seen = await asyncio.gather(make(), read())
    assert all(count == sequence for count, sequence in seen), seen
    listed, sequence = await store.grants.in_force()
    assert (len(listed), sequence) == (6, 6)


async def test_a_revoked_grant_is_kept_but_listed_only_on_request(store: Store) -> None:
    kept = await store.grants.add(address_grant(), CATALOG, operator="gs-admin", reason="test")
    gone = await store.grants.add(
        address_grant(consumer=EDUCATION), CATALOG, operator="gs-admin", reason="test"
    )
    assert kept.id is not None and gone.id is not None
    before = datetime.datetime.now(UTC)
    assert await store.grants.revoke(gone.id, operator="gs-admin", reason="test")
    after = datetime.datetime.now(UTC)
    assert [grant.id for grant in await store.grants.listed()] == [kept.id]
    everything = await store.grants.listed(include_revoked=True)
    assert [grant.id for grant in everything] == [kept.id, gone.id]
    revoked = everything[1]
    assert is_utc(revoked.revoked_at)
    assert revoked.revoked_at is not None and before <= revoked.revoked_at <= after
    assert everything[0].revoked_at is None
    # A revoked grant no longer enters the policy.
    assert {rule.basis for rule in rules_of(everything)} == {f"grant:{kept.id}"}


async def test_a_grant_enters_the_model_as_one_rule_per_item_and_purpose(store: Store) -> None:
    made = await store.grants.add(
        address_grant(
            items=("householdAddress", "phone"),
            purposes=(Purpose.ADMINISTRATIVE_BASIS, Purpose.BUSINESS_COLLABORATION),
            scope="  township=township&gender=gender ",
            valid_until=None,
        ),
        CATALOG,
        operator="gs-admin",
        reason="test",
    )
    [listed] = await store.grants.listed()
    rules = listed.rules()
    assert rules == made.rules()
    assert sorted((rule.obj, rule.purpose) for rule in rules) == [
        ("person.householdAddress", "administrative_basis"),
        ("person.householdAddress", "business_collaboration"),
        ("person.phone", "administrative_basis"),
        ("person.phone", "business_collaboration"),
    ]
    for rule in rules:
        assert rule.subject == ENROLMENT
        assert rule.action == "read_clear"
        assert rule.scope == "gender=gender & township=township"
        assert rule.valid_from == "2026-12-01T00:00:00.123456Z"  # UTC, fixed width
        assert rule.valid_until == ""
        assert rule.basis == f"grant:{made.id}"
    # The rules load beside the admins' rule files. The rule set's version is the files';
    # the grants enter the policy's version through the store's change sequence, which
    # names them exactly (test_policy_source: every grant made or revoked moves it).
    files_only = load_rules(ROOT / "policies", CATALOG)
    with_grant = load_rules(ROOT / "policies", CATALOG, rules)
    assert set(rules) <= set(with_grant.rules)
    assert with_grant.version == files_only.version
    assert with_grant.scopes["person"] == ("gender=gender & township=township",)


def test_rule_times_are_fixed_width_utc_so_text_order_is_time_order() -> None:
    grant = address_grant(
        id=7,
        scope="township=township",
        valid_from=datetime.datetime(2026, 12, 1, 7, 59, 59, tzinfo=BEIJING),
        valid_until=datetime.datetime(2026, 12, 1, 0, 0, 0, 1, tzinfo=UTC),
    )
    [rule] = grant.rules()
    assert rule.valid_from == "2026-11-30T23:59:59.000000Z"
    assert rule.valid_until == "2026-12-01T00:00:00.000001Z"
    assert rule.valid_from < rule.valid_until
    assert rule.basis == "grant:7"
    assert rule.values() == [
        ENROLMENT,
        "person.householdAddress",
        "read_clear",
        "administrative_basis",
        "township=township",
        "2026-11-30T23:59:59.000000Z",
        "2026-12-01T00:00:00.000001Z",
        "grant:7",
    ]


# --- refusals -------------------------------------------------------------------------

NAIVE = datetime.datetime(2026, 12, 1, 8, 0)
AWARE = datetime.datetime(2026, 12, 1, 8, 0, tzinfo=BEIJING)

REFUSALS = [
    pytest.param(
        {"resource_id": "nosuch", "items": ("phone",), "scope": ""},
        "'nosuch.phone' does not name a catalog resource",
        id="unknown-resource",
    ),
    pytest.param(
        {"items": ("shoeSize",)},
        "'shoeSize' is not a data item of 'person'",
        id="unknown-item",
    ),
    pytest.param(
        {"items": ("householdAddress", "annualTaxPaid")},
        "'annualTaxPaid' is not a data item of 'person'",
        id="one-unknown-item-among-good-ones",
    ),
    pytest.param(
        {"resource_id": "tax_registration", "items": ("annualTaxPaid",), "scope": ""},
        "tax_registration.annualTaxPaid is not_shared: no rule can grant it (Art. 4)",
        id="not-shared",
    ),
    pytest.param(
        {"resource_id": "insurance_contribution", "items": ("monthlyWage",), "scope": ""},
        "insurance_contribution.monthlyWage is not_shared",
        id="not-shared-wage",
    ),
    pytest.param(
        {"items": ("name",)},
        "person.name is unconditional: every department has it already",
        id="unconditional",
    ),
    pytest.param(
        {
            "resource_id": "tax_registration",
            "items": ("creditRating",),
            "action": Action.READ_MASKED,
            "scope": "",
        },
        "tax_registration.creditRating has no mask in the catalog",
        id="read-masked-without-mask",
    ),
    pytest.param(
        {"items": ("phone",), "action": Action.READ_MASKED},
        "a read_masked grant covers every row",
        id="read-masked-with-scope",
    ),
    pytest.param(
        {"scope": "postcode=township"},
        "scope names items the resource does not have: postcode",
        id="scope-names-missing-item",
    ),
    pytest.param(
        {"scope": "township"},
        "scope term 'township' is not 'item=attribute'",
        id="malformed-scope",
    ),
    pytest.param(
        {"scope": "township=township & township=industry"},
        "names an item twice",
        id="scope-names-an-item-twice",
    ),
    pytest.param(
        {"consumer": "林州市教育局"},
        "subject '林州市教育局' is not a department code",
        id="consumer-is-a-name",
    ),
    pytest.param(
        {"consumer": EDUCATION[:-1]},
        f"subject '{EDUCATION[:-1]}' is not a department code",
        id="consumer-code-too-short",
    ),
    pytest.param(
        {"consumer": f"{EDUCATION}/School_Enrolment"},
        "is not a department code or '<department code>/<system>'",
        id="consumer-system-malformed",
    ),
    pytest.param(
        {"consumer": "group:social_services"},
        "subject 'group:social_services' is not a department code",
        id="consumer-is-a-group",
    ),
    pytest.param(
        {"consumer": "role:public", "action": Action.READ_MASKED, "items": ("phone",)},
        "subject 'role:public' is not a department code",
        id="consumer-is-the-public",
    ),
    pytest.param(
        {
            "resource_id": "tax_registration",
            "items": ("*",),
            "action": Action.READ_MASKED,
            "scope": "",
        },
        "tax_registration has no masked items",
        id="read-masked-on-a-resource-without-masks",
    ),
    pytest.param(
        {"valid_from": AWARE, "valid_until": AWARE},
        "valid_until must be after valid_from",
        id="empty-window",
    ),
    pytest.param(
        {"valid_from": AWARE, "valid_until": AWARE - datetime.timedelta(days=1)},
        "valid_until must be after valid_from",
        id="window-backwards",
    ),
    pytest.param(
        {
            "valid_from": datetime.datetime(2026, 12, 1, 8, 0, tzinfo=BEIJING),
            "valid_until": datetime.datetime(2026, 12, 1, 0, 0, tzinfo=UTC),
        },
        "valid_until must be after valid_from",
        id="same-instant-in-two-zones",
    ),
    pytest.param(
        {"valid_from": NAIVE, "valid_until": None},
        "validity times need a time zone (e.g. +08:00)",
        id="naive-start",
    ),
    pytest.param(
        {"valid_from": None, "valid_until": NAIVE},
        "validity times need a time zone (e.g. +08:00)",
        id="naive-end",
    ),
    pytest.param(
        {"valid_from": NAIVE, "valid_until": AWARE + datetime.timedelta(days=30)},
        "validity times need a time zone (e.g. +08:00)",
        id="naive-start-aware-end",
    ),
    pytest.param({"items": ()}, "a grant names at least one item", id="no-items"),
    pytest.param({"purposes": ()}, "a grant names at least one item", id="no-purposes"),
]


@pytest.mark.parametrize(("changes", "reason"), REFUSALS)
def test_checked_refuses_with_the_reason(changes: dict[str, Any], reason: str) -> None:
    with pytest.raises(GrantRefused, match=re.escape(reason)):
        checked(address_grant(**changes), CATALOG)


@pytest.mark.parametrize(("changes", "reason"), REFUSALS)
async def test_a_refused_grant_stores_nothing(
    store: Store, changes: dict[str, Any], reason: str
) -> None:
    with pytest.raises(GrantRefused, match=re.escape(reason)):
        await store.grants.add(
            address_grant(**changes), CATALOG, operator="gs-admin", reason="test"
        )
    assert await store.grants.listed(include_revoked=True) == []
    assert await store.grants.sequence() == 0


def test_every_problem_of_a_grant_is_named_once() -> None:
    with pytest.raises(GrantRefused) as refused:
        checked(
            address_grant(
                consumer="教育局",
                resource_id="tax_registration",
                items=("annualTaxPaid",),
                purposes=(Purpose.ADMINISTRATIVE_BASIS, Purpose.WORK_REFERENCE),
                scope="",
                valid_from=NAIVE,
                valid_until=None,
            ),
            CATALOG,
        )
    message = str(refused.value)
    assert message.count("is not_shared") == 1  # two purposes, one reason
    assert "subject '教育局'" in message
    assert "need a time zone" in message
    assert len(message.split("; ")) == 3


# --- the command line -----------------------------------------------------------------


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str


async def cli(store: Store, *arguments: str) -> Ran:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOV_SHARE_")}
    env.update(store.env)
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "policies", *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return Ran(done.returncode, done.stdout, done.stderr)


BY = ("--operator", "gs-admin-07", "--reason", "application 2026-118 approved by 公安局")
"""Who makes a change through the command line, and why: required on every change."""

GRANT = (
    "grant",
    "--consumer",
    ENROLMENT,
    "--resource",
    "person",
    "--items",
    "householdAddress, phone",
    "--action",
    "read_clear",
    "--purpose",
    "administrative_basis",
    "--purpose",
    "business_collaboration",
    "--reference",
    "林公数〔2026〕12号",
    "--scope",
    "township=township",
    "--valid-from",
    "2026-12-01T08:00",
    "--valid-until",
    "2027-03-01T00:00+00:00",
    *BY,
)


async def enrolment_key(store: Store, **attributes: str) -> str:
    """The enrolment system's key, which a grant's consumer and scope are checked with."""
    registry = KeyRegistry(store.engine, demo=False)
    system = ("林州市教育局", "school-enrolment", "义务教育招生入学系统")
    return await registry.register(
        EDUCATION, *system, attributes or {"township": "开元街道"}, operator="test"
    )


async def test_the_command_line_grants_lists_refuses_and_revokes(store: Store) -> None:
    await enrolment_key(store)
    made = await cli(store, *GRANT)
    assert (made.code, made.out, made.err) == (0, "grant 1 recorded\n", "")
    # A time without a zone is Asia/Shanghai; the store keeps the instant in UTC.
    [stored] = await store.grants.listed()
    assert stored.valid_from == datetime.datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
    assert stored.valid_until == datetime.datetime(2027, 3, 1, 0, 0, tzinfo=UTC)
    assert stored.items == ("householdAddress", "phone")

    listing = await cli(store, "grants")
    assert listing.code == 0
    [line] = listing.out.splitlines()
    assert line.split("\t") == [
        "1",
        ENROLMENT,
        "person.{householdAddress,phone}",
        "read_clear",
        "administrative_basis,business_collaboration",
        "scope=township=township",
        "2026-12-01T08:00+08:00..2027-03-01T08:00+08:00",  # shown in Asia/Shanghai
        "林公数〔2026〕12号",
    ]

    refused = await cli(
        store,
        "grant",
        "--consumer",
        EDUCATION,
        "--resource",
        "tax_registration",
        "--items",
        "annualTaxPaid",
        "--action",
        "read_clear",
        "--purpose",
        "administrative_basis",
        "--reference",
        "x",
        *BY,
    )
    assert refused.code == 2
    assert refused.out == ""
    assert refused.err.startswith("grant refused: ")
    assert "tax_registration.annualTaxPaid is not_shared" in refused.err
    assert "Traceback" not in refused.err
    assert (await cli(store, "grants", "--all")).out.splitlines() == [line]

    revoked = await cli(store, "revoke", "1", *BY)
    assert (revoked.code, revoked.out) == (0, "grant 1 revoked\n")
    assert (await cli(store, "grants")).out == ""
    [shown] = (await cli(store, "grants", "--all")).out.splitlines()
    assert shown.startswith(line)
    assert re.fullmatch(re.escape(line) + r" revoked \d{4}-\d\d-\d\dT\d\d:\d\d\+08:00", shown), (
        shown
    )
    again = await cli(store, "revoke", "1", *BY)
    assert (again.code, again.out) == (1, "")
    assert "no grant 1 in force" in again.err


async def test_the_command_line_reads_a_zoned_time_as_given(store: Store) -> None:
    await enrolment_key(store)
    arguments = list(GRANT)
    arguments[arguments.index("2026-12-01T08:00")] = "2026-12-01T08:00+00:00"
    assert (await cli(store, *arguments)).code == 0
    [stored] = await store.grants.listed()
    assert stored.valid_from == datetime.datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    [line] = (await cli(store, "grants")).out.splitlines()
    assert "\t2026-12-01T16:00+08:00..2027-03-01T08:00+08:00\t" in line


async def test_the_command_line_refuses_a_malformed_scope(store: Store) -> None:
    await enrolment_key(store)
    arguments = list(GRANT)
    arguments[arguments.index("township=township")] = "township"
    refused = await cli(store, *arguments)
    assert refused.code == 2, refused.err
    assert refused.err.startswith("grant refused: scope term 'township'")
    assert (await cli(store, "grants", "--all")).out == ""


@pytest.mark.parametrize("store", ["postgresql"], indirect=True)  # SQLite has no roles
async def test_the_servers_writer_role_makes_grants_but_cannot_erase_them(store: Store) -> None:
    """On PostgreSQL the server logs in with the writer role only: it follows grants and
    counts verification checks, and since an approved application becomes a grant in
    the approval's transaction (0012_applications), it makes and revokes grants too.
    What it never does is erase one, or rewrite a grant's history."""
    made = await store.grants.add(
        Grant(
            consumer=ENROLMENT,
            resource_id="person",
            items=("phone",),
            action=Action.READ_CLEAR,
            purposes=(Purpose.BUSINESS_COLLABORATION,),
            reference="林公数〔2026〕12号",
        ),
        CATALOG,
        operator="gs-admin",
        reason="test",
    )
    url = store.env["GOV_SHARE_PLATFORM_STORE_URL"]
    role = f"{store.env['GOV_SHARE_AUDIT_ROLE_PREFIX']}_writer"
    writer = create_async_engine(url, connect_args={"server_settings": {"role": role}})
    try:
        as_writer = GrantStore(writer)
        assert [grant.id for grant in await as_writer.listed()] == [made.id]
        quota = VerificationQuota(writer, per_day=2)
        caller = Caller(EDUCATION, "林州市教育局", "school-enrolment")
        assert [await quota.spend(caller) for _ in range(3)] == [True, True, False]
        second = await as_writer.add(
            dataclasses.replace(made, id=None), CATALOG, operator="wangwu", reason="approved"
        )
        assert second.id is not None
        assert await as_writer.revoke(second.id, operator="wangwu", reason="ended early")
        for statement in (
            "DELETE FROM grants",
            "DELETE FROM grant_changes",
            "UPDATE grant_changes SET reason = 'rewritten'",
        ):
            with pytest.raises(DBAPIError, match="permission denied"):
                async with writer.begin() as connection:
                    await connection.exec_driver_sql(statement)
    finally:
        await writer.dispose()


# --- who a grant is for ---------------------------------------------------------------


@pytest.fixture
def here(store: Store, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    """`python -m policies …` in this process, on the store."""
    for name, value in store.env.items():
        monkeypatch.setenv(name, value)

    async def policies(*arguments: str) -> Ran:
        try:
            code = await asyncio.to_thread(main, list(arguments))
        except SystemExit as exit:  # argparse
            code = int(exit.code or 0)
        captured = capsys.readouterr()
        return Ran(code, captured.out, captured.err)

    return policies


def grant_to(consumer: str, *, scope: str = "township=township") -> list[str]:
    arguments = list(GRANT)
    arguments[arguments.index(ENROLMENT)] = consumer
    arguments[arguments.index("township=township")] = scope
    return arguments


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
async def test_a_grant_to_an_unknown_department_is_refused(store: Store, here: Any) -> None:
    unknown = "11410581005000010D/school-enrolment"
    refused = await here(*grant_to(unknown))
    assert refused.code == 2
    assert refused.err == (
        "grant refused: consumer department 11410581005000010D is unknown: the catalog does "
        "not have it and no API key was registered for it (`python -m auth register` first)\n"
    )
    assert await store.grants.listed(include_revoked=True) == []
    # Known by its key, as a consumer-only department is; or by the catalog.
    await enrolment_key(store)
    assert (await here(*grant_to(ENROLMENT))).code == 0
    assert (await here(*grant_to("11410581005000006G", scope=""))).code == 0


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
async def test_a_scope_attribute_no_key_carries_needs_force(store: Store, here: Any) -> None:
    await enrolment_key(store, industry="教育")  # no township
    refused = await here(*grant_to(ENROLMENT))
    assert refused.code == 2
    assert refused.err == (
        f"warning: no API key in force of {ENROLMENT} carries the attribute 'township' that "
        "the scope compares township with, so the grant would cover no rows "
        "(`python -m auth register … --attribute township=…`)\n"
        "grant refused: it would cover no one yet: give --force to record it anyway\n"
    )
    assert await store.grants.listed(include_revoked=True) == []
    forced = await here(*grant_to(ENROLMENT), "--force")
    assert (forced.code, forced.out) == (0, "grant 1 recorded\n")
    assert forced.err.startswith("warning: no API key in force of ")


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
async def test_a_system_without_a_key_needs_force(store: Store, here: Any) -> None:
    await enrolment_key(store)
    other = f"{EDUCATION}/school-transport"
    refused = await here(*grant_to(other, scope=""))
    assert refused.code == 2
    assert refused.err.startswith(
        f"warning: no API key in force is registered for the system {other}\n"
    )
    assert (await here(*grant_to(other, scope=""), "--force")).code == 0


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
@pytest.mark.parametrize("argument", ["--valid-from", "--valid-until"])
async def test_a_malformed_time_names_its_argument_and_the_format(
    store: Store, here: Any, argument: str
) -> None:
    arguments = grant_to(ENROLMENT)
    arguments[arguments.index(argument) + 1] = "2026-13-01"
    refused = await here(*arguments)
    assert refused.code == 2
    assert refused.err.splitlines()[-1] == (
        f"python -m policies grant: error: argument {argument}: expected an ISO 8601 time "
        "such as 2026-12-01T08:00 or 2026-12-01T08:00+08:00 (Asia/Shanghai if no zone is "
        "given), not '2026-13-01'"
    )
    assert "Traceback" not in refused.err


# --- who changed a grant, and why ---------------------------------------------------------


async def test_every_change_keeps_its_operator_and_reason_in_the_history(store: Store) -> None:
    made = await store.grants.add(
        address_grant(), CATALOG, operator=" gs-admin-07 ", reason="公安局 approved 12号"
    )
    assert made.id is not None
    assert await store.grants.revoke(made.id, operator="gs-admin-09", reason="enrolment closed")
    assert not await store.grants.revoke(made.id, operator="gs-admin-09", reason="again")
    granted, revoked = await store.grants.history()
    assert (granted.grant.id, granted.change, granted.operator, granted.reason) == (
        made.id,
        Change.GRANTED,
        "gs-admin-07",
        "公安局 approved 12号",
    )
    assert (revoked.grant.id, revoked.change, revoked.operator, revoked.reason) == (
        made.id,
        Change.REVOKED,
        "gs-admin-09",
        "enrolment closed",
    )
    assert is_utc(granted.changed_at) and granted.changed_at == made.created_at
    assert revoked.changed_at == revoked.grant.revoked_at
    assert granted.changed_at <= revoked.changed_at


@pytest.mark.parametrize(
    ("operator", "reason", "said"),
    [
        ("", "approved", "the operator is named in 1 to 100 characters"),
        ("   ", "approved", "the operator is named in 1 to 100 characters"),
        ("x" * 101, "approved", "the operator is named in 1 to 100 characters"),
        ("gs-admin-07", " ", "the reason is said in 1 to 200 characters"),
        ("gs-admin-07", "y" * 201, "the reason is said in 1 to 200 characters"),
    ],
)
@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
async def test_a_change_without_operator_or_reason_is_refused_and_changes_nothing(
    store: Store, operator: str, reason: str, said: str
) -> None:
    with pytest.raises(GrantRefused, match=said):
        await store.grants.add(address_grant(), CATALOG, operator=operator, reason=reason)
    assert await store.grants.listed(include_revoked=True) == []
    made = await store.grants.add(address_grant(), CATALOG, operator="gs-admin", reason="test")
    assert made.id is not None
    with pytest.raises(GrantRefused, match=said):
        await store.grants.revoke(made.id, operator=operator, reason=reason)
    assert [grant.revoked_at for grant in await store.grants.listed()] == [None]
    assert len(await store.grants.history()) == 1


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
@pytest.mark.parametrize("verb", ["grant", "revoke"])
async def test_the_command_line_requires_operator_and_reason(
    store: Store, here: Any, verb: str
) -> None:
    await enrolment_key(store)
    arguments = [*GRANT[: -len(BY)]] if verb == "grant" else ["revoke", "1"]
    refused = await here(*arguments)
    assert refused.code == 2
    assert refused.err.splitlines()[-1] == (
        f"python -m policies {verb}: error: the following arguments are required: "
        "--operator, --reason"
    )
    blank = await here(*arguments, "--operator", " ", "--reason", "because")
    assert blank.code == 2
    assert blank.err == f"{verb} refused: the operator is named in 1 to 100 characters\n"


async def test_the_history_shows_who_when_what_and_why(store: Store) -> None:
    await enrolment_key(store)
    assert (await cli(store, *GRANT)).code == 0
    assert (
        await cli(store, "revoke", "1", "--operator", "gs-admin-09", "--reason", "closed")
    ).code == 0
    shown = await cli(store, "grants", "--history")
    assert shown.code == 0
    header, granted, revoked = shown.out.splitlines()
    assert header.split() == [
        "changed",
        "(UTC)",
        "Asia/Shanghai",
        "grant",
        "change",
        "operator",
        "reason",
        "what",
    ]
    [history_granted, history_revoked] = await store.grants.history()
    for line, change in ((granted, history_granted), (revoked, history_revoked)):
        utc_text = change.changed_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        local = change.changed_at.astimezone(BEIJING).isoformat(timespec="minutes")
        assert line.startswith(f"{utc_text}  {local}  1      {change.change.value}")
    assert "gs-admin-07  application 2026-118 approved by 公安局" in granted
    assert granted.endswith(
        f"{ENROLMENT} person.{{householdAddress,phone}} read_clear "
        "administrative_basis,business_collaboration"
    )
    assert "revoked  gs-admin-09  closed" in revoked


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
async def test_an_empty_history_says_so(store: Store) -> None:
    shown = await cli(store, "grants", "--history")
    assert (shown.code, shown.out) == (0, "no grant has been made yet\n")


def test_grants_made_before_the_history_was_kept_get_it_without_an_operator(
    tmp_path: Path,
) -> None:
    """0006 gives every older grant its history from its own times, and invents no one."""
    url = f"sqlite:///{tmp_path / 'platform.db'}"
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["url"] = url.replace("sqlite://", "sqlite+aiosqlite://")
    command.upgrade(config, "0005")
    made = datetime.datetime(2026, 11, 1, 1, 0, tzinfo=UTC)
    ended = datetime.datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
    engine = sa.create_engine(url)
    old = {
        "consumer": EDUCATION,
        "resource_id": "person",
        "items": ["phone"],
        "action": "read_clear",
        "purposes": ["work_reference"],
        "reference": "old",
        "created_at": made,
        "changed_at": made,
    }
    with engine.begin() as connection:
        connection.execute(
            grants_table.insert(), [{**old, "revoked_at": ended}, {**old, "revoked_at": None}]
        )
    command.upgrade(config, "head")
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(grant_changes).order_by(grant_changes.c.grant_id, grant_changes.c.id)
        ).all()
    engine.dispose()
    assert [(r.grant_id, r.change, r.operator, r.reason) for r in rows] == [
        (1, "granted", None, None),
        (1, "revoked", None, None),
        (2, "granted", None, None),
    ]
    assert [r.changed_at for r in rows] == [
        made.replace(tzinfo=None),
        ended.replace(tzinfo=None),
        made.replace(tzinfo=None),
    ]


@pytest.mark.parametrize("store", ["postgresql"], indirect=True)  # SQLite has no roles
async def test_the_auditor_role_reads_the_history_and_cannot_write_it(store: Store) -> None:
    await store.grants.add(address_grant(), CATALOG, operator="gs-admin-07", reason="approved")
    url = store.env["GOV_SHARE_PLATFORM_STORE_URL"]
    role = f"{store.env['GOV_SHARE_AUDIT_ROLE_PREFIX']}_auditor"
    auditor = create_async_engine(url, connect_args={"server_settings": {"role": role}})
    try:
        [change] = await GrantStore(auditor).history()
        assert (change.operator, change.reason) == ("gs-admin-07", "approved")
        with pytest.raises(DBAPIError, match="permission denied"):
            async with auditor.begin() as connection:
                await connection.execute(grant_changes.update().values(operator="someone else"))
    finally:
        await auditor.dispose()
