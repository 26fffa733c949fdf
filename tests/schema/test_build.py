"""The schema built from the catalog, as a consuming department sees it by introspection."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from catalog import Cardinality, Catalog, Resource, ShareType, load_catalog
from schema.build import build_schema
from settings import ROOT

CATALOG = ROOT / "catalog" / "departments"
SHARE_TYPE_LABELS = {
    ShareType.UNCONDITIONAL: "无条件共享（unconditional）",
    ShareType.CONDITIONAL: "有条件共享（conditional）",
    ShareType.NOT_SHARED: "不予共享（not_shared）",
}

TYPE_REF = "kind name ofType { kind name ofType { kind name ofType { kind name } } }"
INTROSPECTION = f"""
{{
  __schema {{
    types {{
      name
      kind
      fields {{
        name
        description
        type {{ {TYPE_REF} }}
        args {{ name defaultValue type {{ {TYPE_REF} }} }}
      }}
    }}
  }}
}}
"""

Field = dict[str, Any]


def render(ref: dict[str, Any]) -> str:
    """An introspected type reference as SDL: `[EnterpriseEdge!]!`."""
    if ref["kind"] == "NON_NULL":
        return render(ref["ofType"]) + "!"
    if ref["kind"] == "LIST":
        return "[" + render(ref["ofType"]) + "]"
    return str(ref["name"])


def signature(field: Field) -> str:
    """A field as SDL: `enterprises(first: Int! = 20, after: String = null, where: EnterpriseWhere = null, orderBy: [EnterpriseOrderBy!] = null): EnterpriseConnection`."""
    args = ", ".join(
        f"{arg['name']}: {render(arg['type'])}"
        + (f" = {arg['defaultValue']}" if arg["defaultValue"] is not None else "")
        for arg in field["args"]
    )
    name = f"{field['name']}({args})" if args else field["name"]
    return f"{name}: {render(field['type'])}"


def introspect(catalog: Catalog, default_first: int = 20) -> dict[str, dict[str, Field]]:
    """Type name -> field name -> introspected field, for the object types."""
    schema, _ = build_schema(catalog, default_first=default_first)
    result = schema.execute_sync(INTROSPECTION)
    assert result.errors is None
    assert result.data is not None
    return {
        kind["name"]: {field["name"]: field for field in kind["fields"]}
        for kind in result.data["__schema"]["types"]
        if kind["kind"] == "OBJECT" and not kind["name"].startswith("__")
    }


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(CATALOG)


@pytest.fixture(scope="module")
def types(catalog: Catalog) -> dict[str, dict[str, Field]]:
    return introspect(catalog)


def resources() -> list[Resource]:
    return list(load_catalog(CATALOG).resources.values())


def item_fields() -> list[Any]:
    return [
        pytest.param(resource, item.name, id=f"{resource.type_name}.{item.name}")
        for resource in resources()
        for item in resource.items
    ]


@pytest.mark.parametrize(("resource", "name"), item_fields())
def test_every_data_item_is_a_nullable_field(
    types: dict[str, dict[str, Field]], resource: Resource, name: str
) -> None:
    """Policy may withhold any item from someone: a null must never null the parent."""
    field = types[resource.type_name][name]

    assert field["type"]["kind"] != "NON_NULL"
    assert field["args"] == []


def test_each_type_has_exactly_the_catalog_items_and_relationships(
    types: dict[str, dict[str, Field]], catalog: Catalog
) -> None:
    for resource in catalog.resources.values():
        declared = [item.name for item in resource.items]
        declared += [rel.name for rel in resource.relationships]
        assert list(types[resource.type_name]) == declared


@pytest.mark.parametrize(("resource", "name"), item_fields())
def test_each_field_documents_its_catalog_entry(
    types: dict[str, dict[str, Field]], resource: Resource, name: str
) -> None:
    item = resource.item(name)
    description = types[resource.type_name][name]["description"]

    assert item.name_zh in description
    assert SHARE_TYPE_LABELS[item.share_type] in description
    if item.share_type is ShareType.NOT_SHARED:
        assert item.legal_basis is not None
        assert item.legal_basis in description
    if item.share_type is ShareType.CONDITIONAL:
        assert item.conditions is not None
        assert item.conditions in description


def test_a_not_shared_field_cites_its_law(types: dict[str, dict[str, Field]]) -> None:
    description = types["TaxRegistration"]["annualTaxPaid"]["description"]

    assert description.startswith("上年度纳税额（万元）｜不予共享（not_shared）")
    assert "《中华人民共和国税收征收管理法》第八条" in description


def test_query_lists_and_looks_up_every_resource(types: dict[str, dict[str, Field]]) -> None:
    actual = {name: signature(field) for name, field in types["Query"].items()}
    for resource in resources():
        assert resource.list_field in actual and resource.lookup_field in actual
    expected = {
        "persons": "persons(first: Int! = 20, after: String = null, where: PersonWhere = null, orderBy: [PersonOrderBy!] = null): PersonConnection",
        "person": "person(idNumber: String!): Person",
        "enterprises": "enterprises(first: Int! = 20, after: String = null, where: EnterpriseWhere = null, orderBy: [EnterpriseOrderBy!] = null): EnterpriseConnection",
        "enterprise": "enterprise(creditCode: String!): Enterprise",
        "landParcels": "landParcels(first: Int! = 20, after: String = null, where: LandParcelWhere = null, orderBy: [LandParcelOrderBy!] = null): LandParcelConnection",
        "landParcel": "landParcel(parcelCode: String!): LandParcel",
        "licences": "licences(first: Int! = 20, after: String = null, where: LicenceWhere = null, orderBy: [LicenceOrderBy!] = null): LicenceConnection",
        "licence": "licence(licenceNumber: String!): Licence",
        "taxRegistrations": "taxRegistrations(first: Int! = 20, after: String = null, where: TaxRegistrationWhere = null, orderBy: [TaxRegistrationOrderBy!] = null): TaxRegistrationConnection",
        "taxRegistration": "taxRegistration(creditCode: String!): TaxRegistration",
    }
    assert {name: actual[name] for name in expected} == expected


def test_default_first_is_the_configured_page_size(catalog: Catalog) -> None:
    types = introspect(catalog, default_first=7)

    assert signature(types["Query"]["enterprises"]) == (
        "enterprises(first: Int! = 7, after: String = null, where: EnterpriseWhere = null, orderBy: [EnterpriseOrderBy!] = null): EnterpriseConnection"
    )
    assert signature(types["Enterprise"]["landParcels"]) == (
        "landParcels(first: Int! = 7, after: String = null, where: LandParcelWhere = null, orderBy: [LandParcelOrderBy!] = null): LandParcelConnection"
    )


def relationship_fields() -> list[Any]:
    return [
        pytest.param(resource, rel.name, id=f"{resource.type_name}.{rel.name}")
        for resource in resources()
        for rel in resource.relationships
    ]


@pytest.mark.parametrize(("resource", "name"), relationship_fields())
def test_relationships_have_their_cardinality(
    types: dict[str, dict[str, Field]], catalog: Catalog, resource: Resource, name: str
) -> None:
    rel = next(rel for rel in resource.relationships if rel.name == name)
    target = catalog.resource(rel.to_resource).type_name

    if rel.cardinality is Cardinality.ONE:
        expected = f"{name}: {target}"
    else:
        expected = (
            f"{name}(first: Int! = 20, after: String = null, where: {target}Where = null, "
            f"orderBy: [{target}OrderBy!] = null): {target}Connection"
        )
    assert signature(types[resource.type_name][name]) == expected


def test_the_readme_walk_has_the_expected_shapes(types: dict[str, dict[str, Field]]) -> None:
    enterprise = types["Enterprise"]

    assert signature(enterprise["legalRepresentative"]) == "legalRepresentative: Person"
    assert signature(enterprise["taxRegistration"]) == "taxRegistration: TaxRegistration"
    assert signature(enterprise["landParcels"]) == (
        "landParcels(first: Int! = 20, after: String = null, where: LandParcelWhere = null, orderBy: [LandParcelOrderBy!] = null): LandParcelConnection"
    )
    assert signature(types["Person"]["licences"]) == (
        "licences(first: Int! = 20, after: String = null, where: LicenceWhere = null, orderBy: [LicenceOrderBy!] = null): LicenceConnection"
    )


@pytest.mark.parametrize(
    ("type_name", "field", "scalar"),
    [
        ("Enterprise", "name", "String"),  # C
        ("Enterprise", "businessScope", "String"),  # M
        ("LandParcel", "area", "Float"),  # N
        ("Enterprise", "registeredCapital", "Decimal"),  # Y
        ("TaxRegistration", "annualTaxPaid", "Decimal"),  # Y
        ("Licence", "validUntil", "Date"),  # D
    ],
)
def test_catalog_data_types_map_to_scalars(
    types: dict[str, dict[str, Field]], type_name: str, field: str, scalar: str
) -> None:
    assert render(types[type_name][field]["type"]) == scalar


@pytest.mark.parametrize(
    ("letter", "scalar"),
    [
        ("C", "String"),
        ("M", "String"),
        ("N", "Float"),
        ("B", "Float"),
        ("F", "Float"),
        ("I", "Int"),
        ("Y", "Decimal"),
        ("D", "Date"),
        ("T", "DateTime"),
        ("L", "Boolean"),
    ],
)
def test_every_data_type_letter_has_a_scalar(tmp_path: Path, letter: str, scalar: str) -> None:
    shutil.copytree(CATALOG, tmp_path, dirs_exist_ok=True)
    path = tmp_path / "licence_office.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    status = next(item for item in data["resources"][0]["items"] if item["name"] == "status")
    status["data_type"] = letter
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")

    types = introspect(load_catalog(tmp_path))

    assert render(types["Licence"]["status"]["type"]) == scalar


@pytest.mark.parametrize(
    "type_name", ["Person", "Enterprise", "LandParcel", "Licence", "TaxRegistration"]
)
def test_connections_have_the_relay_shape(
    types: dict[str, dict[str, Field]], type_name: str
) -> None:
    connection = types[f"{type_name}Connection"]
    edge = types[f"{type_name}Edge"]

    assert [signature(field) for field in connection.values()] == [
        f"edges: [{type_name}Edge!]!",
        "pageInfo: PageInfo!",
        "totalCount: Int",
    ]
    assert [signature(field) for field in edge.values()] == [
        f"node: {type_name}!",
        "cursor: String!",
    ]


def test_page_info_is_relay_page_info(types: dict[str, dict[str, Field]]) -> None:
    assert [signature(field) for field in types["PageInfo"].values()] == [
        "hasNextPage: Boolean!",
        "hasPreviousPage: Boolean!",
        "startCursor: String",
        "endCursor: String",
    ]


def test_the_sdl_shows_the_relay_shapes(catalog: Catalog) -> None:
    sdl = build_schema(catalog, default_first=20)[0].as_str()

    assert (
        "type EnterpriseConnection {\n  edges: [EnterpriseEdge!]!\n  pageInfo: PageInfo!\n" in sdl
    )
    assert "type EnterpriseEdge {\n  node: Enterprise!\n" in sdl
    assert (
        "  enterprises(first: Int! = 20, after: String = null, where: EnterpriseWhere = null, orderBy: [EnterpriseOrderBy!] = null): EnterpriseConnection\n"
        in sdl
    )
    assert "  enterprise(creditCode: String!): Enterprise\n" in sdl
