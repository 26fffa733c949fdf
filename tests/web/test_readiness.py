"""Readiness: one department down keeps the platform in service but is reported
(`degraded`); no source, or no store, takes it out (`not_ready`, 503)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from audit import AuditLog
from settings import Settings
from tests.conftest import SOURCES, Gateway, serving
from workdays import WorkingCalendar

pytestmark = pytest.mark.anyio


def missing(tmp_path: Path, name: str) -> str:
    return f"sqlite+aiosqlite:///file:{tmp_path / name}.db?mode=ro&uri=true"


def closed_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"postgresql+asyncpg://nobody@127.0.0.1:{port}/gone"


async def test_ready_when_the_store_and_every_source_answer(gateway: Gateway) -> None:
    ready = await gateway.client.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "ready" and body["problems"] == []
    assert body["store"] == "available" and body["announcements"] == "off"
    in_force = gateway.platform.policy_source.current
    assert body["policy"] == {
        "reload": "ok",
        "version": in_force.version,
        "catalog_version": in_force.catalog.version,
    }
    assert set(body["sources"]) == set(SOURCES)
    assert set(body["sources"].values()) == {"available"}


async def test_degraded_when_a_source_is_down(settings: Settings, tmp_path: Path) -> None:
    sources = {
        **settings.sources,
        "taxation": missing(tmp_path, "gone"),
        "civil_affairs": closed_port(),
    }
    async with serving(settings.model_copy(update={"sources": sources})) as running:
        ready = await running.client.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "degraded"
    assert body["sources"]["taxation"] == body["sources"]["civil_affairs"] == "unavailable"
    assert body["sources"]["market_regulation"] == "available"
    assert body["problems"] == [
        "source civil_affairs does not answer",
        "source taxation does not answer",
    ]
    assert "gone.db" not in ready.text and "nobody" not in ready.text


async def test_not_ready_when_no_source_answers(settings: Settings, tmp_path: Path) -> None:
    sources = {name: missing(tmp_path, name) for name in SOURCES}
    async with serving(settings.model_copy(update={"sources": sources})) as running:
        ready = await running.client.get("/readyz")
        alive = await running.client.get("/healthz")
    assert ready.status_code == 503
    assert ready.json()["status"] == "not_ready"
    assert set(ready.json()["sources"].values()) == {"unavailable"}
    assert alive.status_code == 200 and alive.json() == {"status": "alive"}


async def test_not_ready_when_the_store_does_not_answer(gateway: Gateway, tmp_path: Path) -> None:
    store = create_async_engine(missing(tmp_path / "nowhere", "platform"))
    gateway.platform.audit = AuditLog(store)
    try:
        ready = await gateway.client.get("/readyz")
    finally:
        await store.dispose()
    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "not_ready" and body["store"] == "unavailable"
    assert body["problems"][0] == "the platform store does not answer: nothing can be audited"


async def test_degraded_while_answer_deadlines_are_provisional(gateway: Gateway) -> None:
    """A year the calendar does not know is counted on weekends alone: still served (an
    application is never refused for it), and said in /readyz until the year is added."""
    known = gateway.platform.calendar
    gateway.platform.calendar = WorkingCalendar(schedule=lambda day: None)
    try:
        body = (await gateway.client.get("/readyz")).json()
    finally:
        gateway.platform.calendar = known
    assert body["status"] == "degraded" and body["calendar"] == "provisional"
    [problem] = body["problems"]
    assert problem.startswith("the working-day calendar does not know ")
    assert (await gateway.client.get("/readyz")).json()["calendar"] == "known"
