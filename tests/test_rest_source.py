"""A REST source through the whole platform: public security's persons served by a
department API on loopback (`tests/department_api.py`, holding the demo's persons),
declared with the README's own `api` block and settings (*Adding a REST source*),
queried through the governed GraphQL path alongside the SQL sources, and compared with
what the API holds."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

import platform_setup
from catalog import HideMiddle, KeepThrough, load_catalog
from connectors import (
    CircuitOptions,
    Connector,
    GuardedConnector,
    MemoryConnector,
    RestConnector,
    RestOptions,
    RetryOptions,
)
from errors import ConfigurationError
from settings import ROOT, Settings
from tests.conftest import SOURCES, Gateway, serving
from tests.department_api import TOKEN, DepartmentApi, person_records
from tests.department_api import serving as api_serving

pytestmark = pytest.mark.anyio

SECTION = (ROOT / "README.md").read_text(encoding="utf-8").split("### Adding a REST source")[1]
SECTION = SECTION.split("\n## ")[0]
API_BLOCK = yaml.safe_load(re.search(r"```yaml\n(.*?)\n```", SECTION, re.S)[1])["api"]  # type: ignore[index]
SOURCE_SETTING = json.loads(re.search(r"```text\n(.*?)\n```", SECTION, re.S)[1])["public_security"]  # type: ignore[index]
PHONE = HideMiddle(keep_start=3, keep_end=4)
ADDRESS = KeepThrough(markers=("街道", "镇", "乡"))
PERSON = "idNumber name birthDate township phone householdAddress"


@pytest.fixture(scope="module")
def records(demo_dir: Path) -> list[dict[str, Any]]:
    with sqlite3.connect(demo_dir / "public_security.db") as connection:
        connection.row_factory = sqlite3.Row
        rows = connection.execute("SELECT * FROM person ORDER BY id_number").fetchall()
    return person_records([dict(row) for row in rows])


@pytest.fixture
def api(records: list[dict[str, Any]]) -> Iterator[DepartmentApi]:
    with api_serving(DepartmentApi(records)) as running:
        yield running


def rest_catalog(catalog_dir: Path, *, kept_in_source: tuple[str, ...] = ()) -> Path:
    """The demo catalog with persons declared as served by the README's API block."""
    path = catalog_dir / "public_security.yaml"
    department = yaml.safe_load(path.read_text(encoding="utf-8"))
    [person] = [r for r in department["resources"] if r["id"] == "person"]
    person["api"] = API_BLOCK
    person["format"] = {"format_class": "service_interface", "format_type": "REST/JSON"}
    for item in person["items"]:
        if item["name"] in kept_in_source:
            item["masked_in_source_only"] = True
    path.write_text(yaml.safe_dump(department, allow_unicode=True, sort_keys=False), "utf-8")
    return catalog_dir


Opened = Callable[..., Any]


@pytest.fixture
async def opened(
    settings: Settings, catalog_dir: Path, api: DepartmentApi
) -> AsyncIterator[Callable[..., Any]]:
    """Open the platform over the REST source with the catalog made by `rest_catalog`."""
    stack: list[Any] = []

    async def open_platform(options: dict[str, Any] | None = None, **catalog: Any) -> Gateway:
        setting = {**SOURCE_SETTING, "url": api.url, "token": TOKEN, **(options or {})}
        sources = {**settings.sources, "public_security": setting}
        changed = settings.model_copy(
            update={"sources": sources, "catalog_dir": rest_catalog(catalog_dir, **catalog)}
        )
        context = serving(changed)
        stack.append(context)
        return await context.__aenter__()

    yield open_platform
    for context in reversed(stack):
        await context.__aexit__(None, None, None)


def served(record: dict[str, Any]) -> dict[str, Any]:
    """A person as the marriage registry is served it: the phone masked, the household
    address clear (its rule grants it)."""
    return {
        "idNumber": record["idNumber"],
        "name": record["name"],
        "birthDate": record["birthDate"],
        "township": record["address"]["township"],
        "phone": PHONE.apply(record["phone"]),
        "householdAddress": record["address"]["household"],
    }


def nodes(body: dict[str, Any], field: str) -> list[dict[str, Any]]:
    return [edge["node"] for edge in body["data"][field]["edges"]]


async def test_persons_are_served_from_the_api_masked_as_the_catalog_says(
    opened: Opened, api: DepartmentApi, records: list[dict[str, Any]]
) -> None:
    gateway = await opened()
    response = await gateway.query(f"{{ persons(first: 5) {{ edges {{ node {{ {PERSON} }} }} }} }}")
    assert response.status_code == 200, response.text
    assert nodes(response.json(), "persons") == [served(r) for r in records[:5]]
    for record in records[:5]:
        assert record["phone"] not in response.text
    assert [dict(seen.query)["sort"] for seen in api.seen] == ["idNumber"]
    assert (await gateway.audit(response))["outcome"] == "served"


async def test_a_query_crosses_a_sql_source_and_the_api_keys_batched(
    opened: Opened, api: DepartmentApi, department_db: Any
) -> None:
    gateway = await opened()
    response = await gateway.query(
        "{ marriageRegistrations(first: 8) { edges { node { registrationNumber partyA { name phone householdAddress } } } } }"
    )
    assert response.status_code == 200, response.text
    registrations = department_db(
        "civil_affairs",
        "SELECT registration_number, party_a_id_number FROM marriage_registration "
        "ORDER BY registration_number LIMIT 8",
    )
    expected = []
    for row in registrations:
        person = served(api.by_id(row["party_a_id_number"]))
        expected.append(
            {
                "registrationNumber": row["registration_number"],
                "partyA": {key: person[key] for key in ("name", "phone", "householdAddress")},
            }
        )
    assert nodes(response.json(), "marriageRegistrations") == expected
    [seen] = api.seen  # every party's key in one call
    assert sorted(dict(seen.query)["ids"].split(",")) == sorted(
        {row["party_a_id_number"] for row in registrations}
    )


async def test_a_declared_filter_is_sent_to_the_api(
    opened: Opened, api: DepartmentApi, records: list[dict[str, Any]]
) -> None:
    gateway = await opened()
    township = records[0]["address"]["township"]
    response = await gateway.query(
        f'{{ persons(first: 4, where: {{township: {{_eq: "{township}"}}}}) {{ edges {{ node {{ {PERSON} }} }} }} }}'
    )
    assert response.status_code == 200, response.text
    inside = [r for r in records if r["address"]["township"] == township]
    assert nodes(response.json(), "persons") == [served(r) for r in inside[:4]]
    assert dict(api.seen[0].query)["township"] == township


@pytest.mark.parametrize(
    ("query", "data", "calls"),
    [
        (
            '{ persons(first: 3, where: {name: {_like: "李%"}}) { edges { node { name } } } }',
            {"persons": None},
            0,
        ),
        # The page is read; the count, which the API does not declare, is refused.
        ("{ persons(first: 3) { totalCount } }", {"persons": {"totalCount": None}}, 1),
    ],
    ids=["undeclared filter", "count"],
)
async def test_what_the_api_does_not_declare_is_refused_not_fetched(
    opened: Opened, api: DepartmentApi, query: str, data: dict[str, Any], calls: int
) -> None:
    gateway = await opened()
    response = await gateway.query(query)
    body = response.json()
    assert [error["extensions"]["code"] for error in body["errors"]] == ["PUSHDOWN_REFUSED"]
    assert body["data"] == data
    assert len(api.seen) == calls
    assert (await gateway.audit(response))["error_codes"] == ["PUSHDOWN_REFUSED"]


async def test_an_item_the_catalog_keeps_masked_in_its_source_is_refused_not_masked_here(
    opened: Opened, api: DepartmentApi, records: list[dict[str, Any]]
) -> None:
    gateway = await opened(kept_in_source=("phone",))
    refused = await gateway.query("{ persons(first: 3) { edges { node { name phone } } } }")
    body = refused.json()
    assert [error["extensions"]["code"] for error in body["errors"]] == ["PUSHDOWN_REFUSED"]
    assert body["data"] == {"persons": None}
    assert api.seen == []
    assert records[0]["phone"][:3] not in refused.text
    # The items it may read unmasked are served as before.
    names = await gateway.query("{ persons(first: 3) { edges { node { name } } } }")
    assert nodes(names.json(), "persons") == [{"name": r["name"]} for r in records[:3]]


async def test_a_slow_api_fails_its_fields_only(opened: Opened, api: DepartmentApi) -> None:
    api.delay_seconds = 1.5
    gateway = await opened({"timeout_seconds": 0.5})
    response = await gateway.query(
        "{ persons(first: 2) { edges { node { name } } } enterprises(first: 2) { edges { node { name } } } }"
    )
    body = response.json()
    assert [error["extensions"] for error in body["errors"]] == [
        {"code": "SOURCE_UNAVAILABLE", "source": "public_security"}
    ]
    assert body["data"]["persons"] is None
    assert len(body["data"]["enterprises"]["edges"]) == 2
    assert api.url not in response.text and TOKEN not in response.text


async def test_a_claim_is_verified_against_the_api_without_serving_the_value(
    opened: Opened, api: DepartmentApi, records: list[dict[str, Any]]
) -> None:
    gateway = await opened()
    person = records[7]
    response = await gateway.query(
        f'{{ same: verifyPerson(idNumber: "{person["idNumber"]}", claims: {{name: "{person["name"]}"}})'
        f' other: verifyPerson(idNumber: "{person["idNumber"]}", claims: {{name: "张伟伟"}}) }}',
        system="tax-admin",
        purpose="data_verification",
    )
    assert response.json()["data"] == {"same": True, "other": False}
    assert [dict(seen.query)["id"] for seen in api.seen] == [person["idNumber"]] * 2
    assert person["name"] not in response.text


async def test_a_resource_of_an_api_source_without_an_api_block_is_refused_with_its_catalog(
    settings: Settings, api: DepartmentApi
) -> None:
    """Served catalogs are checked at start-up and on every reload alike (`_serving`)."""
    catalog = load_catalog(settings.catalog_dir)
    sources: dict[str, Connector] = {name: MemoryConnector(name, {}) for name in SOURCES}
    sources["public_security"] = RestConnector(
        "public_security", RestOptions.model_validate({"url": api.url, "timeout_seconds": 1})
    )
    guarded = {
        name: GuardedConnector(
            source, timeout_seconds=1, circuit=CircuitOptions(), retries=RetryOptions()
        )
        for name, source in sources.items()
    }
    try:
        with pytest.raises(ConfigurationError) as refused:
            platform_setup._serving(settings, guarded)(catalog)
    finally:
        await sources["public_security"].close()
    assert refused.value.where == "resources(person).api"
    assert "source 'public_security' is a REST API" in refused.value.problem


async def test_one_pool_per_source_serves_every_request_and_closes_at_shutdown(
    settings: Settings, catalog_dir: Path, api: DepartmentApi
) -> None:
    sources = {**settings.sources, "public_security": {"url": api.url, "token": TOKEN}}
    changed = settings.model_copy(
        update={"sources": sources, "catalog_dir": rest_catalog(catalog_dir)}
    )
    async with serving(changed) as gateway:
        source = gateway.platform.sources["public_security"].source
        assert isinstance(source, RestConnector)
        for _ in range(3):
            response = await gateway.query("{ persons(first: 2) { edges { node { name } } } }")
            assert response.status_code == 200 and "errors" not in response.json()
    assert len(api.seen) == 3
    assert len({seen.client_port for seen in api.seen}) == 1  # one kept-alive connection
    assert source._client.is_closed
