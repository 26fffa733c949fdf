"""A catalog mistake stops start-up with the file, the place inside it and the problem.

Each test copies the real catalog into `tmp_path`, breaks one file in one way and
checks that the error points the department's editor at exactly that mistake.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog import load_catalog
from tests.catalog.catalog_edits import (
    CATALOG,
    Mistake,
    add_resource,
    edit,
    item,
    load_error,
    relationship,
    remove,
    resource,
    update,
)

FILES = sorted(path.name for path in CATALOG.glob("*.yaml"))
TAX = "resources[0](tax_registration)"
ANNUAL_TAX_PAID = f"{TAX}.items[6](annualTaxPaid)"

IN_ONE_FILE = {
    "not_shared item without legal_basis": Mistake(
        "taxation.yaml",
        remove("resources", 0, "items", 6, key="legal_basis"),
        (ANNUAL_TAX_PAID,),
        ("not_shared", "legal_basis"),
    ),
    "conditional item without conditions": Mistake(
        "taxation.yaml",
        remove("resources", 0, "items", 5, key="conditions"),
        (f"{TAX}.items[5](creditRating)",),
        ("conditional", "conditions"),
    ),
    "unknown data_type letter": Mistake(
        "taxation.yaml",
        item(6, data_type="G"),
        (f"{ANNUAL_TAX_PAID}.data_type",),
        ("'C'", "'Y'", "'F'"),
    ),
    "unknown share_type": Mistake(
        "taxation.yaml",
        item(6, share_type="sometimes"),
        (f"{ANNUAL_TAX_PAID}.share_type",),
        ("'unconditional'", "'conditional'", "'not_shared'"),
    ),
    "unknown key in an item": Mistake(
        "taxation.yaml",
        item(6, colour="red"),
        (f"{ANNUAL_TAX_PAID}.colour",),
        ("Extra inputs are not permitted",),
    ),
    "bad GraphQL name": Mistake(
        "taxation.yaml",
        item(6, name="id-number"),
        (f"{TAX}.items[6](id-number).name",),
        ("pattern",),
    ),
    "bad column name": Mistake(
        "taxation.yaml",
        item(6, column="Annual Tax"),
        (f"{ANNUAL_TAX_PAID}.column",),
        ("pattern",),
    ),
    "duplicate item names": Mistake(
        "taxation.yaml",
        item(1, name="creditCode"),
        (TAX,),
        ("repeated", "creditCode"),
    ),
    "relationship from an unknown item": Mistake(
        "taxation.yaml",
        relationship(0, from_item="taxNumber"),
        (TAX,),
        ("from_item 'taxNumber' is not a data item",),
    ),
    "key_item not an item": Mistake(
        "taxation.yaml",
        resource(key_item="taxNumber"),
        (TAX,),
        ("key_item 'taxNumber' is not a data item",),
    ),
    "subject item not an item": Mistake(
        "taxation.yaml",
        resource(subject_items=["taxNumber"]),
        (TAX,),
        ("subject_items 'taxNumber' is not a data item",),
    ),
    "conditional key_item": Mistake(
        "taxation.yaml",
        resource(key_item="creditRating"),
        (TAX,),
        ("'creditRating'", "unconditional"),
    ),
    "not_shared key_item": Mistake(
        "taxation.yaml",
        resource(key_item="annualTaxPaid"),
        (TAX,),
        ("'annualTaxPaid'", "unconditional"),
    ),
    "subject item that does not say whom it identifies": Mistake(
        "taxation.yaml",
        remove("resources", 0, "items", 0, key="identifies"),
        (TAX,),
        ("subject item 'creditCode' must declare whom it identifies",),
    ),
    "an identifier of an unknown kind of subject": Mistake(
        "taxation.yaml",
        item(0, identifies="household"),
        (f"{TAX}.items[0](creditCode).identifies",),
        ("'person' or 'enterprise'",),
    ),
    "conditional subject item": Mistake(
        "taxation.yaml",
        resource(subject_items=["creditCode", "creditRating"]),
        (TAX,),
        ("'creditRating'", "unconditional"),
    ),
    "conditional basic item of a basic resource (Art. 5)": Mistake(
        "public_security.yaml",
        item(1, share_type="conditional", conditions="限行政依据用途。"),
        ("resources[0](person)",),
        ("basic item 'name'", "Art. 5"),
    ),
    "an api block naming a column no item has": Mistake(
        "public_security.yaml",
        resource(api={"path": "/persons", "fields": {"mobile": "phone"}}),
        ("resources[0](person)",),
        ("api: 'mobile' is not the column of a data item",),
    ),
    "an api ordering without the key column": Mistake(
        "public_security.yaml",
        resource(api={"path": "/persons", "ordering": {"parameter": "sort", "columns": ["name"]}}),
        ("resources[0](person)",),
        ("the key column 'id_number' is missing",),
    ),
    "an api lookup that does not say where its keys go": Mistake(
        "public_security.yaml",
        resource(api={"path": "/persons", "lookups": [{"column": "id_number", "batch": "query"}]}),
        ("resources[0](person).api.lookups[0]",),
        ("names the parameter that carries its keys",),
    ),
    "an api filter on an operator the platform has not": Mistake(
        "public_security.yaml",
        resource(
            api={"path": "/persons", "filters": [{"column": "name", "parameters": {"ne": "x"}}]}
        ),
        ("resources[0](person).api.filters[0].parameters.ne",),
        ("Input should be 'eq', 'in'",),
    ),
    "a remote block naming a column no item has": Mistake(
        "public_security.yaml",
        resource(remote={"list_field": "persons", "type_name": "Person", "fields": {"x": "y"}}),
        ("resources[0](person)",),
        ("remote.fields: 'x' is not the column of a data item",),
    ),
    "an api block and a remote block on one resource": Mistake(
        "public_security.yaml",
        resource(api={"path": "/persons"}, remote={"list_field": "persons", "type_name": "Person"}),
        ("resources[0](person)",),
        ("a resource has one source",),
    ),
    "a remote list field that is not a GraphQL name": Mistake(
        "public_security.yaml",
        resource(remote={"list_field": "persons { secret }", "type_name": "Person"}),
        ("resources[0](person).remote.list_field",),
        ("String should match pattern",),
    ),
    "no responsible_person (Art. 15)": Mistake(
        "taxation.yaml",
        remove("department", key="responsible_person"),
        ("department.responsible_person",),
        ("Field required",),
    ),
}


@pytest.mark.parametrize("mistake", IN_ONE_FILE.values(), ids=IN_ONE_FILE.keys())
def test_a_mistake_inside_one_file_is_reported_where_it_is(
    catalog_dir: Path, mistake: Mistake
) -> None:
    edit(catalog_dir, mistake.file, mistake.mutate)
    mistake.check(load_error(catalog_dir))


ACROSS_FILES = {
    "an identifier joined to one that names another kind of subject": Mistake(
        "human_resources.yaml",
        item(3, identifies="person"),
        ("(insurance_contribution)", "relationships(employer)"),
        ("'employerCreditCode' identifies person", "enterprise.creditCode identifies enterprise"),
    ),
    "an identifier joined to one that says whom it names, saying nothing": Mistake(
        "human_resources.yaml",
        remove("resources", 0, "items", 3, key="identifies"),
        ("(insurance_contribution)", "relationships(employer)"),
        ("identifies nobody", "declare `identifies` alike"),
    ),
    "an item of a data element that names nobody, where the element names a person": Mistake(
        "taxation.yaml",
        item(1, element="DE00001"),
        ("(tax_registration)", "items(taxpayerName).identifies"),
        ("element DE00001", "identifying person", "nobody here"),
    ),
    "relationship to an unknown resource": Mistake(
        "taxation.yaml",
        relationship(0, to_resource="company"),
        ("(tax_registration)", "relationships(enterprise)"),
        ("to_resource 'company' is not declared",),
    ),
    "relationship to an unknown to_item": Mistake(
        "taxation.yaml",
        relationship(0, to_item="taxNumber"),
        ("(tax_registration)", "relationships(enterprise)"),
        ("to_item 'taxNumber' is not a data item of 'enterprise'",),
    ),
    "type_name declared in two files": Mistake(
        "taxation.yaml",
        resource(type_name="Enterprise"),
        ("(tax_registration)", "type_name"),
        ("'Enterprise'", "collides"),
    ),
    "type_name equal to another's generated Connection": Mistake(
        "taxation.yaml",
        resource(type_name="EnterpriseConnection"),
        ("(tax_registration)", "type_name"),
        ("'EnterpriseConnection'", "collides"),
    ),
    "type_name equal to another's generated Edge": Mistake(
        "taxation.yaml",
        resource(type_name="PersonEdge"),
        ("(tax_registration)", "type_name"),
        ("'PersonEdge'", "collides"),
    ),
    # The licence file is read first, so the later file's generated name is the clash.
    "generated Connection equal to another's type_name": Mistake(
        "licence_office.yaml",
        resource(type_name="TaxRegistrationConnection"),
        ("(tax_registration)", "type_name"),
        ("'TaxRegistrationConnection'", "collides"),
        blamed="taxation.yaml",
    ),
    "reserved type name Query": Mistake(
        "taxation.yaml",
        resource(type_name="Query"),
        ("(tax_registration)", "type_name"),
        ("'Query'", "collides"),
    ),
    "reserved type name PageInfo": Mistake(
        "taxation.yaml",
        resource(type_name="PageInfo"),
        ("(tax_registration)", "type_name"),
        ("'PageInfo'", "collides"),
    ),
    "list_field equal to another's list_field": Mistake(
        "taxation.yaml",
        resource(list_field="enterprises"),
        ("(tax_registration)",),
        ("root field 'enterprises' collides",),
    ),
    "list_field equal to another's lookup field": Mistake(
        "taxation.yaml",
        resource(list_field="enterprise"),
        ("(tax_registration)",),
        ("root field 'enterprise' collides",),
    ),
    "list_field equal to its own lookup field": Mistake(
        "taxation.yaml",
        resource(list_field="taxRegistration"),
        ("(tax_registration)",),
        ("root field 'taxRegistration' collides",),
    ),
    "resource id declared in two files": Mistake(
        "taxation.yaml",
        add_resource("market_regulation.yaml", type_name="Firm", list_field="firms"),
        ("(enterprise)", "id"),
        ("resource id 'enterprise' is declared twice",),
    ),
    "department code declared in two files": Mistake(
        "taxation.yaml",
        update("department", code="114105810050000024"),
        ("department.code",),
        ("114105810050000024", "declared twice"),
    ),
}


@pytest.mark.parametrize("mistake", ACROSS_FILES.values(), ids=ACROSS_FILES.keys())
def test_a_mistake_across_files_is_reported_with_its_file(
    catalog_dir: Path, mistake: Mistake
) -> None:
    edit(catalog_dir, mistake.file, mistake.mutate)
    mistake.check(load_error(catalog_dir))


@pytest.mark.parametrize("list_field", ["enterprises", "enterprise"])
def test_a_colliding_list_field_is_reported_at_list_field(
    catalog_dir: Path, list_field: str
) -> None:
    edit(catalog_dir, "taxation.yaml", resource(list_field=list_field))
    assert load_error(catalog_dir).where.endswith("list_field")


def test_a_duplicate_resource_id_is_blamed_on_the_file_declaring_it_twice(
    catalog_dir: Path,
) -> None:
    edit(
        catalog_dir,
        "taxation.yaml",
        add_resource("taxation.yaml", id="licence", type_name="TaxNotice", list_field="taxNotices"),
    )
    error = load_error(catalog_dir)
    assert error.file.endswith("taxation.yaml"), error
    assert "resource id 'licence' is declared twice" in error.problem


@pytest.mark.parametrize("type_name", ["String", "Boolean", "Date", "Decimal"])
def test_a_type_name_equal_to_a_scalar_is_refused(catalog_dir: Path, type_name: str) -> None:
    edit(catalog_dir, "taxation.yaml", resource(type_name=type_name))
    error = load_error(catalog_dir)
    assert error.file.endswith("taxation.yaml")
    assert "type_name" in error.where
    assert f"'{type_name}'" in error.problem


@pytest.mark.parametrize("word", ["true", "false", "null"])
def test_a_resource_id_graphql_reserves_is_refused(catalog_dir: Path, word: str) -> None:
    edit(catalog_dir, "taxation.yaml", resource(id=word))
    error = load_error(catalog_dir)
    assert error.file.endswith("taxation.yaml")
    assert f"resource id '{word}' is a word GraphQL reserves" in error.problem


def test_invalid_yaml_is_reported_with_its_line(catalog_dir: Path) -> None:
    path = catalog_dir / "taxation.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    broken = next(n for n, line in enumerate(lines) if line.strip().startswith("type_name:"))
    lines[broken] = "    type_name: TaxRegistration: Tax\n"
    path.write_text("".join(lines), encoding="utf-8")

    error = load_error(catalog_dir)

    assert error.file.endswith("taxation.yaml")
    assert error.where == f"line {broken + 1}"
    assert "not valid YAML" in error.problem


def test_a_key_written_twice_is_refused(catalog_dir: Path) -> None:
    path = catalog_dir / "taxation.yaml"
    text = path.read_text(encoding="utf-8")
    marker = "        share_type: not_shared\n        legal_basis: 《中华人民共和国税收征收管理法》第八条："
    assert text.count(marker) == 1
    path.write_text(
        text.replace(marker, "        share_type: unconditional\n" + marker), encoding="utf-8"
    )

    error = load_error(catalog_dir)

    assert error.file.endswith("taxation.yaml")
    assert "share_type" in error.problem


@pytest.mark.parametrize("stray", [[], ["taxation.yml", "README.md"]], ids=["empty", "no-yaml"])
def test_a_directory_without_catalog_files_is_refused(tmp_path: Path, stray: list[str]) -> None:
    for name in stray:
        (tmp_path / name).write_text("department: {}\n", encoding="utf-8")

    error = load_error(tmp_path)

    assert error.file == str(tmp_path)
    assert "*.yaml" in error.problem


def test_the_error_reads_as_the_readme_shows(catalog_dir: Path) -> None:
    edit(catalog_dir, "taxation.yaml", remove("resources", 0, "items", 6, key="legal_basis"))

    assert str(load_error(catalog_dir)).endswith(
        "taxation.yaml: resources[0](tax_registration).items[6](annualTaxPaid): "
        "Value error, a not_shared item must cite its legal_basis (Art. 4)"
    )


def test_a_basic_item_of_a_department_resource_may_be_conditional(catalog_dir: Path) -> None:
    """Art. 5 protects basic items of basic resources only; tax registration is not one."""
    edit(
        catalog_dir,
        "taxation.yaml",
        item(1, share_type="conditional", conditions="限工作参考用途。"),
    )

    taxpayer_name = load_catalog(catalog_dir).resource("tax_registration").item("taxpayerName")

    assert taxpayer_name.kind.value == "basic"
    assert taxpayer_name.share_type.value == "conditional"


def test_the_real_catalog_loads() -> None:
    catalog = load_catalog(CATALOG)

    assert set(catalog.resources) == {
        "person",
        "enterprise",
        "land_parcel",
        "licence",
        "tax_registration",
        "marriage_registration",
        "insurance_contribution",
    }
    assert catalog.provider_of["tax_registration"].department.name == "国家税务总局林州市税务局"


def test_the_version_stays_while_nothing_changes(catalog_dir: Path) -> None:
    """A copy elsewhere has the same version: it depends on names and contents only."""
    assert load_catalog(catalog_dir).version == load_catalog(catalog_dir).version
    assert load_catalog(catalog_dir).version == load_catalog(CATALOG).version


@pytest.mark.parametrize("file", FILES)
def test_the_version_changes_with_any_file(catalog_dir: Path, file: str) -> None:
    before = load_catalog(catalog_dir).version
    with (catalog_dir / file).open("a", encoding="utf-8") as appended:
        appended.write("# reviewed\n")

    assert load_catalog(catalog_dir).version != before
