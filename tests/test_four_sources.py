"""The issue's done-when, in one request: a query that crosses the four kinds of source
— a SQL database, a department's REST API, a remote gov-share and a file drop — each
answer compared with what its source holds, and each side's audit record read.

The city (the platform under test, a server process in demo mode) reads

- market regulation's enterprises from its own SQLite database (SQL),
- public security's persons from a department API on loopback (`tests/department_api.py`,
  declared with the README's `api` block: *Adding a REST source*),
- the licence office's licences from the province, a second gov-share process trusting
  the city's link (the README's `remote` block and register command), and
- human resources' insurance contributions from a CSV the department dropped, loaded
  by `python -m drops load` into the source's staging database (*Adding a file-drop
  source*),

and the relationships of the demo catalog join them on the same identifiers:
enterprise → legal representative (person) → licences and insurance contributions,
all keyed by the person's identity number.
"""

from __future__ import annotations

import contextlib
import csv
import json
import shlex
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import yaml

from auth import demo_key
from catalog import HideMiddle
from settings import ROOT
from tests.conftest import SEED
from tests.department_api import TOKEN, DepartmentApi, person_records
from tests.department_api import serving as api_serving
from tests.processes import run, serving
from tests.test_remote_source import PEERS, REGISTER, REMOTE_BLOCK
from tests.test_remote_source import SOURCE_SETTING as REMOTE_SETTING
from tests.test_rest_source import API_BLOCK
from tests.test_rest_source import SOURCE_SETTING as REST_SETTING

pytestmark = pytest.mark.slow

CIVIL_AFFAIRS = "11410581005000006G"
REFERENCE = "2026-MZ-0118-four-sources"
OPERATOR = "李四"
PHONE = HideMiddle(keep_start=3, keep_end=4)
QUERY = """{ enterprises(first: 3) { edges { node { creditCode name
  legalRepresentative { idNumber name phone householdAddress
    licences(first: 10) { edges { node { licenceNumber licenceType holderIdNumber } } }
    insuranceContributions(first: 10) {
      edges { node { recordNumber insuranceType contributionMonth personIdNumber } } } } } } } }"""
CONTRIBUTION_HEADER = (
    "record_number",
    "person_id_number",
    "person_name",
    "employer_credit_code",
    "insurance_type",
    "contribution_month",
    "contribution_base",
    "personal_contribution",
    "payment_status",
)


@dataclass
class Crossing:
    city: str
    city_dir: Path
    province_dir: Path
    api: DepartmentApi
    contributions: list[dict[str, str]]


def _rows(database: Path, sql: str, *parameters: Any) -> list[sqlite3.Row]:
    with contextlib.closing(sqlite3.connect(database)) as connection:
        connection.row_factory = sqlite3.Row
        return connection.execute(sql, parameters).fetchall()


def _city_catalog(into: Path) -> Path:
    """The demo catalog, with persons served by the REST API and licences by the province."""
    shutil.copytree(ROOT / "catalog" / "departments", into)

    def change(name: str, block: str, value: dict[str, Any], form: dict[str, str]) -> None:
        path = into / f"{name}.yaml"
        department = yaml.safe_load(path.read_text(encoding="utf-8"))
        for resource in department["resources"]:
            resource[block], resource["format"] = value, form
        path.write_text(yaml.safe_dump(department, allow_unicode=True, sort_keys=False), "utf-8")

    rest = {"format_class": "service_interface", "format_type": "REST/JSON"}
    change("public_security", "api", API_BLOCK, rest)
    remote = {**REMOTE_BLOCK, "list_field": "licences", "type_name": "Licence"}
    change("licence_office", "remote", remote, {**rest, "format_type": "GraphQL"})
    return into


def _dropped(folder: Path, representatives: list[str]) -> tuple[Path, list[dict[str, str]]]:
    """Two months of pension contributions for each representative, as human resources
    exports them, and one record of somebody else."""
    records = []
    for number, id_number in enumerate([*representatives, "410581199001010011"]):
        for month in ("2026-10", "2026-11")[: 2 if number < len(representatives) else 1]:
            records.append(
                {
                    "record_number": f"SB{month.replace('-', '')}{number:08d}",
                    "person_id_number": id_number,
                    "person_name": f"参保人{number}",
                    "employer_credit_code": "91410581MA44B8R21X",
                    "insurance_type": "城镇职工基本养老保险",
                    "contribution_month": month,
                    "contribution_base": "5200.00",
                    "personal_contribution": "416.00",
                    "payment_status": "正常缴费",
                }
            )
    path = folder / "2026-11.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, CONTRIBUTION_HEADER)
        writer.writeheader()
        writer.writerows(records)
    return path, records


@contextlib.contextmanager
def _crossing(root: Path) -> Iterator[Crossing]:
    province_dir, city_dir = root / "province", root / "city"
    province_env = {"GOV_SHARE_DATA_DIR": str(province_dir)}
    with contextlib.ExitStack() as stack:
        province = stack.enter_context(
            serving(
                "--demo",
                env={**province_env, "GOV_SHARE_PEER_PLATFORMS": PEERS},
                log=root / "province.log",
            )
        )
        registered = run(*shlex.split(REGISTER)[4:], env=province_env)
        assert registered.returncode == 0, registered.stderr
        link_key = registered.stdout.strip().splitlines()[-1]
        # The same seed makes the same city: the department API serves the persons the
        # demo generated, and the file names the enterprises' representatives.
        sources = province_dir / "sources"
        persons = _rows(sources / "public_security.db", "SELECT * FROM person")
        api = stack.enter_context(
            api_serving(DepartmentApi(person_records(list(map(dict, persons)))))
        )
        representatives = [
            row["legal_rep_id_number"]
            for row in _rows(
                sources / "market_regulation.db",
                "SELECT legal_rep_id_number FROM enterprise ORDER BY credit_code LIMIT 3",
            )
        ]
        drops = root / "drops"
        setting = {
            "public_security": {**REST_SETTING, "url": api.url, "token": TOKEN},
            "licence_office": {
                **REMOTE_SETTING,
                "url": f"graphql+{province}/graphql",
                "api_key": link_key,
            },
            "human_resources": {"url": f"file://{drops}"},
        }
        city_env = {
            "GOV_SHARE_DATA_DIR": str(city_dir),
            "GOV_SHARE_CATALOG_DIR": str(_city_catalog(root / "city-catalog")),
            "GOV_SHARE_SOURCES": json.dumps(setting),
        }
        root.joinpath("delivered").mkdir()
        delivered, contributions = _dropped(root / "delivered", representatives)
        loaded = run(
            "-m", "drops", "load", "human_resources", "insurance_contribution", str(delivered),
            env=city_env,
        )  # fmt: skip
        assert loaded.returncode == 0, loaded.stderr
        city = stack.enter_context(serving("--demo", env=city_env, log=root / "city.log"))
        yield Crossing(city, city_dir, province_dir, api, contributions)


@pytest.fixture(scope="module")
def crossing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crossing]:
    with _crossing(tmp_path_factory.mktemp("four-sources")) as running:
        yield running


def _audit(data_dir: Path, where: str, *parameters: Any) -> list[sqlite3.Row]:
    return _rows(
        data_dir / "platform.db", f"SELECT * FROM audit_records WHERE {where}", *parameters
    )


def test_one_query_crosses_sql_rest_remote_and_file_drop_sources(crossing: Crossing) -> None:
    response = httpx.post(
        f"{crossing.city}/graphql",
        json={"query": QUERY},
        headers={
            "Authorization": f"Bearer {demo_key(SEED, 'marriage-registry')}",
            "Accept": "application/graphql-response+json",
            "X-Purpose": "administrative_basis",
            "X-Purpose-Reference": REFERENCE,
            "X-Operator": quote(OPERATOR),
        },
        timeout=60,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body["errors"]
    served = [edge["node"] for edge in body["data"]["enterprises"]["edges"]]

    # SQL: the city's own market regulation database.
    enterprises = _rows(
        crossing.city_dir / "sources" / "market_regulation.db",
        "SELECT credit_code, name, legal_rep_id_number FROM enterprise "
        "ORDER BY credit_code LIMIT 3",
    )
    assert [(e["creditCode"], e["name"]) for e in served] == [
        (row["credit_code"], row["name"]) for row in enterprises
    ]
    people = [e["legalRepresentative"] for e in served]
    ids = [row["legal_rep_id_number"] for row in enterprises]
    assert [person["idNumber"] for person in people] == ids

    # REST: what the department API holds, the phone masked as the catalog says and the
    # household address clear (the marriage registry's rule); the keys in one call.
    for person in people:
        held = crossing.api.by_id(person["idNumber"])
        assert (person["name"], person["householdAddress"]) == (
            held["name"],
            held["address"]["household"],
        )
        assert person["phone"] == PHONE.apply(held["phone"]) != held["phone"]
    [batch] = [seen for seen in crossing.api.seen if seen.path == "/persons"]
    assert sorted(dict(batch.query)["ids"].split(",")) == sorted(set(ids))

    # Remote: the province's licence office, asked for all three holders at once.
    holders = ",".join("?" * len(ids))
    licences = _rows(
        crossing.province_dir / "sources" / "licence_office.db",
        "SELECT licence_number, licence_type, holder_id_number FROM licence "
        f"WHERE holder_id_number IN ({holders}) ORDER BY licence_number",
        *ids,
    )
    assert licences, "the demo's representatives hold licences"
    for person in people:
        assert [edge["node"] for edge in person["licences"]["edges"]] == [
            {
                "licenceNumber": row["licence_number"],
                "licenceType": row["licence_type"],
                "holderIdNumber": row["holder_id_number"],
            }
            for row in licences
            if row["holder_id_number"] == person["idNumber"]
        ]

    # File drop: the file human resources delivered, nobody else's records.
    for person in people:
        assert [edge["node"] for edge in person["insuranceContributions"]["edges"]] == [
            {
                "recordNumber": record["record_number"],
                "insuranceType": record["insurance_type"],
                "contributionMonth": record["contribution_month"],
                "personIdNumber": record["person_id_number"],
            }
            for record in sorted(crossing.contributions, key=lambda r: r["record_number"])
            if record["person_id_number"] == person["idNumber"]
        ]

    # The city's record: the caller, and the records of all four sources it served.
    [mine] = _audit(crossing.city_dir, "request_id = ?", body["extensions"]["requestId"])
    assert (mine["caller_department"], mine["caller_system"], mine["operator"]) == (
        CIVIL_AFFAIRS,
        "marriage-registry",
        OPERATOR,
    )
    assert (mine["outcome"], mine["purpose_reference"]) == ("served", REFERENCE)
    kept = json.loads(mine["records"])
    counted = {resource: len(hashes["keys"]) for resource, hashes in kept.items()}
    assert counted == {
        "enterprise": 3,
        "person": len(set(ids)),
        "licence": len(licences),
        "insurance_contribution": sum(
            record["person_id_number"] in ids for record in crossing.contributions
        ),
    }
    # The province's: one call, made for the same caller, purpose and reference.
    [theirs] = _audit(crossing.province_dir, "purpose_reference = ?", REFERENCE)
    assert (theirs["caller_department"], theirs["caller_system"], theirs["operator"]) == (
        CIVIL_AFFAIRS,
        "marriage-registry@city-platform",
        OPERATOR,
    )
    assert (theirs["purpose"], theirs["outcome"]) == ("administrative_basis", "served")
    assert len(json.loads(theirs["records"])["licence"]["keys"]) == len(licences)
    # The department API was called by the platform, with the source's token, never
    # with the caller's key.
    assert batch.headers["authorization"] == f"Bearer {TOKEN}"
