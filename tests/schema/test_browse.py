"""The `catalog` root field through the real app: browse as the catalog files say, and
search data items to find who already holds them and how to get them (Art. 9)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from settings import ROOT
from tests.conftest import Gateway
from tests.grants.running import grant_enrolment_addresses

pytestmark = pytest.mark.anyio

CATEGORY = {"basic": "1", "theme": "2", "department": "3"}
RESOURCE = """
  code id nameZh summary catalogClass
  classification { category item heading subheading }
  internalUnit format { formatClass formatType } updateCycle shareMethodClass shareMethods
  openToPublic openConditions releaseDate relatedResources graphqlType listField lookupField keyItem
  provider { code }
  items { name nameZh dataType length kind shareType conditions legalBasis graphqlField }
  relationships { name nameZh fromItem toResource toItem cardinality graphqlField }
"""
BROWSE = f"""{{ catalog {{ version departments {{
  code name nameEn responsiblePerson {{ name title }} resources {{ {RESOURCE} }}
}} }} }}"""
BY_CODE = f"query ($code: String!) {{ catalog {{ resource(code: $code) {{ {RESOURCE} }} }} }}"
SEARCH = """query ($text: String!, $first: Int! = 20) { catalog { search(text: $text, first: $first) {
  match shareType
  provider { code name responsiblePerson { name title } }
  resource { code nameZh }
  item { graphqlField nameZh shareType }
  access { available how advice listField lookupField field conditions purposes legalBasis }
} } }"""
ACCESS = """query ($text: String!) { catalog { search(text: $text) {
  item { graphqlField }
  access { available how outcome scoped outsideScope purpose basis advice listField field
           verifyField conditions purposes legalBasis }
} } }"""


async def catalog(gateway: Gateway, query: str, system: str | None, **variables: Any) -> Any:
    purpose = None if system is None else "administrative_basis"
    response = await gateway.query(query, system=system, purpose=purpose, variables=variables)
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    return body["data"]["catalog"]


async def search(gateway: Gateway, text: str, system: str | None = "marriage-registry") -> Any:
    return (await catalog(gateway, SEARCH, system, text=text))["search"]


async def access_of(
    gateway: Gateway, text: str, field: str, system: str | None, purpose: str | None
) -> dict[str, Any]:
    """How `system`, declaring `purpose`, gets the item `field` found by `text`."""
    response = await gateway.query(ACCESS, system=system, purpose=purpose, variables={"text": text})
    body = response.json()
    assert "errors" not in body, body["errors"]
    found: dict[str, Any] = by_field(body["data"]["catalog"]["search"])[field]["access"]
    return found


def catalog_files() -> list[dict[str, Any]]:
    paths = sorted((ROOT / "catalog" / "departments").glob("*.yaml"))
    return [yaml.safe_load(path.read_text(encoding="utf-8")) for path in paths]


def yaml_item(resource: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": item["name"],
        "nameZh": item["name_zh"],
        "dataType": item["data_type"],
        "length": item["length"],
        "kind": item["kind"],
        "shareType": item["share_type"],
        "conditions": item.get("conditions"),
        "legalBasis": item.get("legal_basis"),
        "graphqlField": f"{resource['type_name']}.{item['name']}",
    }


def yaml_resource(department: dict[str, Any], resource: dict[str, Any]) -> dict[str, Any]:
    return {
        "code": resource["code"],
        "id": resource["id"],
        "nameZh": resource["name_zh"],
        "summary": resource["summary"],
        "catalogClass": resource["catalog_class"],
        "classification": {"category": CATEGORY[resource["catalog_class"]]}
        | resource["classification"],
        "internalUnit": resource.get("internal_unit"),
        "format": {
            "formatClass": resource["format"]["format_class"],
            "formatType": resource["format"]["format_type"],
        },
        "updateCycle": resource["update_cycle"],
        "shareMethodClass": resource.get("share_method_class", "shared_platform"),
        "shareMethods": resource["share_methods"],
        "openToPublic": resource["open_to_public"],
        "openConditions": resource.get("open_conditions"),
        "releaseDate": resource["release_date"].isoformat(),
        "relatedResources": resource.get("related_resources", []),
        "graphqlType": resource["type_name"],
        "listField": resource["list_field"],
        "lookupField": resource["type_name"][0].lower() + resource["type_name"][1:],
        "keyItem": resource["key_item"],
        "provider": {"code": department["code"]},
        "items": [yaml_item(resource, item) for item in resource["items"]],
        "relationships": [
            {
                "name": rel["name"],
                "nameZh": rel["name_zh"],
                "fromItem": rel["from_item"],
                "toResource": rel["to_resource"],
                "toItem": rel["to_item"],
                "cardinality": rel["cardinality"],
                "graphqlField": f"{resource['type_name']}.{rel['name']}",
            }
            for rel in resource.get("relationships", [])
        ],
    }


def yaml_department(file: dict[str, Any]) -> dict[str, Any]:
    department = file["department"]
    return {
        "code": department["code"],
        "name": department["name"],
        "nameEn": department["name_en"],
        "responsiblePerson": department["responsible_person"],
        "resources": [yaml_resource(department, r) for r in file["resources"]],
    }


def by_field(matches: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {match["item"]["graphqlField"]: match for match in matches}


async def test_browse_shows_every_department_and_resource_as_the_files_say(
    gateway: Gateway,
) -> None:
    data = await catalog(gateway, BROWSE, "marriage-registry")
    assert data["version"] == gateway.platform.catalog.version
    assert data["departments"] == [yaml_department(file) for file in catalog_files()]
    public_security = next(d for d in data["departments"] if d["name"] == "林州市公安局")
    assert public_security["responsiblePerson"] == {"name": "王建国", "title": "副局长"}


async def test_one_resource_by_code(gateway: Gateway) -> None:
    file = next(f for f in catalog_files() if f["department"]["name"] == "国家税务总局林州市税务局")
    (resource,) = [r for r in file["resources"] if r["code"] == "30501001/000001"]
    data = await catalog(gateway, BY_CODE, "marriage-registry", code="30501001/000001")
    assert data["resource"] == yaml_resource(file["department"], resource)
    unknown = await catalog(gateway, BY_CODE, "marriage-registry", code="99999999/000001")
    assert unknown["resource"] is None


async def test_items_carry_english_names(gateway: Gateway) -> None:
    query = "query ($code: String!) { catalog { resource(code: $code) { items { name nameEn } } } }"
    data = await catalog(gateway, query, "marriage-registry", code="10101001/000001")
    names = {item["name"]: item["nameEn"] for item in data["resource"]["items"]}
    assert names["idNumber"] == "id number"
    assert names["householdAddress"] == "household address"


async def test_a_chinese_name_finds_who_holds_it(gateway: Gateway) -> None:
    matches = await search(gateway, "身份证号码")
    found = by_field(matches)
    assert found["Person.idNumber"]["provider"]["name"] == "林州市公安局"
    assert found["Person.idNumber"]["item"]["nameZh"] == "公民身份号码"
    assert found["Person.idNumber"]["match"] == "overlap"
    assert found["Licence.holderIdNumber"]["provider"]["name"] == "林州市政务服务和大数据管理局"
    assert found["Licence.holderIdNumber"]["resource"] == {
        "code": "10401001/000001",
        "nameZh": "电子证照信息",
    }
    assert found["Enterprise.legalRepIdNumber"]["provider"]["code"] == "114105810050000024"
    assert found["Enterprise.legalRepIdNumber"]["match"] == "contains"
    kinds = [match["match"] for match in matches]
    assert kinds == sorted(kinds, key=["exact", "contains", "overlap"].index)


async def test_both_phone_numbers_are_found_and_exact_names_come_first(gateway: Gateway) -> None:
    matches = await search(gateway, "联系电话")
    assert {m["item"]["graphqlField"] for m in matches[:2]} == {
        "Person.phone",
        "Enterprise.contactPhone",
    }
    assert [m["match"] for m in matches[:2]] == ["exact", "exact"]

    matches = await search(gateway, "公民身份号码")
    assert matches[0]["item"]["graphqlField"] == "Person.idNumber"
    assert matches[0]["match"] == "exact"


@pytest.mark.parametrize(
    ("text", "first", "also"),
    [
        ("id number", "Person.idNumber", {"Licence.holderIdNumber", "Enterprise.legalRepIdNumber"}),
        ("idNumber", "Person.idNumber", {"Licence.holderIdNumber", "Enterprise.legalRepIdNumber"}),
        ("ID Number", "Person.idNumber", {"Licence.holderIdNumber"}),
        ("phone", "Person.phone", {"Enterprise.contactPhone"}),
        ("address", "Enterprise.address", {"Person.householdAddress"}),
    ],
)
async def test_english_words_find_items(
    gateway: Gateway, text: str, first: str, also: set[str]
) -> None:
    matches = await search(gateway, text)
    assert (matches[0]["item"]["graphqlField"], matches[0]["match"]) == (first, "exact")
    assert {field: by_field(matches)[field]["match"] for field in also} == dict.fromkeys(
        also, "contains"
    )


@pytest.mark.parametrize("text", ["", "   ", "区块链钱包地址", "blockchain wallet"])
async def test_unknown_or_blank_text_finds_nothing(gateway: Gateway, text: str) -> None:
    assert await search(gateway, text) == []


async def test_first_bounds_the_matches(gateway: Gateway) -> None:
    data = await catalog(gateway, SEARCH, "marriage-registry", text="号码", first=2)
    assert len(data["search"]) == 2


async def test_unconditional_items_are_queried_directly(gateway: Gateway) -> None:
    access = by_field(await search(gateway, "公民身份号码"))["Person.idNumber"]["access"]
    assert access | {"advice": None} == {
        "available": True,
        "how": "query_directly",
        "advice": None,
        "listField": "persons",
        "lookupField": "person",
        "field": "idNumber",
        "conditions": None,
        "purposes": [],
        "legalBasis": None,
    }
    assert "persons { edges { node { idNumber } } }" in access["advice"]


async def test_conditional_items_name_their_provider_and_conditions(gateway: Gateway) -> None:
    match = by_field(await search(gateway, "户籍地址"))["Person.householdAddress"]
    assert match["shareType"] == "conditional"
    assert match["provider"] == {
        "code": "114105810050000011",
        "name": "林州市公安局",
        "responsiblePerson": {"name": "王建国", "title": "副局长"},
    }
    access = match["access"]
    assert access["conditions"] == (
        "限行政依据、业务协同用途，经公安局批准后使用；未经批准的部门仅见乡镇（街道）。"
    )
    assert access["purposes"] == ["administrative_basis", "business_collaboration"]
    assert (access["listField"], access["field"]) == ("persons", "householdAddress")


ADDRESS = ("户籍地址", "Person.householdAddress")


async def test_an_item_a_rule_gives_clear_is_queried_directly_not_applied_for(
    gateway: Gateway,
) -> None:
    """public_security.csv gives the marriage registry the address clear for
    administrative_basis: the answer is the one a query gets."""
    access = await access_of(gateway, *ADDRESS, "marriage-registry", "administrative_basis")
    assert (access["available"], access["how"], access["outcome"]) == (
        True,
        "query_directly",
        "clear",
    )
    assert (access["scoped"], access["purpose"]) == (False, "administrative_basis")
    assert access["basis"] != "catalog:conditional"
    assert "persons { edges { node { householdAddress } } }" in access["advice"]
    assert "Apply" not in access["advice"]


@pytest.mark.parametrize(
    ("system", "purpose"),
    [("marriage-registry", "work_reference"), ("school-enrolment", "administrative_basis")],
)
async def test_an_item_shared_masked_is_queried_directly_and_comes_back_masked(
    gateway: Gateway, system: str, purpose: str
) -> None:
    access = await access_of(gateway, *ADDRESS, system, purpose)
    assert (access["how"], access["outcome"], access["scoped"]) == (
        "query_directly",
        "masked",
        False,
    )
    assert access["basis"] == "catalog:masked_for_all_departments"
    assert "masked (keep_through). To read it clear, apply to 林州市公安局" in access["advice"]


async def test_without_a_purpose_a_conditional_item_asks_for_one(gateway: Gateway) -> None:
    access = await access_of(gateway, *ADDRESS, "marriage-registry", None)
    assert (access["available"], access["how"], access["outcome"]) == (
        True,
        "declare_purpose",
        "denied",
    )
    assert access["purpose"] is None
    assert "X-Purpose (administrative_basis or business_collaboration)" in access["advice"]
    unconditional = await access_of(
        gateway, "公民身份号码", "Person.idNumber", "marriage-registry", None
    )
    assert (unconditional["how"], unconditional["outcome"]) == ("query_directly", "clear")


async def test_an_item_no_rule_gives_names_the_provider_to_apply_to(gateway: Gateway) -> None:
    rating = ("纳税信用等级", "TaxRegistration.creditRating")
    access = await access_of(gateway, *rating, "marriage-registry", "administrative_basis")
    assert (access["available"], access["how"], access["outcome"]) == (
        True,
        "apply_to_provider",
        "denied",
    )
    assert access["advice"].startswith("Apply through the platform to 国家税务总局林州市税务局")
    for purpose in access["purposes"]:
        assert purpose in access["advice"]
    other = await access_of(gateway, *rating, "marriage-registry", "work_reference")
    if "work_reference" not in other["purposes"]:
        assert other["advice"].endswith("the purpose you declared.")


async def test_an_item_a_rule_lets_verify_only_is_verify_only(gateway: Gateway) -> None:
    """The housing bureau may verify a registration date for data_verification."""
    date = ("登记日期", "MarriageRegistration.registeredOn")
    access = await access_of(gateway, *date, "planning-permits", "data_verification")
    assert (access["how"], access["outcome"]) == ("query_directly", "verify_only")
    assert access["verifyField"] == "verifyMarriageRegistration"
    assert "verifyMarriageRegistration(registrationNumber: …" in access["advice"]
    reading = await access_of(gateway, *date, "planning-permits", "administrative_basis")
    assert (reading["how"], reading["verifyField"]) == ("apply_to_provider", None)


async def test_a_scoped_grant_is_clear_inside_its_scope(gateway: Gateway) -> None:
    await grant_enrolment_addresses(gateway, scope="township=township")
    access = await access_of(gateway, *ADDRESS, "school-enrolment", "administrative_basis")
    assert (access["how"], access["outcome"], access["scoped"]) == ("query_directly", "clear", True)
    assert access["outsideScope"] == "masked"
    assert access["basis"].startswith("grant:")
    assert "township=township" in access["advice"]


async def test_a_provider_reads_its_own_conditional_items_directly(gateway: Gateway) -> None:
    rating = ("纳税信用等级", "TaxRegistration.creditRating")
    own = await access_of(gateway, *rating, "tax-admin", "administrative_basis")
    other = await access_of(gateway, *rating, "marriage-registry", "administrative_basis")
    assert (own["how"], own["outcome"], own["basis"]) == (
        "query_directly",
        "clear",
        "provider:own_data",
    )
    assert other["how"] == "apply_to_provider"


async def test_not_shared_items_cite_their_legal_basis(gateway: Gateway) -> None:
    match = by_field(await search(gateway, "纳税额"))["TaxRegistration.annualTaxPaid"]
    assert match["shareType"] == "not_shared"
    access = match["access"]
    assert (access["available"], access["how"]) == (False, "not_available")
    assert access["legalBasis"].startswith("《中华人民共和国税收征收管理法》第八条")
    assert (access["listField"], access["field"]) == (None, None)
    assert access["legalBasis"] in access["advice"]
    decided = await access_of(gateway, "纳税额", "TaxRegistration.annualTaxPaid", "tax-admin", None)
    assert (decided["how"], decided["outcome"]) == ("not_available", "denied")


async def test_the_public_sees_only_open_resources(gateway: Gateway) -> None:
    data = await catalog(gateway, BROWSE, None)
    resources = [r for d in data["departments"] for r in d["resources"]]
    open_codes = {
        r["code"] for file in catalog_files() for r in file["resources"] if r["open_to_public"]
    }
    assert {r["code"] for r in resources} == open_codes
    enterprise = next(r for r in resources if r["code"] == "10201001/000001")
    assert enterprise["relationships"] == [] and enterprise["relatedResources"] == []

    hidden = await catalog(gateway, BY_CODE, None, code="10101001/000001")
    assert hidden["resource"] is None
    matches = await search(gateway, "身份证号码", system=None)
    assert {m["resource"]["code"] for m in matches} <= open_codes
    assert by_field(matches)["Enterprise.legalRepIdNumber"]["access"]["how"] == "not_available"
    address = by_field(await search(gateway, "住所", system=None))["Enterprise.address"]
    assert address["access"]["how"] == "query_directly"


async def test_the_public_is_answered_from_its_own_decisions(gateway: Gateway) -> None:
    name = await access_of(gateway, "法定代表人姓名", "Enterprise.legalRepName", None, None)
    assert (name["how"], name["outcome"], name["basis"]) == (
        "query_directly",
        "masked",
        "catalog:masked_for_public",
    )
    assert "To read it clear" not in name["advice"]
    number = await access_of(
        gateway, "法定代表人身份证号码", "Enterprise.legalRepIdNumber", None, None
    )
    assert (number["available"], number["how"], number["outcome"]) == (
        False,
        "not_available",
        "denied",
    )


async def test_departments_see_the_whole_catalog(gateway: Gateway) -> None:
    data = await catalog(gateway, BROWSE, "school-enrolment")
    codes = {r["code"] for d in data["departments"] for r in d["resources"]}
    assert codes == {r["code"] for file in catalog_files() for r in file["resources"]}


async def test_a_search_is_on_record(gateway: Gateway) -> None:
    response = await gateway.query(SEARCH, variables={"text": "联系电话"})
    record = await gateway.audit(response)
    assert record["outcome"] == "served"
    assert record["caller_system"] == "marriage-registry"
    paths = {entry["path"] for entry in record["fields"]}
    assert {
        "catalog.search",
        "catalog.search.provider.name",
        "catalog.search.item.graphqlField",
        "catalog.search.access.how",
    } <= paths
