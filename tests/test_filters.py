"""Filters, ordering, counts and keyset pages, in the database, under the same permissions
as reading: a hidden value must not be learnable through `_gt`, `_like`, order or counts."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from catalog import load_catalog
from demo import DemoScale, generate_demo_data
from settings import ROOT, Settings
from tests.conftest import SEED, SOURCES, Gateway, serving
from tests.engines import ENGINES, engine_database

pytestmark = pytest.mark.anyio
SCALE = DemoScale(persons=600, enterprises=240)
CATALOG = load_catalog(ROOT / "catalog" / "departments")


@pytest.fixture(scope="module")
def oracle_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same seed and scale in SQLite, read with plain SQL: what every engine must answer."""
    directory = tmp_path_factory.mktemp("oracle")
    urls = {name: f"sqlite:///{directory / name}.db" for name in SOURCES}
    generate_demo_data(CATALOG.departments, urls, seed=SEED, scale=SCALE)
    return directory


@pytest.fixture
def department_db(oracle_dir: Path) -> Iterator[Any]:
    connections: dict[str, sqlite3.Connection] = {}

    def query(source: str, sql: str, *params: Any) -> list[Any]:
        if source not in connections:
            connections[source] = sqlite3.connect(oracle_dir / f"{source}.db")
        return connections[source].execute(sql, params).fetchall()

    yield query
    for connection in connections.values():
        connection.close()


@pytest.fixture(params=ENGINES)
async def gateway(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Gateway]:
    """Every department in one database of the engine under test, made for this test."""
    async for url in engine_database(request.param, str(tmp_path / "departments.db")):
        urls = dict.fromkeys(SOURCES, url)
        await asyncio.to_thread(
            generate_demo_data, CATALOG.departments, urls, seed=SEED, scale=SCALE
        )
        async with serving(Settings(demo=True, data_dir=tmp_path / "var", sources=urls)) as running:
            yield running


async def data(gateway: Gateway, query: str, **variables: Any) -> Any:
    body = (await gateway.query(query, variables=variables or None)).json()
    assert "errors" not in body, body.get("errors")
    return body["data"]


def names(connection: dict[str, Any], item: str = "creditCode") -> list[Any]:
    return [edge["node"][item] for edge in connection["edges"]]


ENTERPRISES = "query E($w: EnterpriseWhere, $o: [EnterpriseOrderBy!], $n: Int! = 1000) { enterprises(first: $n, where: $w, orderBy: $o) { totalCount edges { node { creditCode name status registeredCapital establishedOn } } } }"


@pytest.mark.parametrize(
    ("where", "sql"),
    [
        ({"status": {"_eq": "注销"}}, "status = '注销'"),
        ({"status": {"_in": ["注销", "吊销"]}}, "status IN ('注销', '吊销')"),
        ({"registeredCapital": {"_gt": "500"}}, "registered_capital > 500"),
        ({"registeredCapital": {"_gte": "500"}}, "registered_capital >= 500"),
        ({"registeredCapital": {"_lt": "100"}}, "registered_capital < 100"),
        ({"registeredCapital": {"_lte": "100"}}, "registered_capital <= 100"),
        (
            {"establishedOn": {"_gte": "2020-01-01", "_lt": "2021-01-01"}},
            "established_on >= '2020-01-01' AND established_on < '2021-01-01'",
        ),
        ({"name": {"_like": "%建筑%"}}, "name LIKE '%建筑%'"),
        ({"name": {"_is_null": True}}, "name IS NULL"),
        (
            {"name": {"_is_null": False}, "status": {"_eq": "存续"}},
            "name IS NOT NULL AND status = '存续'",
        ),
        (
            {"_or": [{"status": {"_eq": "注销"}}, {"registeredCapital": {"_gt": "900"}}]},
            "status = '注销' OR registered_capital > 900",
        ),
        (
            {"_and": [{"status": {"_eq": "存续"}}, {"_not": {"name": {"_like": "%有限公司"}}}]},
            "status = '存续' AND NOT name LIKE '%有限公司'",
        ),
    ],
)
async def test_each_operator_matches_the_database(
    gateway: Gateway, department_db: Any, where: dict[str, Any], sql: str
) -> None:
    expected = [
        row[0]
        for row in department_db(
            "market_regulation",
            f"SELECT credit_code FROM enterprise WHERE {sql} ORDER BY credit_code",
        )
    ]
    result = (await data(gateway, ENTERPRISES, w=where))["enterprises"]
    assert names(result) == expected[:1000]
    assert result["totalCount"] == len(expected)


@pytest.mark.parametrize(
    ("order", "sql"),
    [
        ([{"registeredCapital": "desc"}], "registered_capital DESC, credit_code"),
        ([{"establishedOn": "asc"}, {"name": "desc"}], "established_on, name DESC, credit_code"),
        ([{"status": "asc"}], "status, credit_code"),
    ],
)
async def test_ordering_and_keyset_pages_match_the_database(
    gateway: Gateway, department_db: Any, order: list[dict[str, str]], sql: str
) -> None:
    expected = [
        row[0]
        for row in department_db(
            "market_regulation", f"SELECT credit_code FROM enterprise ORDER BY {sql}"
        )
    ]
    query = "query P($o: [EnterpriseOrderBy!], $a: String) { enterprises(first: 40, orderBy: $o, after: $a) { edges { node { creditCode } } pageInfo { hasNextPage endCursor } } }"
    seen: list[str] = []
    after = None
    while True:
        page = (await data(gateway, query, o=order, a=after))["enterprises"]
        seen += names(page)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == expected


async def test_a_cursor_from_another_ordering_is_refused(gateway: Gateway) -> None:
    query = "query P($o: [EnterpriseOrderBy!], $a: String) { enterprises(first: 2, orderBy: $o, after: $a) { pageInfo { endCursor } } }"
    cursor = (await data(gateway, query, o=[{"name": "asc"}]))["enterprises"]["pageInfo"][
        "endCursor"
    ]
    body = (await gateway.query(query, variables={"o": [{"name": "desc"}], "a": cursor})).json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_CURSOR"


async def test_nested_where_order_and_count_apply_per_parent(
    gateway: Gateway, department_db: Any
) -> None:
    query = """{ persons(first: 50) { edges { node { idNumber
        licences(first: 2, where: {licenceType: {_eq: "居民身份证"}}, orderBy: [{issuedOn: desc}]) {
          totalCount edges { node { licenceNumber issuedOn } } } } } } }"""
    persons = (await data(gateway, query))["persons"]["edges"]
    for edge in persons:
        number = edge["node"]["idNumber"]
        rows = department_db(
            "licence_office",
            "SELECT licence_number FROM licence WHERE holder_id_number = ? AND licence_type = '居民身份证' ORDER BY issued_on DESC, licence_number",
            number,
        )
        licences = edge["node"]["licences"]
        assert names(licences, "licenceNumber") == [row[0] for row in rows][:2]
        assert licences["totalCount"] == len(rows)


async def test_an_unknown_item_or_operator_is_a_validation_error(gateway: Gateway) -> None:
    for where in (
        '{nickname: {_eq: "x"}}',
        '{name: {_regex: "x"}}',
        '{registeredCapital: {_like: "1%"}}',
    ):
        response = await gateway.query(
            f"{{ enterprises(where: {where}) {{ edges {{ node {{ name }} }} }} }}"
        )
        assert response.status_code == 400
        assert response.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    two = await gateway.query(
        "{ enterprises(orderBy: [{name: asc, status: desc}]) { edges { node { name } } } }"
    )
    assert two.status_code == 400


@pytest.mark.parametrize(
    ("argument", "code"),
    [
        ('where: {annualTaxPaid: {_gt: "1000"}}', "NOT_SHARED"),
        ("orderBy: [{annualTaxPaid: desc}]", "NOT_SHARED"),
        ('where: {bankAccount: {_like: "6222%"}}', "NOT_SHARED"),
        ('where: {creditRating: {_eq: "A"}}', "APPLICATION_REQUIRED"),
        ("orderBy: [{creditRating: asc}]", "APPLICATION_REQUIRED"),
    ],
)
async def test_filtering_or_ordering_on_a_withheld_item_is_denied_before_any_read(
    gateway: Gateway, argument: str, code: str
) -> None:
    statements: list[str] = []
    from sqlalchemy import event

    connector = gateway.platform.sources["taxation"].source
    event.listen(connector.sync_engine, "before_cursor_execute", lambda *a: statements.append(a[2]))  # type: ignore[attr-defined]
    body = (
        await gateway.query(
            f"{{ taxRegistrations(first: 5, {argument}) {{ totalCount edges {{ node {{ creditCode }} }} }} }}"
        )
    ).json()
    assert body["data"]["taxRegistrations"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == code
    assert error["extensions"]["field"] == "Query.taxRegistrations"
    assert statements == []


async def test_counts_and_filters_through_a_withheld_relationship_are_denied(
    gateway: Gateway,
) -> None:
    query = "{ enterprises(first: 3) { edges { node { legalRepresentative { name } } } } }"
    body = (await gateway.query(query, system="school-enrolment")).json()
    assert body["errors"][0]["extensions"]["restsOn"] == "Enterprise.legalRepIdNumber"
    query = '{ persons(first: 3) { edges { node { representedEnterprises(where: {status: {_eq: "存续"}}) { totalCount } } } } }'
    body = (await gateway.query(query, system="school-enrolment")).json()
    assert body["errors"][0]["extensions"]["code"] == "APPLICATION_REQUIRED"
    assert all(
        edge["node"]["representedEnterprises"] is None for edge in body["data"]["persons"]["edges"]
    )
