"""The README is what a newcomer trusts first: its keys and its commands must be true."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from auth import DEMO_SYSTEMS, demo_key, hash_key
from settings import ROOT
from tests.conftest import SEED, Gateway

pytestmark = pytest.mark.anyio
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_demo_keys_in_the_readme_are_the_derived_ones() -> None:
    listed = dict(re.findall(r"\(`([a-z-]+)`\) \| `(gsk_demo_[0-9a-f]+)`", README))
    assert listed == {system.system_id: demo_key(SEED, system.system_id) for system in DEMO_SYSTEMS}


def test_the_two_commands_open_the_readme() -> None:
    commands = re.findall(r"```sh\n(.+?)\n```", README)[:2]
    assert commands[0].endswith("uv run --frozen python server.py --demo")
    assert commands[1].endswith("uv run --frozen pytest")
    assert all(
        command.startswith("python3 -m pip install uv==0.13.9 && uv sync --frozen")
        for command in commands
    )


async def test_the_first_query_runs_as_described(gateway: Gateway) -> None:
    query = re.search(r"```graphql\n(.+?)\n```", README, re.S)
    assert query is not None
    body = (await gateway.query(query.group(1))).json()
    codes = {error["extensions"]["field"]: error["extensions"]["code"] for error in body["errors"]}
    assert codes == {
        "TaxRegistration.creditRating": "APPLICATION_REQUIRED",
        "TaxRegistration.annualTaxPaid": "NOT_SHARED",
    }
    people = [edge["node"]["legalRepresentative"] for edge in body["data"]["enterprises"]["edges"]]
    assert all(person["householdAddress"].endswith("号") for person in people)
    assert all(re.fullmatch(r"1[0-9]{2}\*{4}[0-9]{4}", person["phone"]) for person in people)


async def test_the_sharing_example_masks_as_described(gateway: Gateway) -> None:
    query = next(
        block
        for block in re.findall(r"```graphql\n(.+?)\n```", README, re.S)
        if "township householdAddress phone" in block
    )
    masked = await gateway.query(query, system="school-enrolment", purpose="work_reference")
    people = [edge["node"] for edge in masked.json()["data"]["persons"]["edges"]]
    assert all(person["householdAddress"].endswith(f"{person['township']}***") for person in people)
    assert all(re.fullmatch(r"1[0-9]{2}\*{4}[0-9]{4}", person["phone"]) for person in people)
    registry = (await gateway.query(query, system="marriage-registry")).json()
    people = [edge["node"] for edge in registry["data"]["persons"]["edges"]]
    assert all(not person["householdAddress"].endswith("***") for person in people)
    assert all("****" in person["phone"] for person in people)


def test_registering_a_key_prints_it_once_and_stores_its_hash(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "auth",
            "register",
            "--department",
            "11410581005000006G",
            "--department-name",
            "林州市民政局",
            "--system",
            "archive",
            "--system-name",
            "档案系统",
        ],
        cwd=ROOT,
        env={"GOV_SHARE_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    key = result.stdout.strip()
    assert key.startswith("gsk_") and len(key) > 40
    store = (tmp_path / "platform.db").read_bytes()
    assert key.encode() not in store
    assert hash_key(key).encode() in store


async def test_every_graphql_example_in_the_readme_runs(gateway: Gateway) -> None:
    examples = re.findall(r"```graphql\n(.+?)\n```", README, re.S)
    assert len(examples) >= 3
    for example in examples[1:]:
        response = await gateway.query(example)
        assert response.status_code == 200
        assert "errors" not in response.json(), response.json()["errors"]
