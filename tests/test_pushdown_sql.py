"""What leaves a department's database, read from the SQL the platform actually sends.

Every statement each source engine executes is captured (with the names of its result
columns), on SQLite and with the population department on PostgreSQL: a withheld
item's column is never named, a masked item's column is named only inside the mask
expression and never comes back as a result column, and a relationship or filter
that rests on a withheld item sends nothing that touches it.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from catalog import HideMiddle, KeepThrough, load_catalog
from connectors.sql import SqlConnector
from connectors.sqlite import SqliteConnector
from demo import DemoScale, generate_demo_data
from settings import ROOT, Settings
from tests.conftest import SEED, SOURCES, Gateway, serving, source_urls
from tests.engines import postgres_database, source_rows
from tests.grants.running import grant_enrolment_addresses
from tests.grants.served import assert_clear_only_in_its_township

pytestmark = pytest.mark.anyio
CATALOG = load_catalog(ROOT / "catalog" / "departments")


def text_mask(resource_id: str, item: str) -> HideMiddle | KeepThrough:
    mask = CATALOG.resources[resource_id].item(item).mask
    assert isinstance(mask, HideMiddle | KeepThrough), mask
    return mask


PHONE = text_mask("person", "phone")
ADDRESS = text_mask("person", "householdAddress")
EDUCATION = "11410581005000008N"


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
async def sources(
    request: pytest.FixtureRequest, demo_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[dict[str, str]]:
    """The shared SQLite demo databases, or a set with the population department
    (public_security) on PostgreSQL."""
    if request.param == "sqlite":
        yield source_urls(demo_dir)
        return
    directory = tmp_path_factory.mktemp("pushdown")
    urls = {name: f"sqlite+aiosqlite:///{directory / name}.db" for name in SOURCES}
    database = postgres_database()
    urls["public_security"] = await anext(database)
    try:
        await asyncio.to_thread(
            generate_demo_data,
            CATALOG.departments,
            urls,
            seed=SEED,
            scale=DemoScale(persons=400, enterprises=150),
        )
        yield urls
    finally:
        await anext(database, None)


@pytest.fixture
async def gateway(sources: dict[str, str], tmp_path: Path) -> AsyncIterator[Gateway]:
    settings = Settings(demo=True, seed=SEED, data_dir=tmp_path, sources=sources)
    async with serving(settings) as running:
        yield running


@dataclass(frozen=True)
class Sent:
    source: str
    sql: str
    columns: tuple[str, ...] | None = None
    """The result columns the database returned (cursor.description); None as sent."""

    def names(self, column: str) -> bool:
        """Whether the statement names `column` as an identifier (quoted or not)."""
        return (
            re.search(rf'(?<![\w"]){re.escape(column)}(?![\w"])|"{re.escape(column)}"', self.sql)
            is not None
        )

    @property
    def is_data_read(self) -> bool:
        """A read of a department table, not the reflection or ping the connector makes."""
        return (
            self.sql.lstrip().upper().startswith("SELECT")
            and _DATA_TABLE.search(self.sql) is not None
        )


_TABLES = "|".join(sorted(resource.table for resource in CATALOG.resources.values()))
_DATA_TABLE = re.compile(rf'\bFROM\s+"?(?:{_TABLES})"?(?![\w"])')


@dataclass
class Recorder:
    """Every statement each source's engine sends, by source name."""

    started: list[Sent] = field(default_factory=list)
    """Every statement, as it was sent (failed ones too)."""
    completed: list[Sent] = field(default_factory=list)
    """Statements that ran, with the result columns the database returned."""

    def statements(self, source: str | None = None) -> list[Sent]:
        return [s for s in self.started if source is None or s.source == source]

    def reads(self, source: str | None = None) -> list[Sent]:
        """Reads of department data that ran, with their result columns."""
        return [
            s for s in self.completed if s.is_data_read and (source is None or s.source == source)
        ]

    def attempted_reads(self, source: str) -> list[Sent]:
        return [s for s in self.statements(source) if s.is_data_read]


@pytest.fixture
def recorder(gateway: Gateway) -> Iterator[Recorder]:
    recording = Recorder()
    attached: list[tuple[sa.Engine, str, Any]] = []
    for name, guarded in gateway.platform.sources.items():
        connector = guarded.source
        assert isinstance(connector, SqliteConnector | SqlConnector), connector
        engine = connector.sync_engine

        def before(_conn: Any, _cursor: Any, statement: str, *_: Any, source: str = name) -> None:
            recording.started.append(Sent(source, statement))

        def after(_conn: Any, cursor: Any, statement: str, *_: Any, source: str = name) -> None:
            described = cursor.description or ()
            recording.completed.append(Sent(source, statement, tuple(d[0] for d in described)))

        for identifier, listener in (
            ("before_cursor_execute", before),
            ("after_cursor_execute", after),
        ):
            event.listen(engine, identifier, listener)
            attached.append((engine, identifier, listener))
    yield recording
    for engine, identifier, listener in attached:
        event.remove(engine, identifier, listener)


async def rows(sources: dict[str, str], source: str, sql: str) -> list[dict[str, Any]]:
    return await source_rows(sources[source], sql)


async def ask(gateway: Gateway, query: str, *, system: str, purpose: str) -> dict[str, Any]:
    response = await gateway.query(query, system=system, purpose=purpose)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def codes(body: dict[str, Any]) -> dict[str, str]:
    return {e["extensions"]["field"]: e["extensions"]["code"] for e in body.get("errors", [])}


def nodes(connection: dict[str, Any]) -> list[dict[str, Any]]:
    return [edge["node"] for edge in connection["edges"]]


_TOKEN = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|[\w.$]+|\S")


def select_lists(sql: str) -> list[list[str]]:
    """The items of every SELECT list in `sql` (outer query and subqueries), each as its
    text: split on commas outside parentheses and CASE … END."""
    tokens = _TOKEN.findall(sql)
    lists = []
    for start, token in enumerate(tokens):
        if token.upper() != "SELECT":
            continue
        items: list[list[str]] = [[]]
        depth = 0
        for part in tokens[start + 1 :]:
            word = part.upper()
            if depth == 0 and (word == "FROM" or part == ")"):
                break
            if part == "(" or word == "CASE":
                depth += 1
            elif part == ")" or word == "END":
                depth -= 1
            if depth == 0 and part == ",":
                items.append([])
            else:
                items[-1].append(part)
        lists.append([" ".join(item) for item in items])
    return lists


# --- (a) withheld items are never selected --------------------------------------------

WITHHELD = """{
  taxRegistrations(first: 30) { edges { node { creditCode taxpayerName creditRating annualTaxPaid bankAccount } } }
  insuranceContributions(first: 30) { edges { node { recordNumber contributionBase personalContribution monthlyWage } } }
  persons(first: 10) { edges { node { idNumber insuranceContributions(first: 3) { edges { node { recordNumber monthlyWage } } } } } }
}"""
WITHHELD_COLUMNS = {
    "taxation": ("annual_tax_paid", "bank_account", "credit_rating"),
    "human_resources": ("monthly_wage", "personal_contribution"),
}


async def test_withheld_items_are_never_selected(gateway: Gateway, recorder: Recorder) -> None:
    body = await ask(gateway, WITHHELD, system="marriage-registry", purpose="administrative_basis")
    assert codes(body) == {
        "TaxRegistration.annualTaxPaid": "NOT_SHARED",
        "TaxRegistration.bankAccount": "NOT_SHARED",
        "TaxRegistration.creditRating": "APPLICATION_REQUIRED",
        "InsuranceContribution.monthlyWage": "NOT_SHARED",
        "InsuranceContribution.personalContribution": "APPLICATION_REQUIRED",
    }
    registrations = nodes(body["data"]["taxRegistrations"])
    assert len(registrations) == 30
    for registration in registrations:
        assert registration["creditCode"] and registration["taxpayerName"]
        assert registration["annualTaxPaid"] is registration["bankAccount"] is None
        assert registration["creditRating"] is None
    contributions = nodes(body["data"]["insuranceContributions"])
    assert contributions and all(c["contributionBase"] is not None for c in contributions)
    assert all(c["monthlyWage"] is c["personalContribution"] is None for c in contributions)

    for source, columns in WITHHELD_COLUMNS.items():
        reads = recorder.reads(source)
        assert reads, f"no statement reached {source}: the capture is not working"
        for sent in recorder.statements(source):
            for column in columns:
                assert not sent.names(column), f"{column} sent to {source}: {sent.sql}"
                assert column not in (sent.columns or ())
    # What was permitted did leave: the capture sees result columns.
    assert any("contribution_base" in (s.columns or ()) for s in recorder.reads("human_resources"))
    assert any("taxpayer_name" in (s.columns or ()) for s in recorder.reads("taxation"))
    # The nested connection (one page per person) was pushed down without the wage too.
    assert any(s.names("person_id_number") for s in recorder.reads("human_resources"))


# --- (b) masked items leave masked ----------------------------------------------------

SCHOOL_PERSONS = (
    "{ persons(first: 200) { edges { node { idNumber name phone householdAddress } } } }"
)
TAX_REPRESENTATIVES = "{ enterprises(first: 100) { edges { node { creditCode legalRepresentative { idNumber phone } } } } }"


@pytest.mark.parametrize(
    ("query", "system", "purpose"),
    [
        pytest.param(SCHOOL_PERSONS, "school-enrolment", "work_reference", id="list"),
        pytest.param(TAX_REPRESENTATIVES, "tax-admin", "administrative_basis", id="batched-join"),
    ],
)
async def test_a_masked_item_is_masked_by_the_database(
    gateway: Gateway,
    recorder: Recorder,
    sources: dict[str, str],
    query: str,
    system: str,
    purpose: str,
) -> None:
    body = await ask(gateway, query, system=system, purpose=purpose)
    assert "errors" not in body, body["errors"]
    source = {
        r["id_number"]: r for r in await rows(sources, "public_security", "SELECT * FROM person")
    }
    if "persons" in body["data"]:
        served = nodes(body["data"]["persons"])
        assert len(served) == 200
    else:
        served = [
            e["legalRepresentative"]
            for e in nodes(body["data"]["enterprises"])
            if e["legalRepresentative"] is not None
        ]
        assert len(served) > 50
    for person in served:
        row = source[person["idNumber"]]
        assert person["phone"] == PHONE.apply(row["phone"]) != row["phone"]
        if "householdAddress" in person:
            assert person["householdAddress"] == ADDRESS.apply(row["household_address"])
            assert person["householdAddress"] != row["household_address"]

    masked: dict[str, tuple[str, ...]] = {"phone": ("_shown_phone",)}
    if "householdAddress" in query:
        masked["household_address"] = ("_shown_household_address",)
    assert_masked_in_the_database(recorder.reads("public_security"), masked)
    # The clear phone never appears in the statement text either (only bound parameters).
    assert not any(re.search(r"1[3-9]\d{9}", s.sql) for s in recorder.statements())


async def test_the_public_reads_a_surname_computed_by_the_database(
    gateway: Gateway, recorder: Recorder, sources: dict[str, str]
) -> None:
    query = "{ enterprises(first: 100) { edges { node { creditCode legalRepName } } } }"
    response = await gateway.query(query, system=None, purpose=None)
    body = response.json()
    assert "errors" not in body, body["errors"]
    source = {
        r["credit_code"]: r["legal_rep_name"]
        for r in await rows(sources, "market_regulation", "SELECT * FROM enterprise")
    }
    served = nodes(body["data"]["enterprises"])
    assert len(served) == 100
    for enterprise in served:
        clear = source[enterprise["creditCode"]]
        assert enterprise["legalRepName"] == clear[0] + "**" != clear
    assert_masked_in_the_database(
        recorder.reads("market_regulation"), {"legal_rep_name": ("_shown_legal_rep_name",)}
    )


async def test_a_scoped_grant_is_computed_clear_only_inside_its_scope(
    gateway: Gateway, recorder: Recorder, sources: dict[str, str]
) -> None:
    await grant_enrolment_addresses(gateway, scope="township=township")
    query = "{ persons(first: 200) { edges { node { idNumber township householdAddress } } } }"
    body = await ask(gateway, query, system="school-enrolment", purpose="administrative_basis")
    assert "errors" not in body, body["errors"]
    source = {
        r["id_number"]: r for r in await rows(sources, "public_security", "SELECT * FROM person")
    }
    assert_clear_only_in_its_township(nodes(body["data"]["persons"]), source, ADDRESS)
    reads = recorder.reads("public_security")
    assert_masked_in_the_database(
        reads,
        {"household_address": ("_shown_household_address", "_outside_household_address")},
    )
    # The clear value is computed only under the scope's condition on the row.
    for sent in reads:
        [clear] = [
            i
            for items in select_lists(sent.sql)
            for i in items
            if i.endswith(" AS _shown_household_address")
        ]
        assert re.search(r"\bWHEN \( ?person\.township = ", clear), clear


def assert_masked_in_the_database(reads: list[Sent], masked: Mapping[str, tuple[str, ...]]) -> None:
    """Each masked column is never a result column and is named only inside the select
    items that compute what may be shown of it (labelled with one of its labels)."""
    assert reads, "no statement reached the source"
    for sent in reads:
        assert sent.columns is not None
        for column, labels in masked.items():
            assert column not in sent.columns, sent.sql
            assert set(labels) <= set(sent.columns), sent.sql
            for items in select_lists(sent.sql):
                for item in items:
                    if not re.search(rf"\b{column}\b", item):
                        continue
                    assert item.upper().startswith("CASE "), f"{column} selected bare: {item}"
                    assert any(re.search(rf"\bAS\s+\"?{label}\"?$", item) for label in labels), item


# --- (c) what rests on a withheld item is not sent --------------------------------------


@dataclass(frozen=True)
class Resting:
    query: str
    system: str
    purpose: str
    errors: dict[str, str]
    untouched: tuple[str, ...]
    """Columns no statement may name."""
    silent: tuple[str, ...] = ()
    """Sources that must receive no data read at all."""
    answered: tuple[str, ...] = ()
    """Sources that must still receive a read (the rest of the query is served)."""


RESTING = [
    pytest.param(
        Resting(
            "{ enterprises(first: 5) { edges { node { name legalRepresentative { name phone } } } } }",
            "school-enrolment",
            "work_reference",
            {"Enterprise.legalRepresentative": "APPLICATION_REQUIRED"},
            untouched=("legal_rep_id_number",),
            silent=("public_security",),
            answered=("market_regulation",),
        ),
        id="relationship-on-a-conditional-item",
    ),
    pytest.param(
        Resting(
            "{ persons(first: 5) { edges { node { name representedEnterprises(first: 3) { edges { node { name } } } } } } }",
            "school-enrolment",
            "work_reference",
            {"Person.representedEnterprises": "APPLICATION_REQUIRED"},
            untouched=("legal_rep_id_number",),
            silent=("market_regulation",),
            answered=("public_security",),
        ),
        id="reverse-relationship-on-a-conditional-item",
    ),
    pytest.param(
        Resting(
            "{ taxRegistrations(first: 5, where: {annualTaxPaid: {_gt: 0}}) { totalCount edges { node { creditCode } } } }",
            "tax-admin",
            "administrative_basis",
            {"Query.taxRegistrations": "NOT_SHARED"},
            untouched=("annual_tax_paid",),
            silent=("taxation",),
        ),
        id="filter-on-a-not-shared-item",
    ),
    pytest.param(
        Resting(
            "{ insuranceContributions(first: 5, orderBy: [{monthlyWage: desc}]) { edges { node { recordNumber } } } persons(first: 2) { edges { node { name } } } }",
            "tax-admin",
            "administrative_basis",
            {"Query.insuranceContributions": "NOT_SHARED"},
            untouched=("monthly_wage",),
            silent=("human_resources",),
            answered=("public_security",),
        ),
        id="order-on-a-not-shared-item",
    ),
    pytest.param(
        Resting(
            '{ enterprises(first: 5, where: {legalRepIdNumber: {_eq: "410581198001010011"}}) { edges { node { name } } } }',
            "school-enrolment",
            "work_reference",
            {"Query.enterprises": "APPLICATION_REQUIRED"},
            untouched=("legal_rep_id_number",),
            silent=("market_regulation",),
        ),
        id="filter-on-a-conditional-item",
    ),
    pytest.param(
        Resting(
            '{ persons(first: 5, where: {phone: {_like: "138%"}}) { totalCount edges { node { name } } } }',
            "school-enrolment",
            "work_reference",
            {"Query.persons": "MASKED_ONLY"},
            untouched=("phone",),
            silent=("public_security",),
        ),
        id="filter-on-a-masked-item",
    ),
    pytest.param(
        Resting(
            "{ enterprises(first: 5) { edges { node { name taxRegistration { creditCode creditRating } insuranceContributions(first: 2, orderBy: [{personalContribution: asc}]) { totalCount } } } } }",
            "school-enrolment",
            "work_reference",
            {
                "TaxRegistration.creditRating": "APPLICATION_REQUIRED",
                "Enterprise.insuranceContributions": "APPLICATION_REQUIRED",
            },
            untouched=("credit_rating", "personal_contribution"),
            silent=("human_resources",),
            answered=("market_regulation", "taxation"),
        ),
        id="nested-order-on-a-conditional-item",
    ),
]


@pytest.mark.parametrize("case", RESTING)
async def test_what_rests_on_a_withheld_item_sends_nothing_that_touches_it(
    gateway: Gateway, recorder: Recorder, case: Resting
) -> None:
    body = await ask(gateway, case.query, system=case.system, purpose=case.purpose)
    assert codes(body) == case.errors
    for sent in recorder.statements():
        for column in case.untouched:
            assert not sent.names(column), f"{column} sent to {sent.source}: {sent.sql}"
            assert column not in (sent.columns or ())
    for source in case.silent:
        asked = recorder.attempted_reads(source)
        assert asked == [], f"{source} was asked: {asked}"
    for source in case.answered:
        assert recorder.reads(source), f"{source} was never asked"


def test_select_lists_split_on_top_level_commas_only() -> None:
    sql = (
        "SELECT person.id_number, CASE WHEN (person.phone IS NULL) THEN NULL ELSE "
        "CASE WHEN (length(person.phone) > ?) THEN substr(person.phone, ?, ?) || ? END END "
        "AS _shown_phone, count(*) AS n FROM (SELECT a, b FROM t) AS anon_1"
    )
    outer, inner = select_lists(sql)
    assert len(outer) == 3
    assert outer[0] == "person.id_number"
    assert outer[1].startswith("CASE WHEN") and outer[1].endswith("AS _shown_phone")
    assert outer[2] == "count ( * ) AS n"
    assert inner == ["a", "b"]
