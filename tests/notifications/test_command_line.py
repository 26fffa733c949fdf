"""`python -m notifications`: the delivery history, the dead-letter list, and a retry by
id, on the store the server ran with."""

from __future__ import annotations

import asyncio
import datetime
from pathlib import Path

import pytest

from notifications.__main__ import main
from notifications.outbox import DeliveryState, Outbox
from store import store_engine, upgrade
from tests.applications.helpers import TAXATION, application_store, draft


def test_the_dead_letter_list_and_a_retry_by_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GOV_SHARE_DATA_DIR", str(tmp_path))
    url = f"sqlite+aiosqlite:///{tmp_path / 'platform.db'}"

    async def a_dead_delivery() -> int:
        await asyncio.to_thread(upgrade, url)
        engine = store_engine(url)
        try:
            store = application_store(engine)
            await store.apply(draft()[0])
            outbox = Outbox(engine, store, frozenset({TAXATION}))
            now = datetime.datetime.now(datetime.UTC)
            await outbox.collect(now, datetime.timedelta(hours=2))
            [delivery] = await outbox.claim_due(now)
            await outbox.failed(delivery, 503, "HTTP 503", None)
            return delivery.id
        finally:
            await engine.dispose()

    dead = asyncio.run(a_dead_delivery())
    assert main(["deliveries", "--dead"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[0].split()[:3] == ["id", "to", "event"]
    assert listed[1].split()[:7] == [
        str(dead),
        TAXATION,
        "application.apply",
        "1",
        "dead",
        "1",
        "HTTP",
    ]
    assert main(["retry", str(dead)]) == 0
    assert capsys.readouterr().out == f"delivery {dead} will be tried again\n"
    assert main(["retry", str(dead)]) == 1
    assert capsys.readouterr().err == f"no dead delivery {dead}\n"
    assert main(["deliveries", "--dead"]) == 0
    assert capsys.readouterr().out == "no deliveries\n"
    assert main(["deliveries"]) == 0
    assert DeliveryState.PENDING.value in capsys.readouterr().out
