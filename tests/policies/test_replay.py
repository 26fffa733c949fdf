"""`python -m policies replay`: the audit log's decisions decided again by a candidate
rule folder; every one that would change is reported, and what a record cannot replay
is counted with the reason, never guessed."""

from __future__ import annotations

import asyncio
import datetime
from pathlib import Path
from typing import Any

import pytest

from audit import AuditRecord, FieldAccount, records_between
from catalog import Catalog, load_catalog
from policies.engine import SharingPolicy
from policies.replay import JOINED, UNNAMED, VERIFICATION, render, replay
from policies.rules import load_rules
from settings import ROOT, Settings
from tests.conftest import Gateway
from tests.grants.running import grant_enrolment_addresses
from tests.policies.command_line import Ran, policy_copy

pytestmark = pytest.mark.anyio

AT = datetime.datetime(2026, 12, 15, 1, 0, tzinfo=datetime.UTC)
REGISTRY_RULE = "11410581005000006G/marriage-registry, person.householdAddress, read_clear"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(ROOT / "catalog" / "departments")


def candidate(into: Path) -> Path:
    """The shipped rules without the marriage registry's clear addresses."""
    folder = policy_copy(into)
    rules = folder / "rules" / "public_security.csv"
    kept = [
        line for line in rules.read_text(encoding="utf-8").splitlines() if REGISTRY_RULE not in line
    ]
    rules.write_text("\n".join(kept) + "\n", encoding="utf-8")
    return folder


def record(
    *fields: tuple[str, str, str], purpose: str | None = "administrative_basis"
) -> AuditRecord:
    return AuditRecord(
        request_id="r",
        occurred_at=AT,
        outcome="served",
        http_status=200,
        hash_key_id="k",
        catalog_version="c",
        policy_version="p",
        duration_ms=1.0,
        caller_department="11410581005000006G",
        caller_system="marriage-registry",
        purpose=purpose,
        fields=[FieldAccount(path, 1, decision, basis) for path, decision, basis in fields],
    )


def test_a_changed_item_decision_is_reported_and_what_cannot_be_replayed_is_counted(
    catalog: Catalog, tmp_path: Path
) -> None:
    rules = load_rules(candidate(tmp_path / "candidate"), catalog)
    logged = record(
        ("persons", "clear", "catalog:root"),
        ("persons.edges", "structure", ""),
        ("persons.edges.node.householdAddress", "clear", "public_security.csv:3"),
        ("persons.edges.node.phone", "masked", "catalog:masked_for_all_departments"),
        ("persons.edges.node.addr", "clear", "public_security.csv:3"),  # an alias
        ("enterprises.edges.node.legalRepresentative", "clear", "market_regulation.csv:3"),
        (
            "enterprises.edges.node.legalRepresentative.householdAddress",
            "clear",
            "public_security.csv:3",
        ),
        ("person.licences.edges.node.licenceNumber", "clear", "catalog:unconditional"),
        ("spouse", "verified", "civil_affairs.csv:7"),  # an alias of verifyMarriageRegistration
        ("verifyPerson", "denied", "rules:no_verify"),
    )
    done = replay(catalog, [logged], lambda moment: SharingPolicy(catalog, rules))
    assert (done.requests, done.decisions) == (1, 4)
    assert dict(done.left_out) == {JOINED: 2, UNNAMED: 1, VERIFICATION: 2}
    assert render(done, 7).splitlines() == [
        "1 requests, 4 item decisions replayed; 1 would change",
        f"left out: 2 {JOINED}",
        f"left out: 1 {UNNAMED}",
        f"left out: 2 {VERIFICATION}",
        "",
        "time                    caller                                item                     purpose               before                         after",
        "2026-12-15T09:00+08:00  11410581005000006G/marriage-registry  person.householdAddress  administrative_basis  clear (public_security.csv:3)  masked (catalog:masked_for_all_departments)",
    ]


def test_the_shipped_rules_change_nothing(catalog: Catalog) -> None:
    rules = load_rules(ROOT / "policies", catalog)
    logged = record(("persons.edges.node.householdAddress", "clear", "public_security.csv:3"))
    done = replay(catalog, [logged], lambda moment: SharingPolicy(catalog, rules))
    assert (done.requests, done.decisions, done.changed) == (1, 1, [])


def test_no_records_says_there_is_nothing_to_replay(catalog: Catalog) -> None:
    rules = load_rules(ROOT / "policies", catalog)
    done = replay(catalog, [], lambda moment: SharingPolicy(catalog, rules))
    assert (
        render(done, 3) == "no audit records with decisions in the last 3 days: nothing to replay"
    )


# --- on a platform's real audit log ---------------------------------------------------------


async def replayed(settings: Settings, *arguments: str) -> Ran:
    """`python -m policies replay …` on the platform's store, in a thread of this process."""
    from policies.__main__ import main

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GOV_SHARE_DATA_DIR", str(settings.data_dir))
        patch.setenv("GOV_SHARE_DEMO", "true")
        output: list[str] = []
        patch.setattr("builtins.print", lambda *text, **_: output.append(" ".join(map(str, text))))
        code = await asyncio.to_thread(main, ["replay", *arguments])
    return Ran(code, "\n".join(output), "")


async def test_the_command_replays_what_the_server_logged(
    gateway: Gateway, settings: Settings, tmp_path: Path
) -> None:
    query = "{ persons(first: 2) { edges { node { name householdAddress phone } } } }"
    response = await gateway.query(query)
    assert response.status_code == 200
    logged = await records_between(
        gateway.platform.audit.engine,
        AT - datetime.timedelta(days=3650),
        AT + datetime.timedelta(days=3650),
    )
    paths = {account.path: account.decision for record in logged for account in record.fields}
    assert paths["persons.edges.node.householdAddress"] == "clear"

    ran = await replayed(
        settings, "--policy", str(candidate(tmp_path / "candidate")), "--days", "1"
    )
    assert ran.code == 0
    lines = ran.out.splitlines()
    assert lines[0] == "1 requests, 3 item decisions replayed; 1 would change"
    assert [cell.strip() for cell in lines[-1].split("  ") if cell.strip()][1:] == [
        "11410581005000006G/marriage-registry",
        "person.householdAddress",
        "administrative_basis",
        "clear (public_security.csv:3)",
        "masked (catalog:masked_for_all_departments)",
    ]


async def test_a_grant_in_force_then_is_replayed_with_the_candidate(
    gateway: Gateway, settings: Settings, tmp_path: Path
) -> None:
    """The enrolment system read addresses by a grant: a candidate that changes no grant
    changes nothing of it, even though the grant is no rule of the folder."""
    await grant_enrolment_addresses(gateway)
    query = "{ persons(first: 2) { edges { node { householdAddress } } } }"
    response = await gateway.query(query, system="school-enrolment")
    assert response.status_code == 200
    ran = await replayed(settings, "--policy", str(ROOT / "policies"), "--days", "1")
    assert ran.out.splitlines() == [
        "1 requests, 1 item decisions replayed; 0 would change",
        f"left out: 1 {JOINED}",  # the root connection, `persons`
    ]


async def test_an_empty_log_has_nothing_to_replay(settings: Settings, tmp_path: Any) -> None:
    ran = await replayed(settings, "--policy", str(ROOT / "policies"), "--days", "2")
    assert (ran.code, ran.out) == (
        0,
        "no audit records with decisions in the last 2 days: nothing to replay",
    )
