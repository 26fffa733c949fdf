"""Every name the schema is built with comes from one place, and no two are the same.

A catalog whose names collide would otherwise load, and strawberry would merge two
types or a later root field would replace an earlier one without a word. Each test
breaks a copy of the real catalog in one way and checks that the load error names
both places, each with its file.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from graphql import GraphQLInputObjectType, GraphQLObjectType

from catalog import load_catalog, naming
from schema.build import build_schema
from settings import ROOT
from tests.catalog.catalog_edits import (
    CATALOG,
    edit,
    item,
    load_error,
    relationship,
    resource,
)

ENTERPRISE = "resources(enterprise)"
TAX = "resources(tax_registration)"


def test_a_list_field_named_like_the_verification_field_is_refused(catalog_dir: Path) -> None:
    """The defect as found: `Query.verifyEnterprise` silently replaced."""
    edit(catalog_dir, "market_regulation.yaml", resource(list_field="verifyEnterprise"))

    error = load_error(catalog_dir)

    assert str(error).endswith(
        "market_regulation.yaml: resources(enterprise).list_field: root field "
        "'verifyEnterprise' collides with the verification field generated for resource "
        "enterprise (market_regulation.yaml resources(enterprise).type_name)"
    )


def test_a_root_field_of_one_file_colliding_with_another_names_both_files(
    catalog_dir: Path,
) -> None:
    edit(catalog_dir, "taxation.yaml", resource(list_field="verifyPerson"))

    error = load_error(catalog_dir)

    assert error.file.endswith("taxation.yaml")
    assert error.where == f"{TAX}.list_field"
    assert "root field 'verifyPerson'" in error.problem
    assert "public_security.yaml resources(person).type_name" in error.problem


def test_a_generated_name_colliding_with_an_earlier_file_is_blamed_where_it_comes_from(
    catalog_dir: Path,
) -> None:
    """licence_office.yaml is read before market_regulation.yaml."""
    edit(catalog_dir, "licence_office.yaml", resource(list_field="verifyEnterprise"))

    error = load_error(catalog_dir)

    assert error.file.endswith("market_regulation.yaml")
    assert error.where == f"{ENTERPRISE}.type_name"
    assert error.problem == (
        "root field 'verifyEnterprise', the verification field generated for resource "
        "enterprise, collides with the list_field of resource licence "
        "(licence_office.yaml resources(licence).list_field)"
    )


@pytest.mark.parametrize(
    ("suffix", "what"),
    [
        ("Connection", "the connection type"),
        ("Edge", "the edge type"),
        ("Where", "the filter input"),
        ("OrderBy", "the ordering input"),
        ("Claims", "the verification claims input"),
    ],
)
def test_a_type_name_equal_to_a_generated_type_is_refused(
    catalog_dir: Path, suffix: str, what: str
) -> None:
    edit(catalog_dir, "taxation.yaml", resource(type_name=f"Enterprise{suffix}"))

    error = load_error(catalog_dir)

    assert error.file.endswith("taxation.yaml")
    assert error.where == f"{TAX}.type_name"
    assert error.problem == (
        f"type 'Enterprise{suffix}' collides with {what} generated for resource enterprise "
        "(market_regulation.yaml resources(enterprise).type_name)"
    )


def test_two_lookup_fields_generated_alike_are_refused(catalog_dir: Path) -> None:
    """`enterprise` and `Enterprise` are two type names but one lookup field."""
    edit(catalog_dir, "taxation.yaml", resource(type_name="enterprise"))

    error = load_error(catalog_dir)

    assert error.file.endswith("taxation.yaml")
    assert error.where == f"{TAX}.type_name"
    assert "the lookup field generated for resource tax_registration" in error.problem
    assert "the lookup field generated for resource enterprise" in error.problem


@pytest.mark.parametrize(
    "fixed", ["CatalogItem", "CatalogAccess", "StringComparison", "OrderDirection", "ID"]
)
def test_a_type_name_the_platform_uses_is_refused(catalog_dir: Path, fixed: str) -> None:
    edit(catalog_dir, "taxation.yaml", resource(type_name=fixed))

    error = load_error(catalog_dir)

    assert error.where == f"{TAX}.type_name"
    assert error.problem == f"type '{fixed}' collides with a type the platform always has"


def test_a_list_field_named_catalog_is_refused(catalog_dir: Path) -> None:
    edit(catalog_dir, "taxation.yaml", resource(list_field="catalog"))

    error = load_error(catalog_dir)

    assert error.where == f"{TAX}.list_field"
    assert error.problem == "root field 'catalog' collides with the catalog browser's root field"


def test_a_relationship_named_like_an_item_is_refused(catalog_dir: Path) -> None:
    edit(catalog_dir, "taxation.yaml", relationship(0, name="taxpayerName"))

    error = load_error(catalog_dir)

    assert error.file.endswith("taxation.yaml")
    assert error.where == f"{TAX}.relationships(taxpayerName).name"
    assert error.problem == (
        "field 'taxpayerName' of type TaxRegistration collides with data item taxpayerName "
        f"of resource tax_registration (taxation.yaml {TAX}.items(taxpayerName).name)"
    )


def test_two_relationships_of_one_name_are_refused(catalog_dir: Path) -> None:
    def second_link(data: dict[str, object]) -> None:
        links = data["resources"][0]["relationships"]  # type: ignore[index]
        links.append({**links[0], "name_zh": "又一个法定代表人"})

    edit(catalog_dir, "market_regulation.yaml", second_link)

    error = load_error(catalog_dir)

    assert error.where == f"{ENTERPRISE}.relationships(legalRepresentative).name"
    assert "field 'legalRepresentative' of type Enterprise collides with relationship" in (
        error.problem
    )


def test_a_key_item_named_like_the_claims_argument_is_refused(catalog_dir: Path) -> None:
    """`verifyLandParcel(claims: String, claims: LandParcelClaims)` cannot be."""
    edit(catalog_dir, "natural_resources.yaml", item(0, name="claims"))
    edit(catalog_dir, "natural_resources.yaml", resource(key_item="claims"))

    error = load_error(catalog_dir)

    assert error.file.endswith("natural_resources.yaml")
    assert error.where == "resources(land_parcel).key_item"
    assert error.problem == (
        "argument 'claims' of verifyLandParcel collides with the claims argument generated "
        "for resource land_parcel (natural_resources.yaml resources(land_parcel).type_name)"
    )


def test_the_built_schema_has_exactly_the_names_naming_gives() -> None:
    """Nothing in the schema is named outside the naming module."""
    catalog = load_catalog(CATALOG)
    schema = build_schema(catalog, default_first=20)[0]._schema
    assert schema.query_type is not None
    generated: set[str] = set()
    root_fields = set(naming.FIXED_ROOT_FIELDS)
    for each in catalog.resources.values():
        names = each.names
        generated |= {names.type, *(name for name, _ in names.generated_types())}
        root_fields |= {names.list_field, *(name for name, _ in names.generated_root_fields())}
        node, claims = schema.type_map[names.type], schema.type_map[names.claims]
        assert isinstance(node, GraphQLObjectType)
        assert isinstance(claims, GraphQLInputObjectType)
        assert list(node.fields) == [i.name for i in each.items] + [
            r.name for r in each.relationships
        ]
        verify = schema.query_type.fields[names.verify_field]
        assert list(verify.args) == [each.key_item, naming.CLAIMS_ARGUMENT]
    built = {name for name in schema.type_map if not name.startswith("__")}

    assert generated <= built <= generated | set(naming.FIXED_TYPES)
    assert set(schema.query_type.fields) == root_fields


@pytest.mark.parametrize("module", ["naming", "_collisions", "shown", "model"])
def test_the_catalog_domain_imports_no_graphql_library(module: str) -> None:
    """The names live in the catalog room, which knows nothing of GraphQL."""
    tree = ast.parse((ROOT / "catalog" / f"{module}.py").read_text(encoding="utf-8"))
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    roots = {name.split(".")[0] for name in imported}
    assert roots.isdisjoint({"strawberry", "graphql", "resolvers", "policies"}), roots
