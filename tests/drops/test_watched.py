"""The watched drop folder: a file a department drops is loaded once completely written,
moved to `processed/`, and served through GraphQL under the usual field decisions; a
refused file is moved to `refused/` with its problem beside it, the records before it
still served, and the server's log names the problem but no value of the file."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from auth import demo_key
from catalog import load_catalog
from connectors import DropOptions
from drops import DropFolder, Staging
from errors import ConfigurationError
from settings import ROOT
from tests.conftest import SEED, source_urls
from tests.drops.files import contributions, write_csv
from tests.processes import serving

CONTRIBUTIONS = "insurance_contribution"
CATALOG = load_catalog(ROOT / "catalog" / "departments")
QUERY = (
    "{ insuranceContributions(first: 10) { edges { node { "
    "recordNumber personName paymentStatus contributionBase } } } }"
)
BAND = CATALOG.resource(CONTRIBUTIONS).item("contributionBase").mask


def wait_for(found: Callable[[], list[Path]], seconds: float = 60) -> list[Path]:
    """What `found` lists, once it lists anything (the server loads in the background)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if listed := found():
            return listed
        time.sleep(0.2)
    raise AssertionError("the server did not move the file")


def query(base: str, system: str) -> dict[str, Any]:
    response = httpx.post(
        f"{base}/graphql",
        json={"query": QUERY},
        headers={
            "Authorization": f"Bearer {demo_key(SEED, system)}",
            "X-Purpose": "administrative_basis",
        },
        timeout=30,
    )
    body: dict[str, Any] = response.json()
    return body


def test_a_dropped_file_is_loaded_and_served_masked_and_a_bad_one_moved_aside(
    tmp_path: Path, demo_dir: Path
) -> None:
    drops = tmp_path / "drops"
    sources: dict[str, Any] = {**source_urls(demo_dir)}
    sources["human_resources"] = {
        "url": f"file://{drops}",
        "settle_seconds": 0.3,
        "check_seconds": 1,
    }
    env = {"GOV_SHARE_DATA_DIR": str(tmp_path / "var"), "GOV_SHARE_SOURCES": json.dumps(sources)}
    log = tmp_path / "server.log"
    rows = contributions(4)
    with serving("--demo", env=env, log=log) as base:
        folder = drops / CONTRIBUTIONS
        assert folder.is_dir()  # made at start-up, for the department to drop into
        write_csv(folder / "2026-11.csv", rows)
        assert len(wait_for(lambda: sorted((folder / "processed").glob("*_2026-11.csv")))) == 1
        assert not (folder / "2026-11.csv").exists()

        # 住建局 holds a read_masked rule on the contribution base: the band, computed
        # in the staging database like any SQL source's mask.
        body = query(base, "planning-permits")
        nodes = [edge["node"] for edge in body["data"]["insuranceContributions"]["edges"]]
        assert nodes == [
            {
                "recordNumber": row[0],
                "personName": row[2],
                "paymentStatus": None,
                "contributionBase": BAND.apply(Decimal(row[6])),  # type: ignore[union-attr]
            }
            for row in rows
        ]
        assert {error["extensions"]["code"] for error in body["errors"]} == {"APPLICATION_REQUIRED"}
        clear = query(base, "tax-admin")["data"]["insuranceContributions"]["edges"]
        assert [edge["node"]["contributionBase"] for edge in clear] == [row[6] for row in rows]

        bad = [*rows[:2], (*rows[2][:6], "五千", *rows[2][7:])]
        write_csv(folder / "2026-12.csv", bad)
        [refused] = wait_for(lambda: sorted((folder / "refused").glob("*_2026-12.csv")))
        error = refused.with_name(f"{refused.name}.error.txt").read_text(encoding="utf-8")
        assert error == (
            "2026-12.csv was not loaded: row 4, column G (contribution_base): not a number\n"
        )
        again = query(base, "tax-admin")["data"]["insuranceContributions"]["edges"]
        assert again == clear  # the last complete file is still served
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    told = {line["message"]: line for line in lines if line.get("source") == "human_resources"}
    assert told["file loaded"]["records"] == 4 and told["file loaded"]["file"] == "2026-11.csv"
    assert told["file refused"]["problem"] == "row 4, column G (contribution_base): not a number"
    logged = log.read_text()
    for value in {row[column] for row in bad for column in (0, 1, 2, 6)}:  # key, id, name, base
        assert value not in logged


@pytest.mark.anyio
async def test_a_file_still_being_written_is_not_loaded_until_it_settles(tmp_path: Path) -> None:
    staging_url = f"sqlite+aiosqlite:///{tmp_path / 'staging.db'}"
    staging = Staging(staging_url)
    await staging.prepare()
    options = DropOptions.model_validate(
        {
            "url": f"file://{tmp_path / 'drops'}",
            "staging_url": staging_url,
            "timeout_seconds": 5,
            "settle_seconds": 0.2,
        }
    )
    folder = DropFolder("human_resources", options, lambda: CATALOG)
    await folder.prepare()
    path = tmp_path / "drops" / CONTRIBUTIONS / "2026-11.csv"
    whole = write_csv(tmp_path / "whole.csv", contributions(50)).read_bytes()
    path.write_bytes(whole[: len(whole) // 2])  # half sent, the rest still on its way
    await folder.check()
    await asyncio.sleep(0.3)
    with path.open("ab") as sending:
        sending.write(whole[len(whole) // 2 :])
    await folder.check()  # it changed since last seen: not settled
    assert path.exists()
    assert await staging.stamps() == []
    await asyncio.sleep(0.3)
    await folder.check()
    assert not path.exists()
    [stamp] = await staging.stamps()
    assert stamp.record_count == 50
    await staging.close()


@pytest.mark.anyio
async def test_a_drop_folder_that_cannot_be_made_stops_start_up(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file where the folder would be")
    options = DropOptions.model_validate(
        {
            "url": f"file://{tmp_path / 'taken'}",
            "staging_url": f"sqlite+aiosqlite:///{tmp_path / 'staging.db'}",
            "timeout_seconds": 5,
        }
    )
    with pytest.raises(ConfigurationError) as refused:
        await DropFolder("human_resources", options, lambda: CATALOG).prepare()
    assert refused.value.where == "GOV_SHARE_SOURCES (human_resources)"
    assert refused.value.problem == (
        "the drop folder of insurance_contribution cannot be made: Not a directory"
    )
