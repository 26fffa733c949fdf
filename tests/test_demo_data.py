"""The demo databases: valid identifiers, joins that resolve, reproducible runs, any engine."""

from __future__ import annotations

import asyncio
import datetime
import os
import re
import secrets
import socket
import sqlite3
from collections import defaultdict
from collections.abc import Iterator, Mapping
from decimal import ROUND_HALF_UP, Decimal
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Connection, MetaData, Table, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from stdnum.cn import ric, uscc

from catalog import DataItem, DataType, DepartmentCatalog, Resource, ShareType
from demo import DemoScale, generate_demo_data
from demo.dates import REFERENCE_DATE, years_after
from demo.engines import in_transaction
from demo.insurance import BASE_CEILING, BASE_FLOOR, PERSONAL_RATES
from demo.tables import build_table, joined_items

CATALOG_DIR = Path(__file__).resolve().parent.parent / "catalog" / "departments"
SMALL = DemoScale(persons=400, enterprises=120)
TABLES = {
    "civil_affairs": "marriage_registration",
    "human_resources": "insurance_contribution",
    "public_security": "person",
    "market_regulation": "enterprise",
    "natural_resources": "land_parcel",
    "licence_office": "licence",
    "taxation": "tax_registration",
}
CERTIFICATE_PREFIXES = {"结婚登记": "J", "离婚登记": "L", "补发结婚证": "BJ", "补发离婚证": "BL"}
# Region codes by era: 林县 412121 to 1983 and 410521 to 1994, then 林州市 410581.
LINZHOU_CODES = {"412121": (0, 1983), "410521": (1984, 1994), "410581": (1995, 9999)}

Rows = dict[str, list[tuple[object, ...]]]


def load_departments() -> list[DepartmentCatalog]:
    return [
        DepartmentCatalog.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        for path in sorted(CATALOG_DIR.glob("*.yaml"))
    ]


def sqlite_urls(directory: Path, driver: str = "sqlite") -> dict[str, str]:
    return {source: f"{driver}:///{directory / source}.db" for source in TABLES}


def generate(directory: Path, seed: int = 20201, driver: str = "sqlite") -> None:
    directory.mkdir(exist_ok=True)
    generate_demo_data(load_departments(), sqlite_urls(directory, driver), seed=seed, scale=SMALL)


def dump(directory: Path) -> Rows:
    """Every row of every table, in insertion order."""
    rows: Rows = {}
    for source, table in TABLES.items():
        connection = sqlite3.connect(directory / f"{source}.db")
        try:
            rows[table] = connection.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()
        finally:
            connection.close()
    return rows


def read_back(urls: Mapping[str, str]) -> Rows:
    """Every row of every table as SQLAlchemy types it, sorted: engines order differently."""
    departments = load_departments()
    joined = joined_items(departments)
    rows: Rows = {}
    for department in departments:
        metadata = MetaData()
        tables = [build_table(metadata, resource, joined) for resource in department.resources]
        in_transaction(urls[department.source], partial(read_tables, tables, rows))
    return rows


def read_tables(tables: list[Table], rows: Rows, connection: Connection) -> None:
    for table in tables:
        rows[table.name] = sorted(tuple(row) for row in connection.execute(select(table)))


@pytest.fixture(scope="module")
def city_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("city")
    generate(directory)
    return directory


@pytest.fixture(scope="module")
def city(city_dir: Path) -> Iterator[sqlite3.Connection]:
    """All demo databases attached to one connection, so SQL can join across them."""
    connection = sqlite3.connect(":memory:")
    for source in TABLES:
        connection.execute("ATTACH DATABASE ? AS " + source, (str(city_dir / f"{source}.db"),))
    yield connection
    connection.close()


def scalar(city: sqlite3.Connection, sql: str, *params: str) -> Any:
    return city.execute(sql, params).fetchone()[0]


def test_every_table_is_filled(city: sqlite3.Connection) -> None:
    counts = {table: scalar(city, f"SELECT count(*) FROM {table}") for table in TABLES.values()}
    assert counts["person"] == SMALL.persons
    assert counts["enterprise"] == SMALL.enterprises
    assert counts["land_parcel"] == round(SMALL.enterprises * SMALL.parcels_per_enterprise)
    assert counts["tax_registration"] == round(SMALL.enterprises * SMALL.tax_registered_share)
    assert counts["licence"] == pytest.approx(SMALL.persons * SMALL.licences_per_person, rel=0.02)
    assert counts["marriage_registration"] > SMALL.persons / 10
    assert counts["insurance_contribution"] > SMALL.persons / 10
    assert counts["insurance_contribution"] % len(PERSONAL_RATES) == 0


def test_id_numbers_are_valid_and_match_gender_and_birth(city: sqlite3.Connection) -> None:
    rows = city.execute("SELECT id_number, gender, birth_date FROM person").fetchall()
    for id_number, gender, birth_date in rows:
        assert ric.validate(id_number) == id_number
        assert gender == ("男" if int(id_number[16]) % 2 else "女")
        assert birth_date.replace("-", "") == id_number[6:14]


def test_credit_codes_are_valid(city: sqlite3.Connection) -> None:
    codes = city.execute("SELECT credit_code FROM enterprise").fetchall()
    for (code,) in codes:
        assert uscc.validate(code) == code
        assert code.startswith("91410581")


@pytest.mark.parametrize(
    ("table", "column", "validate"),
    [
        ("marriage_registration", "party_a_id_number", ric.validate),
        ("marriage_registration", "party_b_id_number", ric.validate),
        ("insurance_contribution", "person_id_number", ric.validate),
        ("insurance_contribution", "employer_credit_code", uscc.validate),
    ],
)
def test_new_registers_carry_valid_check_digits(
    city: sqlite3.Connection, table: str, column: str, validate: Any
) -> None:
    for (value,) in city.execute(f"SELECT DISTINCT {column} FROM {table}"):
        assert validate(value) == value


@pytest.mark.parametrize(
    "orphans",
    [
        """SELECT count(*) FROM enterprise e LEFT JOIN person p
           ON p.id_number = e.legal_rep_id_number AND p.name = e.legal_rep_name
           WHERE p.id_number IS NULL""",
        """SELECT count(*) FROM land_parcel l LEFT JOIN enterprise e
           ON e.credit_code = l.holder_credit_code AND e.name = l.holder_name
           WHERE e.credit_code IS NULL""",
        """SELECT count(*) FROM licence l LEFT JOIN person p
           ON p.id_number = l.holder_id_number AND p.name = l.holder_name
           WHERE p.id_number IS NULL""",
        """SELECT count(*) FROM tax_registration t LEFT JOIN enterprise e
           ON e.credit_code = t.credit_code AND e.name = t.taxpayer_name
           WHERE e.credit_code IS NULL""",
        """SELECT count(*) FROM marriage_registration m LEFT JOIN person p
           ON p.id_number = m.party_a_id_number AND p.name = m.party_a_name
           WHERE p.id_number IS NULL""",
        """SELECT count(*) FROM marriage_registration m LEFT JOIN person p
           ON p.id_number = m.party_b_id_number AND p.name = m.party_b_name
           WHERE p.id_number IS NULL""",
        """SELECT count(*) FROM insurance_contribution i LEFT JOIN person p
           ON p.id_number = i.person_id_number AND p.name = i.person_name
           WHERE p.id_number IS NULL""",
        """SELECT count(*) FROM insurance_contribution i LEFT JOIN enterprise e
           ON e.credit_code = i.employer_credit_code WHERE e.credit_code IS NULL""",
    ],
    ids=[
        "legal representative",
        "parcel holder",
        "licence holder",
        "taxpayer",
        "party A",
        "party B",
        "insured person",
        "employer",
    ],
)
def test_references_resolve_across_departments(city: sqlite3.Connection, orphans: str) -> None:
    assert scalar(city, orphans) == 0


def test_some_person_represents_several_enterprises(city: sqlite3.Connection) -> None:
    most = """SELECT max(n) FROM
              (SELECT count(*) AS n FROM enterprise GROUP BY legal_rep_id_number)"""
    assert scalar(city, most) >= 2


def test_first_enterprise_shows_every_relationship(city: sqlite3.Connection) -> None:
    code, rep = city.execute(
        "SELECT credit_code, legal_rep_id_number FROM enterprise ORDER BY rowid LIMIT 1"
    ).fetchone()
    assert scalar(city, "SELECT count(*) FROM licence WHERE holder_id_number = ?", rep)
    assert scalar(city, "SELECT count(*) FROM land_parcel WHERE holder_credit_code = ?", code)
    assert scalar(city, "SELECT count(*) FROM tax_registration WHERE credit_code = ?", code)
    assert scalar(
        city, "SELECT count(*) FROM insurance_contribution WHERE employer_credit_code = ?", code
    )
    assert scalar(
        city, "SELECT count(*) FROM insurance_contribution WHERE person_id_number = ?", rep
    )
    assert scalar(
        city,
        """SELECT count(*) FROM marriage_registration
           WHERE ? IN (party_a_id_number, party_b_id_number)""",
        rep,
    )


@pytest.mark.parametrize(
    "impossible",
    [
        "SELECT count(*) FROM licence WHERE valid_until <= issued_on",
        """SELECT count(*) FROM licence l JOIN person p ON p.id_number = l.holder_id_number
           WHERE l.issued_on < p.birth_date""",
        """SELECT count(*) FROM enterprise e JOIN person p ON p.id_number = e.legal_rep_id_number
           WHERE e.established_on < date(p.birth_date, '+18 years')""",
        """SELECT count(*) FROM land_parcel l JOIN enterprise e
           ON e.credit_code = l.holder_credit_code WHERE l.registered_on < e.established_on""",
        """SELECT count(*) FROM tax_registration t JOIN enterprise e USING (credit_code)
           WHERE t.registered_on < e.established_on""",
        "SELECT count(*) FROM tax_registration WHERE length(bank_account) != 19",
        "SELECT count(*) FROM land_parcel WHERE boundary_wkt NOT LIKE 'POLYGON((%))'",
        "SELECT count(*) FROM person WHERE birth_date > '2026-01-01'",
        "SELECT count(*) FROM marriage_registration WHERE registered_on >= '2026-01-01'",
    ],
)
def test_dates_and_formats_are_plausible(city: sqlite3.Connection, impossible: str) -> None:
    assert scalar(city, impossible) == 0


def test_marriages_join_a_man_and_a_woman_of_legal_age(city: sqlite3.Connection) -> None:
    """男方 at least 22, 女方 at least 20 on the day (民法典 第一千零四十七条)."""
    unlawful = """
        SELECT count(*) FROM marriage_registration m
        JOIN person a ON a.id_number = m.party_a_id_number
        JOIN person b ON b.id_number = m.party_b_id_number
        WHERE a.gender != '男' OR b.gender != '女'
           OR m.registered_on < date(a.birth_date, '+22 years')
           OR m.registered_on < date(b.birth_date, '+20 years')"""
    assert scalar(city, unlawful) == 0


def test_every_later_registration_follows_the_couples_marriage(city: sqlite3.Connection) -> None:
    orphans = """
        SELECT count(*) FROM marriage_registration r
        WHERE r.registration_type != '结婚登记' AND NOT EXISTS (
            SELECT 1 FROM marriage_registration m
            WHERE m.registration_type = CASE r.registration_type
                WHEN '补发离婚证' THEN '离婚登记' ELSE '结婚登记' END
              AND m.party_a_id_number = r.party_a_id_number
              AND m.party_b_id_number = r.party_b_id_number
              AND m.registered_on < r.registered_on)"""
    assert scalar(city, orphans) == 0
    kinds = {row[0] for row in city.execute("SELECT registration_type FROM marriage_registration")}
    assert {"结婚登记", "离婚登记"} <= kinds <= set(CERTIFICATE_PREFIXES)


def test_nobody_is_married_twice_at_once(city: sqlite3.Connection) -> None:
    most = """
        SELECT max(n) FROM (
            SELECT sum(CASE registration_type WHEN '结婚登记' THEN 1
                       WHEN '离婚登记' THEN -1 ELSE 0 END) AS n
            FROM (SELECT party_a_id_number AS party, registration_type FROM marriage_registration
                  UNION ALL
                  SELECT party_b_id_number, registration_type FROM marriage_registration)
            GROUP BY party)"""
    assert scalar(city, most) == 1


def test_certificate_numbers_follow_type_and_date(city: sqlite3.Connection) -> None:
    """Certificate numbers run per kind and year, in date order, as the registry issues
    them (both conditional: the number is as withheld as the date)."""
    rows = city.execute(
        """SELECT registration_type, registered_on, certificate_number
           FROM marriage_registration ORDER BY registered_on, certificate_number"""
    ).fetchall()
    sequences: defaultdict[tuple[str, ...], list[int]] = defaultdict(list)
    for kind, day, certificate in rows:
        match = re.fullmatch(r"([A-Z]{1,2})(\d{6})-(\d{4})-(\d{6})", certificate)
        assert match, certificate
        prefix, region, year, sequence = match.groups()
        assert prefix == CERTIFICATE_PREFIXES[kind]
        assert year == day[:4]
        first, last = LINZHOU_CODES[region]
        assert first <= int(year) <= last
        sequences[prefix, year].append(int(sequence))
    assert all(numbers == list(range(1, len(numbers) + 1)) for numbers in sequences.values())


def test_registration_numbers_are_county_numbers(city: sqlite3.Connection) -> None:
    numbers = [
        row[0] for row in city.execute("SELECT registration_number FROM marriage_registration")
    ]
    assert all(re.fullmatch(r"410581\d{12}", number) for number in numbers)
    assert len(set(numbers)) == len(numbers)


def date_forms(day: datetime.date) -> set[str]:
    """The ways a date is written into a code: 20150317, 2015-03-17, 150317, 2015年03月17日."""
    return {
        f"{day:%Y%m%d}",
        day.isoformat(),
        f"{day:%y%m%d}",
        f"{day:%Y/%m/%d}",
        f"{day:%Y年%m月%d日}",
        f"{day:%d%m%Y}",
        f"{day.year}年{day.month}月{day.day}日",
    }


def test_no_registration_number_carries_its_date(city: sqlite3.Connection) -> None:
    """registeredOn is conditional; the number is the unconditional key."""
    rows = city.execute("SELECT registration_number, registered_on FROM marriage_registration")
    for number, day in rows:
        for form in date_forms(datetime.date.fromisoformat(day)):
            assert form not in number, (number, day)


def test_registration_numbers_do_not_follow_the_date(city: sqlite3.Connection) -> None:
    """A sequence in date order tells which of two couples married first: the ranks of
    the numbers and of the dates are unrelated (Spearman's rho near 0, not 1)."""
    rows = city.execute(
        "SELECT registration_number, registered_on FROM marriage_registration"
    ).fetchall()
    by_number = [day for _, day in sorted(rows)]
    by_date = sorted(by_number)
    date_rank = {day: rank for rank, day in enumerate(by_date)}  # ties take one rank
    ranks = [date_rank[day] for day in by_number]
    n = len(ranks)
    rho = 1 - 6 * sum((i - r) ** 2 for i, r in enumerate(ranks)) / (n * (n * n - 1))
    assert n > 100
    assert abs(rho) < 0.2, rho


def test_the_licence_office_holds_no_marriage_certificates(city: sqlite3.Connection) -> None:
    """Civil affairs shares them, conditionally: a licence repeating one would give every
    department the certificate number, date and office the marriage register withholds."""
    certificates = """SELECT count(*) FROM licence l
                      JOIN marriage_registration m ON m.certificate_number = l.licence_number"""
    kinds = {row[0] for row in city.execute("SELECT DISTINCT licence_type FROM licence")}
    assert kinds.isdisjoint({"结婚证", "离婚证", *CERTIFICATE_PREFIXES})
    assert scalar(city, certificates) == 0


def test_the_licence_office_catalog_says_so() -> None:
    licence_office = next(d for d in load_departments() if d.source == "licence_office")
    assert "婚姻登记证" in licence_office.resources[0].summary


MIN_LENGTH = 6
"""Shorter values (a digit, a rating letter, 已实缴) match by chance, not by encoding."""


def text_forms(item: DataItem, value: object) -> set[str]:
    """How a withheld value could be written into another: dates in every usual way
    but the six-digit one, which random digits contain by chance."""
    if value is None:
        return set()
    if item.data_type is DataType.DATE:
        day = datetime.date.fromisoformat(str(value))
        return {form for form in date_forms(day) if len(form) >= 8}
    text = str(value)
    return {text} if len(text) >= MIN_LENGTH else set()


Record = dict[str, object]


def records(city: sqlite3.Connection, resource: Resource) -> list[Record]:
    columns = ", ".join(item.column for item in resource.items)
    rows = city.execute(f"SELECT {columns} FROM {resource.table}").fetchall()
    return [dict(zip([item.name for item in resource.items], row, strict=True)) for row in rows]


def carried(
    shared: tuple[Resource, Record], withheld: tuple[Resource, Record], skip: set[str]
) -> list[tuple[str, str]]:
    """(shared item, withheld item) pairs where the first's value contains the second's."""
    (source, values), (holder, hidden) = shared, withheld
    found = []
    for item in holder.items:
        if item.share_type is ShareType.UNCONDITIONAL or item.name in skip:
            continue
        for form in text_forms(item, hidden[item.name]):
            for other in source.items:
                value = values[other.name]
                if (
                    other.share_type is ShareType.UNCONDITIONAL
                    and other.name not in skip
                    and value is not None
                    and form in str(value)
                ):
                    found.append((other.name, item.name))
    return found


@pytest.fixture(scope="module")
def catalog_records(city: sqlite3.Connection) -> dict[str, tuple[Resource, list[Record]]]:
    resources = [r for d in load_departments() for r in d.resources]
    return {r.id: (r, records(city, r)) for r in resources}


def test_no_shared_value_carries_a_withheld_value_of_its_record(
    catalog_records: dict[str, tuple[Resource, list[Record]]],
) -> None:
    """What every department reads must not spell out what the catalog withholds."""
    for resource, rows in catalog_records.values():
        for row in rows:
            assert carried((resource, row), (resource, row), set()) == [], (resource.id, row)


def test_no_shared_value_carries_a_withheld_value_of_a_related_record(
    catalog_records: dict[str, tuple[Resource, list[Record]]],
) -> None:
    """Across every relationship of the catalog, both ways; the join items themselves are
    policy's business (a join needs its key clear)."""
    for resource, rows in catalog_records.values():
        for rel in resource.relationships:
            target, targets = catalog_records[rel.to_resource]
            by_key: defaultdict[object, list[Record]] = defaultdict(list)
            for other in targets:
                by_key[other[rel.to_item]].append(other)
            skip = {rel.from_item, rel.to_item}
            for row in rows:
                for other in by_key.get(row[rel.from_item], []):
                    ends = (resource, row), (target, other)
                    assert carried(*ends, skip) == [], (rel.name, row, other)
                    assert carried(*reversed(ends), skip) == [], (rel.name, row, other)


def test_a_tax_rating_does_not_follow_the_registration_date(city: sqlite3.Connection) -> None:
    """creditRating is conditional; registeredOn is not. M for every taxpayer registered
    in the rating year would tell each new taxpayer's rating."""
    rating_year = years_after(REFERENCE_DATE, -1).isoformat()
    ratings = """SELECT count(*), count(DISTINCT credit_rating) FROM tax_registration
                 WHERE registered_on > ?"""
    taxpayers, distinct = city.execute(ratings, (rating_year,)).fetchone()
    assert taxpayers >= 5
    assert distinct > 1


def test_what_a_taxpayer_paid_does_not_follow_the_enterprise_status(
    city: sqlite3.Connection,
) -> None:
    """annualTaxPaid is not shared; an enterprise's status is unconditional."""
    paid = """SELECT count(DISTINCT t.annual_tax_paid) FROM tax_registration t
              JOIN enterprise e USING (credit_code) WHERE e.status = ?"""
    for status in ("存续", "在业", "注销", "吊销"):
        assert scalar(city, paid, status) > 1, status


def test_no_insurance_type_fixes_the_personal_contribution(city: sqlite3.Connection) -> None:
    """personalContribution is conditional; the insurance type is not. An insurance the
    employee pays nothing into would tell every one of its rows."""
    rows = city.execute(
        """SELECT insurance_type, count(DISTINCT personal_contribution)
           FROM insurance_contribution GROUP BY insurance_type"""
    ).fetchall()
    assert rows and all(amounts > 1 for _, amounts in rows), rows


def test_contribution_amounts_follow_the_base(city: sqlite3.Connection) -> None:
    rows = city.execute(
        """SELECT insurance_type, contribution_base, personal_contribution, monthly_wage
           FROM insurance_contribution"""
    ).fetchall()
    assert {row[0] for row in rows} == set(PERSONAL_RATES)
    assert PERSONAL_RATES["城镇职工基本养老保险"] == Decimal("0.08")
    for insurance, base, personal, wage in rows:
        base = Decimal(str(base))
        assert BASE_FLOOR <= base <= BASE_CEILING
        assert Decimal(str(wage)) >= base
        assert Decimal(str(personal)) == (base * PERSONAL_RATES[insurance]).quantize(
            Decimal("0.01"), ROUND_HALF_UP
        )


@pytest.mark.parametrize(
    "inconsistent",
    [
        """SELECT count(*) FROM (
               SELECT 1 FROM insurance_contribution GROUP BY person_id_number, contribution_month
               HAVING count(*) != 3 OR count(DISTINCT insurance_type) != 3
                   OR count(DISTINCT contribution_base) != 1 OR count(DISTINCT monthly_wage) != 1
                   OR count(DISTINCT employer_credit_code) != 1)""",
        """SELECT count(*) FROM (
               SELECT 1 FROM insurance_contribution GROUP BY person_id_number
               HAVING count(DISTINCT contribution_base) != 1
                   OR count(DISTINCT employer_credit_code) != 1)""",
        """SELECT count(*) FROM (
               SELECT 1 FROM insurance_contribution GROUP BY employer_credit_code, contribution_month
               HAVING count(DISTINCT payment_status) != 1)""",
        """SELECT count(*) FROM insurance_contribution i
           JOIN enterprise e ON e.credit_code = i.employer_credit_code
           WHERE e.status NOT IN ('存续', '在业')
              OR substr(e.established_on, 1, 7) > i.contribution_month""",
        """SELECT count(*) FROM insurance_contribution i
           JOIN person p ON p.id_number = i.person_id_number
           WHERE p.birth_date > '2008-01-01' OR p.birth_date <= '1965-01-01'""",
    ],
    ids=[
        "one row per insurance a month",
        "one employer and base per person",
        "one payment status per employer month",
        "active employer",
        "working age",
    ],
)
def test_contributions_are_consistent(city: sqlite3.Connection, inconsistent: str) -> None:
    assert scalar(city, inconsistent) == 0


def test_insured_persons_contribute_several_consecutive_months(city: sqlite3.Connection) -> None:
    """Employees of firms older than the period pay at least three months in a row."""
    spans = city.execute(
        """SELECT count(DISTINCT i.contribution_month),
                  min(i.contribution_month), max(i.contribution_month), min(e.established_on)
           FROM insurance_contribution i JOIN enterprise e ON e.credit_code = i.employer_credit_code
           GROUP BY i.person_id_number"""
    ).fetchall()
    period_start = min(first for _, first, _, _ in spans)
    for months, first, last, established in spans:
        assert months == month_index(last) - month_index(first) + 1
        if established < period_start:
            assert months >= 3


def month_index(month: str) -> int:
    year, number = month.split("-")
    return int(year) * 12 + int(number)


def test_contribution_record_numbers_carry_their_month(city: sqlite3.Connection) -> None:
    rows = city.execute("SELECT record_number, contribution_month FROM insurance_contribution")
    for number, month in rows:
        assert re.fullmatch(r"410581\d{6}\d{7}", number)
        assert number[6:12] == month.replace("-", "")


def test_text_fits_the_declared_lengths(city: sqlite3.Connection) -> None:
    """SQLite ignores VARCHAR lengths; PostgreSQL and MySQL would reject the insert."""
    for department in load_departments():
        for resource in department.resources:
            for item in resource.items:
                if item.data_type is DataType.CHARACTER:
                    longest = f"SELECT max(length({item.column})) FROM {resource.table}"
                    assert scalar(city, longest) <= item.length, (resource.table, item.column)


def test_join_columns_are_indexed(city: sqlite3.Connection) -> None:
    indexed = {
        row[0]
        for source in TABLES
        for row in city.execute(f"SELECT name FROM {source}.sqlite_master WHERE type = 'index'")
    }
    assert {
        "ix_enterprise_legal_rep_id_number",
        "ix_land_parcel_holder_credit_code",
        "ix_licence_holder_id_number",
        "ix_marriage_registration_party_a_id_number",
        "ix_marriage_registration_party_b_id_number",
        "ix_insurance_contribution_person_id_number",
        "ix_insurance_contribution_employer_credit_code",
    } <= indexed


def test_same_seed_gives_identical_rows(tmp_path: Path) -> None:
    generate(tmp_path / "a")
    generate(tmp_path / "b")
    assert dump(tmp_path / "a") == dump(tmp_path / "b")


def test_different_seed_gives_different_rows(tmp_path: Path) -> None:
    generate(tmp_path / "a", seed=1)
    generate(tmp_path / "b", seed=2)
    first, second = dump(tmp_path / "a"), dump(tmp_path / "b")
    assert all(first[table] != second[table] for table in TABLES.values())


def test_rerun_replaces_rather_than_appends(tmp_path: Path) -> None:
    generate(tmp_path)
    once = dump(tmp_path)
    generate(tmp_path)
    assert dump(tmp_path) == once


def test_an_async_url_gets_the_same_rows(tmp_path: Path, city_dir: Path) -> None:
    generate(tmp_path, driver="sqlite+aiosqlite")
    assert dump(tmp_path) == dump(city_dir)


SERVERS = {
    "postgresql": "postgresql+asyncpg://postgres@127.0.0.1:5432/test",
    "mariadb": "mysql+asyncmy://root@127.0.0.1:3306/test",
}
DROP = {
    "postgresql": "DROP DATABASE IF EXISTS {} WITH (FORCE)",
    "mariadb": "DROP DATABASE IF EXISTS {}",
}


@pytest.fixture(params=sorted(SERVERS))
def server_database(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh database on a real server, dropped afterwards. A server that is not
    running skips the test locally and fails it in CI."""
    server = make_url(SERVERS[request.param])
    try:
        socket.create_connection((server.host, server.port), timeout=2).close()
    except OSError as error:
        reason = f"no {request.param} server at {server.host}:{server.port} ({error})"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    name = f"demo_{secrets.token_hex(6)}"
    administer(SERVERS[request.param], f"CREATE DATABASE {name}")
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        administer(SERVERS[request.param], DROP[request.param].format(name))


def administer(url: str, statement: str) -> None:
    """Run one statement outside a transaction: CREATE and DROP DATABASE need that."""

    async def run() -> None:
        engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                await connection.execute(text(statement))
        finally:
            await engine.dispose()

    asyncio.run(run())


def test_a_database_server_gets_the_same_rows(server_database: str, city_dir: Path) -> None:
    """All sources in the URL's own database, default schema; values as SQLite has them."""
    departments = load_departments()
    urls = {department.source: server_database for department in departments}
    generate_demo_data(departments, urls, scale=SMALL)

    on_server = read_back(urls)

    assert all(on_server[table] for table in TABLES.values())
    assert on_server == read_back(sqlite_urls(city_dir))
