"""The running platform's life: a rule file broken while it serves does not stop it
following grants for good, and shutting down always closes the audit log."""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from audit.checkpoint import Checkpoint
from grants import Grant
from policies.caller import Purpose
from policies.decision import Action
from settings import ROOT, Settings
from tests.conftest import Gateway, serving

pytestmark = pytest.mark.anyio

EDUCATION = "11410581005000008N"
PHONES = "{ persons(first: 3) { edges { node { phone } } } }"


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "the change never took effect"
        await asyncio.sleep(0.05)


async def phones(gateway: Gateway) -> list[str]:
    response = await gateway.query(
        PHONES, system="school-enrolment", purpose="business_collaboration"
    )
    assert response.status_code == 200, response.text
    return [edge["node"]["phone"] for edge in response.json()["data"]["persons"]["edges"]]


async def readiness(gateway: Gateway) -> dict[str, object]:
    ready = await gateway.client.get("/readyz")
    assert ready.status_code == 200
    body: dict[str, object] = ready.json()
    return body


async def test_a_rule_file_broken_while_serving_is_reported_and_recovered_from(
    settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    policy_dir = tmp_path / "policies"
    shutil.copytree(ROOT / "policies" / "rules", policy_dir / "rules")
    shutil.copy(ROOT / "policies" / "model.conf", policy_dir / "model.conf")
    rules = policy_dir / "rules" / "public_security.csv"
    good = rules.read_text(encoding="utf-8")
    settings = settings.model_copy(
        update={"policy_dir": policy_dir, "policy_refresh_seconds": 0.05}
    )
    caplog.set_level(logging.INFO, logger="gov_share.policies")

    async with serving(settings) as gateway:
        platform = gateway.platform
        assert all(re.fullmatch(r"1\d{2}\*{4}\d{4}", phone) for phone in await phones(gateway))
        rules.write_text(good + "p, nobody, person.phone, read_clear, work_reference\n", "utf-8")
        await platform.grants.add(
            Grant(
                consumer=EDUCATION,
                resource_id="person",
                items=("phone",),
                action=Action.READ_CLEAR,
                purposes=(Purpose.BUSINESS_COLLABORATION,),
                reference="林公数〔2026〕12号",
            ),
            platform.catalog,
            operator="gs-admin",
            reason="test",
        )

        async def degraded() -> bool:
            return (await readiness(gateway))["status"] == "degraded"

        await eventually(degraded)
        body = await readiness(gateway)
        assert body["policy"]["reload"] == "failing"  # type: ignore[index]
        assert body["problems"] == [
            f"policy not reloaded: public_security.csv line {len(good.splitlines()) + 1}: "
            "subject 'nobody' is not a department code or '<department code>/<system>', "
            "'group:<name>' or role:public; the last good policy stays in force"
        ]
        [logged] = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert logged.path == str(rules)  # type: ignore[attr-defined]
        assert logged.where == f"line {len(good.splitlines()) + 1}"  # type: ignore[attr-defined]
        assert "nobody" in logged.problem  # type: ignore[attr-defined]
        # The last good policy is still in force, and the follower keeps trying.
        assert all("*" in phone for phone in await phones(gateway))
        await asyncio.sleep(0.3)
        assert len([r for r in caplog.records if r.levelno == logging.ERROR]) == 1

        rules.write_text(good, "utf-8")

        async def applied() -> bool:
            return all(re.fullmatch(r"1\d{10}", phone) for phone in await phones(gateway))

        await eventually(applied)
        assert (await readiness(gateway))["status"] == "ready"
        assert "policy reloaded again" in caplog.messages

    # Shut down cleanly: the audit log committed everything and signed its head.
    with sqlite3.connect(tmp_path / "platform.db") as store:
        (head,) = store.execute("SELECT max(seq) FROM audit_records").fetchone()
    lines = (tmp_path / "audit-checkpoints.jsonl").read_text().splitlines()
    assert head > 0 and Checkpoint.parse(lines[-1]).seq == head
