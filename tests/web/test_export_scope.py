"""A batch download under a scoped grant: the enrolment system, granted household
addresses only in its own township (`township=township`, its key's attribute
开元街道), downloads persons. Here the address has no mask, so a query would answer
every other row's address null with OUT_OF_SCOPE; the download leaves those rows out
instead — it gets its township's persons only, their addresses clear, their phones
masked, and no item it did not ask for or may not read. Resuming by cursor stays
inside the scope, and a cursor helps no one else."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from auth import demo_key
from catalog import HideMiddle
from settings import Settings
from tests.conftest import SEED, Gateway, serving
from tests.grants.running import grant_enrolment_addresses
from tests.grants.served import TOWNSHIP
from web import export

pytestmark = pytest.mark.anyio

FIELDS = "idNumber,name,township,householdAddress,phone"
PHONE = HideMiddle(keep_start=3, keep_end=4)


def _downloadable_persons(catalog_dir: Path) -> Path:
    """Persons shared by batch download too, and their address without a mask: outside
    a grant's scope it is withheld, not masked."""
    path = catalog_dir / "public_security.yaml"
    department = yaml.safe_load(path.read_text(encoding="utf-8"))
    [person] = [r for r in department["resources"] if r["id"] == "person"]
    person["share_methods"] = [*person["share_methods"], "batch_download"]
    [address] = [i for i in person["items"] if i["name"] == "householdAddress"]
    del address["mask"]
    path.write_text(yaml.safe_dump(department, allow_unicode=True, sort_keys=False), "utf-8")
    return catalog_dir


@pytest.fixture
async def scoped(
    settings: Settings, catalog_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Gateway]:
    monkeypatch.setattr(export, "PAGE", 7)
    changed = settings.model_copy(update={"catalog_dir": _downloadable_persons(catalog_dir)})
    async with serving(changed) as gateway:
        await grant_enrolment_addresses(gateway, scope="township=township")
        yield gateway


async def _download(
    gateway: Gateway,
    *,
    fields: str = FIELDS,
    after: str | None = None,
    system: str = "school-enrolment",
    purpose: str = "administrative_basis",
) -> httpx.Response:
    params = {"format": "jsonl", "fields": fields, **({"after": after} if after else {})}
    headers = {"Authorization": f"Bearer {demo_key(SEED, system)}", "X-Purpose": purpose}
    return await gateway.client.get("/export/persons", params=params, headers=headers)


def _rows(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    return [json.loads(line) for line in response.text.splitlines()]


async def test_a_scoped_grant_downloads_its_own_rows_only(
    scoped: Gateway, department_db: Any
) -> None:
    rows = _rows(await _download(scoped))
    inside = department_db(
        "public_security",
        "SELECT id_number, name, township, household_address, phone FROM person "
        "WHERE township = ? ORDER BY id_number",
        TOWNSHIP,
    )
    assert len(inside) > 7, "the download spans pages"
    assert [row["node"] for row in rows] == [
        {
            "idNumber": person["id_number"],
            "name": person["name"],
            "township": TOWNSHIP,
            "householdAddress": person["household_address"],
            "phone": PHONE.apply(person["phone"]),
        }
        for person in inside
    ]
    every = department_db("public_security", "SELECT household_address, phone FROM person")
    outside = {p["household_address"] for p in every} - {p["household_address"] for p in inside}
    assert outside and not any(address in repr(rows) for address in outside)


async def test_what_it_may_not_read_is_refused_and_what_it_did_not_ask_is_absent(
    scoped: Gateway,
) -> None:
    refused = await _download(scoped, purpose="work_reference")  # the grant's purpose is another
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["extensions"]["code"] == "APPLICATION_REQUIRED"
    assert "householdAddress" not in refused.text.replace("Person.householdAddress", "")
    narrow = _rows(await _download(scoped, fields="idNumber,phone"))
    assert all(set(row["node"]) == {"idNumber", "phone"} for row in narrow)
    assert all("****" in row["node"]["phone"] for row in narrow if row["node"]["phone"])


async def test_resuming_stays_inside_the_scope_and_the_cursor_helps_no_one_else(
    scoped: Gateway,
) -> None:
    whole = _rows(await _download(scoped))
    cursor = whole[9]["cursor"]
    rest = _rows(await _download(scoped, after=cursor))
    assert [row["node"] for row in rest] == [row["node"] for row in whole[10:]]
    assert all(row["node"]["township"] == TOWNSHIP for row in rest)
    # Another system replaying the cursor, even one whose rules give it every address.
    replayed = await _download(scoped, after=cursor, system="marriage-registry")
    assert replayed.json()["errors"][0]["extensions"]["code"] == "BAD_CURSOR"
    # The grant revoked: resuming is refused up front, with no row.
    [grant] = await scoped.platform.grants.listed()
    assert await scoped.platform.grants.revoke(grant.id or 0, operator="gs-admin", reason="test")
    assert await scoped.platform.policy_source.reload()
    ended = await _download(scoped, after=cursor)
    assert ended.status_code == 403 and "idNumber" not in ended.text
