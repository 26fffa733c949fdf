"""The public's schema holds only what the public may query (Art. 20).

Introspection without a key showed every closed resource, its items, conditions and
legal bases: exactly what the `catalog` query hides from the public. Without a key the
schema now has the resources open to the public, their items the public may read, the
relationships it may follow and the `catalog` field; validation against it suggests no
hidden name. Departments keep the whole schema.
"""

from __future__ import annotations

import datetime
import json
import re
from pathlib import Path
from typing import Any

import pytest
from graphql import get_introspection_query

from catalog import Catalog, ShareType, load_catalog
from policies import SharingPolicy, load_rules
from policies.caller import PUBLIC
from policies.decision import Outcome
from schema.build import build_schema
from settings import ROOT
from tests.catalog.catalog_edits import edit, update
from tests.conftest import Gateway

pytestmark = pytest.mark.anyio

CATALOG = load_catalog(ROOT / "catalog" / "departments")
CLOSED = [r for r in CATALOG.resources.values() if not r.open_to_public]
OPEN = [r for r in CATALOG.resources.values() if r.open_to_public]
TYPE = "query ($name: String!) { __type(name: $name) { name fields { name } } }"


async def ask(gateway: Gateway, query: str, system: str | None, **variables: Any) -> Any:
    purpose = None if system is None else "administrative_basis"
    response = await gateway.query(query, system=system, purpose=purpose, variables=variables)
    return response.json()


async def introspection(gateway: Gateway, system: str | None) -> dict[str, Any]:
    body = await ask(gateway, get_introspection_query(descriptions=True), system)
    assert "errors" not in body, body
    schema: dict[str, Any] = body["data"]["__schema"]
    return schema


def names_in(value: Any) -> set[str]:
    """Every GraphQL name anywhere in the text, descriptions included: `Person.idNumber`
    in a description gives Person and idNumber."""
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", json.dumps(value, ensure_ascii=False)))


def test_the_demo_has_open_and_closed_resources() -> None:
    """Otherwise the tests below could not fail."""
    assert OPEN and CLOSED
    hidden = [i for r in OPEN for i in r.items if i.share_type is not ShareType.UNCONDITIONAL]
    assert hidden


@pytest.mark.parametrize("resource", CLOSED, ids=lambda r: r.type_name)
async def test_the_public_cannot_find_a_closed_resource_by_name(
    gateway: Gateway, resource: Any
) -> None:
    public = await ask(gateway, TYPE, None, name=resource.type_name)
    department = await ask(gateway, TYPE, "tax-admin", name=resource.type_name)

    assert "errors" not in public and public["data"] == {"__type": None}
    assert department["data"]["__type"]["name"] == resource.type_name


async def test_the_public_schema_tells_nothing_the_catalog_hides(gateway: Gateway) -> None:
    schema = await introspection(gateway, None)
    text = json.dumps(schema, ensure_ascii=False)
    names = names_in(schema)

    for resource in CLOSED:
        assert {resource.type_name, *(n for n, _ in resource.names.generated_types())}.isdisjoint(
            names
        ), resource.id
        assert resource.list_field not in names
        assert resource.name_zh not in text and resource.summary not in text
        assert resource.code not in text
    for resource in OPEN:
        assert resource.names.verify_field not in names
        for item in resource.items:
            if item.share_type is not ShareType.UNCONDITIONAL:
                assert item.name not in names, item.name
                assert item.name_zh not in text, item.name_zh
    for resource in CATALOG.resources.values():
        for item in resource.items:
            for said in (item.conditions, item.legal_basis):
                assert said is None or said not in text, said


async def test_the_public_schema_has_what_the_public_may_query(gateway: Gateway) -> None:
    schema = await introspection(gateway, None)
    types = {kind["name"]: kind for kind in schema["types"]}
    root = {field["name"] for field in types["Query"]["fields"]}

    assert root == {"catalog", "myAccess"} | {
        f for r in OPEN for f in (r.list_field, r.lookup_field)
    }
    for resource in OPEN:
        fields = {field["name"] for field in types[resource.type_name]["fields"]}
        readable = {i.name for i in resource.items if i.share_type is ShareType.UNCONDITIONAL}
        assert fields == readable  # no relationship of the demo leads to an open resource
        where = {field["name"] for field in types[resource.names.where]["inputFields"]}
        clear = {i.name for i in resource.items if i.name in readable and i.mask is None}
        assert where == clear | {"_and", "_or", "_not"}


async def test_departments_still_see_the_whole_schema(gateway: Gateway) -> None:
    schema = await introspection(gateway, "marriage-registry")
    types = {kind["name"]: kind for kind in schema["types"]}
    root = {field["name"] for field in types["Query"]["fields"]}

    for resource in CATALOG.resources.values():
        names = resource.names
        assert {names.list_field, names.lookup_field, names.verify_field} <= root
        fields = [field["name"] for field in types[resource.type_name]["fields"]]
        assert fields == [i.name for i in resource.items] + [r.name for r in resource.relationships]
    built = build_schema(CATALOG, default_first=20)[0].execute_sync(
        get_introspection_query(descriptions=True)
    )
    assert built.data is not None
    assert schema == built.data["__schema"]


async def test_a_public_query_of_an_open_resource_works_as_before(gateway: Gateway) -> None:
    body = await ask(
        gateway,
        "{ enterprises(first: 3, orderBy: [{name: asc}]) { totalCount edges { node "
        "{ creditCode name legalRepName } cursor } pageInfo { hasNextPage } } }",
        None,
    )

    assert "errors" not in body, body
    connection = body["data"]["enterprises"]
    assert connection["totalCount"] > 3 and connection["pageInfo"]["hasNextPage"]
    for edge in connection["edges"]:
        assert edge["node"]["legalRepName"].endswith("**")
    lookup = await ask(
        gateway,
        "query ($code: String!) { enterprise(creditCode: $code) { name } }",
        None,
        code=connection["edges"][0]["node"]["creditCode"],
    )
    assert lookup["data"]["enterprise"]["name"] == connection["edges"][0]["node"]["name"]


@pytest.mark.parametrize(
    ("query", "hidden"),
    [
        ("{ enterprises(first: 1) { edges { node { contactPhon } } } }", "contactPhone"),
        ("{ enterprises(first: 1) { edges { node { legalRepIdNumbe } } } }", "legalRepIdNumber"),
        ('{ taxRegistratio(creditCode: "x") { taxpayerName } }', "taxRegistration"),
        ('{ verifyEnterpris(creditCode: "x") }', "verifyEnterprise"),
        ("{ enterprises(first: 1) { edges { node { ... on Perso { name } } } } }", "Person"),
    ],
)
async def test_validation_suggests_no_hidden_name_to_the_public(
    gateway: Gateway, query: str, hidden: str
) -> None:
    public = await ask(gateway, query, None)
    department = await ask(gateway, query, "marriage-registry")

    assert [e["extensions"]["code"] for e in public["errors"]] == ["GRAPHQL_VALIDATION_FAILED"]
    assert hidden not in json.dumps(public)
    assert hidden in json.dumps(department)  # the department's schema does suggest it


async def test_a_document_valid_for_departments_is_not_valid_for_the_public(
    gateway: Gateway,
) -> None:
    """Each schema has its own parse and validation cache: the order of callers does not
    matter."""
    query = "{ persons(first: 1) { edges { node { name } } } }"
    for _ in range(2):
        department = await ask(gateway, query, "marriage-registry")
        public = await ask(gateway, query, None)
        assert "errors" not in department
        assert public["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        assert "data" not in public


def test_the_public_schema_agrees_with_the_policy() -> None:
    """An item is in the public's schema exactly when policy would give it to the public;
    masked for the public, it is a String."""
    policy = SharingPolicy(CATALOG, load_rules(ROOT / "policies", CATALOG))
    now = datetime.datetime.now(datetime.UTC)
    types = public_types(CATALOG)
    for resource in CATALOG.resources.values():
        fields = types.get(resource.type_name, {})
        assert bool(fields) == resource.open_to_public
        for item in resource.items:
            decision = policy.decide(PUBLIC, resource, item, None, now)
            assert (item.name in fields) == decision.allowed, item.name
            if decision.outcome is Outcome.MASKED:
                assert fields[item.name] == "String"


def test_relationships_join_open_resources_on_items_the_public_reads_clear(
    catalog_dir: Path,
) -> None:
    edit(catalog_dir, "natural_resources.yaml", update("resources", 0, open_to_public=True))
    edit(catalog_dir, "public_security.yaml", update("resources", 0, open_to_public=True))
    edit(catalog_dir, "market_regulation.yaml", namesakes)
    catalog = load_catalog(catalog_dir)
    assert "namesakes" in build_schema(catalog, default_first=20)[0].as_str()

    types = public_types(catalog)

    assert types["Enterprise"]["landParcels"] == "LandParcelConnection"  # creditCode both ends
    assert types["LandParcel"]["holder"] == "Enterprise"
    hidden = {
        ("Enterprise", "legalRepresentative"),  # legalRepIdNumber is conditional
        ("Person", "representedEnterprises"),  # so is the other end
        ("Enterprise", "namesakes"),  # legalRepName is masked for the public
        ("Person", "licences"),  # licences are not open to the public
        ("Enterprise", "taxRegistration"),
    }
    assert all(field not in types[kind] for kind, field in hidden)


def namesakes(data: dict[str, Any]) -> None:
    """A relationship joined on an item the public sees masked."""
    data["resources"][0]["relationships"].append(
        {
            "name": "namesakes",
            "name_zh": "同名人员",
            "from_item": "legalRepName",
            "to_resource": "person",
            "to_item": "name",
            "cardinality": "many",
        }
    )


def public_types(catalog: Catalog) -> dict[str, dict[str, str]]:
    schema = build_schema(catalog, default_first=20, public=True)[0]._schema
    return {
        name: {field: str(kind.type) for field, kind in graphql_type.fields.items()}
        for name, graphql_type in schema.type_map.items()
        if hasattr(graphql_type, "fields") and not name.startswith("__")
    }
