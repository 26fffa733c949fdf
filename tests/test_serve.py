"""`python server.py --demo` on a fresh data directory: generates, serves, logs safely."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from auth import demo_key
from tests.conftest import SEED
from tests.processes import serving

# Slow: leave out with -m 'not slow' (README); CI runs it.
pytestmark = pytest.mark.slow


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    log = tmp_path / "server.log"
    with serving("--demo", env={"GOV_SHARE_DATA_DIR": str(tmp_path / "var")}, log=log) as base:
        yield base, log


def test_the_demo_server_serves_a_fresh_data_directory(served: tuple[str, Path]) -> None:
    base, log = served
    response = httpx.post(
        f"{base}/graphql",
        json={"query": "{ persons(first: 2) { edges { node { name phone } } } }"},
        headers={
            "Authorization": f"Bearer {demo_key(SEED, 'marriage-registry')}",
            "X-Purpose": "administrative_basis",
            "X-Operator": "mz-0231",
        },
    )
    assert response.status_code == 200
    body = response.json()
    names = [edge["node"]["name"] for edge in body["data"]["persons"]["edges"]]
    assert len(names) == 2 and all(names)
    # No grant for phone numbers: every department sees them with the middle 4 digits hidden.
    phones = [edge["node"]["phone"] for edge in body["data"]["persons"]["edges"]]
    assert all(re.fullmatch(r"1[0-9]{2}\*{4}[0-9]{4}", phone) for phone in phones)
    assert "errors" not in body

    time.sleep(0.2)
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    [entry] = [line for line in lines if line.get("request_id") == response.headers["x-request-id"]]
    assert entry["department"] == "11410581005000006G" and entry["status"] == 200
    text = log.read_text()
    assert "mz-0231" not in text  # the operator is in the audit log, not the server log
    assert not any(name in text for name in names)


def test_demo_sources_are_remade_together_when_the_catalog_changes(tmp_path: Path) -> None:
    import asyncio

    from platform_setup import build_platform
    from settings import Settings

    settings = Settings(demo=True, data_dir=tmp_path)

    async def start() -> None:
        platform = await build_platform(settings)
        await platform.close()

    asyncio.run(start())
    stamp = tmp_path / "sources" / "made-from.txt"
    first = {path.name: path.stat().st_mtime_ns for path in (tmp_path / "sources").glob("*.db")}
    assert stamp.read_text().startswith("seed=20201 catalog=")
    asyncio.run(start())  # nothing changed: nothing is made again
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "sources").glob("*.db")} == first
    stamp.write_text("seed=1 catalog=old")
    (tmp_path / "sources" / "taxation.db").unlink()
    asyncio.run(start())
    again = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "sources").glob("*.db")}
    assert set(again) == set(first)
    assert all(again[name] != first[name] for name in first)
