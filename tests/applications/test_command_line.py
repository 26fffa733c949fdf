"""`python -m applications figures`: Art. 12's figures as CSV, on the server's store."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

import pytest

from applications.__main__ import main
from store import store_engine, upgrade
from tests.applications.helpers import (
    APPROVER,
    CATALOG,
    MARRIAGE,
    TAXATION,
    application_store,
    draft,
)


def test_figures_per_provider_and_per_consumer_as_csv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GOV_SHARE_DATA_DIR", str(tmp_path))
    url = f"sqlite+aiosqlite:///{tmp_path / 'platform.db'}"

    async def answered_once() -> None:
        await asyncio.to_thread(upgrade, url)
        engine = store_engine(url)
        try:
            store = application_store(engine)
            application = await store.apply(draft()[0])
            await store.approve(application.id, application.asked, APPROVER, "同意", CATALOG)
            await store.apply(draft("person", ("phone",), provider="114105810050000011")[0])
        finally:
            await engine.dispose()

    asyncio.run(answered_once())
    assert main(["figures", "providers"]) == 0
    providers = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [row["provider_code"] for row in providers] == ["114105810050000011", TAXATION]
    police, taxation = providers
    assert (police["applications"], police["answered"], police["answered_in_time"]) == (
        "1",
        "0",
        "",
    )
    assert (taxation["answered"], taxation["answered_in_time"], taxation["refusals"]) == (
        "1",
        "1.0",
        "0",
    )
    assert float(taxation["median_answer_working_hours"]) < 1
    assert main(["figures", "consumers"]) == 0
    consumers = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert consumers == [
        {"consumer_department": MARRIAGE, "approvals": "1", "used": "0", "never_used": "1"}
    ]
