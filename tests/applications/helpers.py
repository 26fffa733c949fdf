"""Applications made in a migrated store of each engine, as a consumer would ask."""

from __future__ import annotations

import asyncio
import datetime
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from applications import USE_CONDITIONS, Actor, ApplicationStore, Draft, Terms, asked_terms
from catalog import load_catalog
from grants import GrantStore
from settings import ROOT
from store import store_engine, upgrade
from tests.engines import drop_audit_roles, postgres_database
from workdays import WorkingCalendar

CATALOG = load_catalog(ROOT / "catalog" / "departments")
MARRIAGE = "11410581005000006G"
TAXATION = "11410581005000005D"
PUBLIC_SECURITY = "114105810050000011"
CONSUMER = f"{MARRIAGE}/marriage-registry"
APPLICANT = Actor("lisi-0117", MARRIAGE)
APPROVER = Actor("wangwu-0502", TAXATION)


def in_days(days: int) -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=days)


def draft(
    resource: str = "tax_registration",
    items: tuple[str, ...] = ("creditRating",),
    *,
    provider: str = TAXATION,
    scope: str = "",
    days: int = 90,
) -> tuple[Draft, str | None]:
    terms, not_shared = asked_terms(
        CATALOG, resource, list(items), "administrative_basis", scope, in_days(days)
    )
    made = Draft(
        consumer=CONSUMER,
        applicant=APPLICANT,
        provider_code=provider,
        asked=terms,
        business_reason="核实婚姻登记当事人纳税信用",
        case_reference="2026-MZ-0118",
        acknowledged=USE_CONDITIONS,
    )
    return made, not_shared


def terms_of(made: Draft) -> Terms:
    return made.asked


@pytest.fixture(params=["sqlite", "postgresql"])
async def engine(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[AsyncEngine]:
    """A migrated platform store; on PostgreSQL under audit roles unique to the test."""
    prefix = f"gs_a{uuid.uuid4().hex[:10]}_audit"
    monkeypatch.setenv("GOV_SHARE_AUDIT_ROLE_PREFIX", prefix)
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'platform.db'}"
        await asyncio.to_thread(upgrade, url)
        made = store_engine(url)
        yield made
        await made.dispose()
        return
    try:
        async for url in postgres_database():
            await asyncio.to_thread(upgrade, url)
            made = store_engine(url)
            try:
                yield made
            finally:
                await made.dispose()
    finally:
        await drop_audit_roles(prefix)


def application_store(engine: AsyncEngine) -> ApplicationStore:
    return ApplicationStore(engine, GrantStore(engine), WorkingCalendar())
