"""The audit record's subjects: every subject whose identifier a request served, clear
or masked, or checked, wherever the identifier sits (`DataItem.identifies`)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from catalog import Catalog, HideMiddle, load_catalog
from connectors import Connector, MemoryConnector
from policies import Caller, Purpose, SharingPolicy, load_rules
from resolvers import ExecutionOutcome, Executor, GraphQLRequest, Limits, Pinned, Served
from schema.build import build_schema
from settings import ROOT

pytestmark = pytest.mark.anyio

CATALOG = load_catalog(ROOT / "catalog" / "departments")
MARKET = Caller("114105810050000024", "林州市市场监督管理局", "registration")
EDUCATION = Caller("11410581005000008N", "林州市教育局", "school-enrolment")
REP = "410581198001010011"
OTHER_REP = "410581198001010022"
QUERY = "{ enterprises(first: 5) { edges { node { creditCode legalRepIdNumber } } } }"


def masked_representatives() -> Catalog:
    """The demo catalog, but with the representative's ID number masked to others."""
    departments = []
    for department in CATALOG.departments:
        resources = []
        for resource in department.resources:
            if resource.id == "enterprise":
                items = tuple(
                    item.model_copy(update={"mask": HideMiddle(keep_start=6, keep_end=4)})
                    if item.name == "legalRepIdNumber"
                    else item
                    for item in resource.items
                )
                resource = resource.model_copy(update={"items": items})
            resources.append(resource)
        departments.append(department.model_copy(update={"resources": tuple(resources)}))
    return Catalog(tuple(departments), CATALOG.version + "-masked")


def enterprise(code: str, representative: str) -> dict[str, Any]:
    return {
        "credit_code": code,
        "name": "林州测试建筑有限公司",
        "legal_rep_name": "王芳",
        "legal_rep_id_number": representative,
        "industry": "建筑工程",
    }


def executor(catalog: Catalog) -> Executor:
    rows = [enterprise("91410581MA40000001", REP), enterprise("91410581MA40000002", OTHER_REP)]
    source = MemoryConnector("market", {"enterprise": rows})
    empty = MemoryConnector("empty", {})
    connectors: dict[str, Connector] = {resource: empty for resource in catalog.resources}
    connectors["enterprise"] = source
    schema, meanings = build_schema(catalog, default_first=20)
    public, _ = build_schema(catalog, default_first=20, public=True)
    served = Served(schema._schema, public._schema, meanings, connectors, catalog.version)
    policy = SharingPolicy(catalog, load_rules(ROOT / "policies", catalog))
    limits = Limits(max_first=100, batch_bound=1000, max_tokens=5000)
    return Executor(Pinned(policy, served), cursor_key=bytes(16), limits=limits)


async def run(catalog: Catalog, query: str, caller: Caller) -> ExecutionOutcome:
    request = GraphQLRequest(query)
    return await executor(catalog).execute(request, caller, Purpose.ADMINISTRATIVE_BASIS)


async def test_an_identifier_served_clear_names_its_subject_beside_the_records_own() -> None:
    outcome = await run(CATALOG, QUERY, MARKET)
    nodes = [edge["node"] for edge in outcome.data["enterprises"]["edges"]]  # type: ignore[index]
    assert {node["legalRepIdNumber"] for node in nodes} == {REP, OTHER_REP}
    assert outcome.records["enterprise"].subjects == {
        "91410581MA40000001",
        "91410581MA40000002",
        REP,
        OTHER_REP,
    }


async def test_an_identifier_not_selected_names_no_one_but_the_record() -> None:
    query = "{ enterprises(first: 5) { edges { node { creditCode name } } } }"
    outcome = await run(CATALOG, query, MARKET)
    assert outcome.records["enterprise"].subjects == {"91410581MA40000001", "91410581MA40000002"}


async def test_a_denied_identifier_names_no_one() -> None:
    outcome = await run(CATALOG, QUERY, EDUCATION)
    assert outcome.error_codes
    assert REP not in outcome.records["enterprise"].subjects


async def test_a_masked_identifier_names_its_subject_from_the_source_value_never_served() -> None:
    outcome = await run(masked_representatives(), QUERY, EDUCATION)
    nodes = [edge["node"] for edge in outcome.data["enterprises"]["edges"]]  # type: ignore[index]
    assert {node["legalRepIdNumber"] for node in nodes} == {"410581****0011", "410581****0022"}
    assert REP not in json.dumps(outcome.data) and REP not in json.dumps(outcome.errors)
    assert {REP, OTHER_REP} <= outcome.records["enterprise"].subjects


async def test_a_claimed_identifier_names_the_subject_checked() -> None:
    query = (
        'query { verifyEnterprise(creditCode: "91410581MA40000001", '
        f'claims: {{legalRepIdNumber: "{OTHER_REP}"}}) }}'
    )
    outcome = await run(CATALOG, query, MARKET)
    assert outcome.data == {"verifyEnterprise": False}
    assert outcome.records["enterprise"].subjects == {"91410581MA40000001", OTHER_REP}
