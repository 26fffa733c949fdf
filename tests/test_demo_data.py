"""The demo databases: valid identifiers, joins that resolve, and reproducible runs."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from stdnum.cn import ric, uscc

from demo import DemoScale, generate_demo_data
from schema.catalog import DataType, DepartmentCatalog

CATALOG_DIR = Path(__file__).resolve().parent.parent / "schema" / "departments"
SMALL = DemoScale(persons=400, enterprises=120)
TABLES = {
    "public_security": "person",
    "market_regulation": "enterprise",
    "natural_resources": "land_parcel",
    "licence_office": "licence",
    "taxation": "tax_registration",
}

Rows = dict[str, list[tuple[object, ...]]]


def load_departments() -> list[DepartmentCatalog]:
    return [
        DepartmentCatalog.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        for path in sorted(CATALOG_DIR.glob("*.yaml"))
    ]


def generate(directory: Path, seed: int = 20201) -> None:
    directory.mkdir(exist_ok=True)
    departments = load_departments()
    urls = {d.source: f"sqlite:///{directory / d.source}.db" for d in departments}
    generate_demo_data(departments, urls, seed=seed, scale=SMALL)


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


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sqlite3.Connection]:
    """All five demo databases attached to one connection, so SQL can join across them."""
    directory = tmp_path_factory.mktemp("city")
    generate(directory)
    connection = sqlite3.connect(":memory:")
    for source in TABLES:
        connection.execute("ATTACH DATABASE ? AS " + source, (str(directory / f"{source}.db"),))
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
    ],
    ids=["legal representative", "parcel holder", "licence holder", "taxpayer"],
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
    ],
)
def test_dates_and_formats_are_plausible(city: sqlite3.Connection, impossible: str) -> None:
    assert scalar(city, impossible) == 0


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
