"""The one holder of the policy in force: a reload puts changed rule files and grants in
force, keeps the last good policy when a rule file is broken and says why, recovers
once it is fixed; a request keeps the policy it started with; the version is derived
from what the policy is made of, the same on two instances of one store and files.
(The catalog's reloads: test_catalog_reload.py.)"""

from __future__ import annotations

import asyncio
import datetime
import logging
import re
from pathlib import Path
from typing import Any

import pytest

from catalog import load_catalog
from connectors import MemoryConnector
from grants import Grant, GrantStore, PolicySource
from policies import Caller, Decision, Purpose
from policies.decision import Action
from resolvers import GraphQLRequest, Served
from settings import ROOT
from tests.grants.conftest import executor, load

pytestmark = pytest.mark.anyio

CATALOG = load_catalog(ROOT / "catalog" / "departments")
EDUCATION = "11410581005000008N"
ENROLMENT = Caller(EDUCATION, "林州市教育局", "school-enrolment")
PURPOSE = Purpose.BUSINESS_COLLABORATION
PHONE_RULE = f"p, {EDUCATION}, person.phone, read_clear, business_collaboration\n"
PHONES = "{ persons(first: 2) { edges { node { phone } } } }"
BROKEN = "p, nobody, person.phone, read_clear, work_reference\n"

Source = PolicySource[Served]


def phone(source: Source) -> Decision:
    """How the policy in force serves persons' phones to the enrolment system."""
    person = CATALOG.resources["person"]
    now = datetime.datetime.now(datetime.UTC)
    return source.current.policy.decide(ENROLMENT, person, person.item("phone"), PURPOSE, now)


def append(policy_dir: Path, line: str, name: str = "public_security.csv") -> Path:
    rules = policy_dir / "rules" / name
    rules.write_text(rules.read_text(encoding="utf-8") + line, encoding="utf-8")
    return rules


def phone_grant() -> Grant:
    return Grant(
        consumer=EDUCATION,
        resource_id="person",
        items=("phone",),
        action=Action.READ_CLEAR,
        purposes=(PURPOSE,),
        reference="林公数〔2026〕12号",
    )


async def test_a_reload_puts_a_changed_rule_file_in_force(source: Source, policy_dir: Path) -> None:
    before = source.current
    assert phone(source).outcome == "masked"
    append(policy_dir, PHONE_RULE)
    assert source.current is before, "nothing changes before the reload"
    assert await source.reload()
    decision = phone(source)
    assert decision.outcome == "clear"
    assert decision.basis.startswith("public_security.csv:")
    assert source.current.version != before.version
    assert source.current.served is before.served, "the same catalog is served as it was"
    assert source.problem is None


async def test_a_reload_puts_a_new_grant_in_force_and_a_revoked_one_out(
    source: Source, grants: GrantStore
) -> None:
    made = await grants.add(phone_grant(), CATALOG, operator="gs-admin", reason="test")
    assert await source.reload()
    assert phone(source).outcome == "clear"
    assert phone(source).basis == f"grant:{made.id}"
    assert made.id is not None and await grants.revoke(made.id, operator="gs-admin", reason="test")
    assert await source.reload()
    assert phone(source).outcome == "masked"


async def test_a_broken_rule_file_keeps_the_last_good_policy_and_says_why(
    source: Source, policy_dir: Path, grants: GrantStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gov_share.policies")
    good = source.current
    await grants.add(phone_grant(), CATALOG, operator="gs-admin", reason="test")
    rules = append(policy_dir, BROKEN)
    assert not await source.reload()
    assert source.current is good
    assert phone(source).outcome == "masked", "neither the broken file nor the grant is in force"
    line = len(rules.read_text().splitlines())
    assert source.problem == (
        f"public_security.csv line {line}: subject 'nobody' is not a department code or "
        "'<department code>/<system>', 'group:<name>' or role:public; "
        "the last good policy stays in force"
    )
    [logged] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert logged.path == str(rules)  # type: ignore[attr-defined]
    assert logged.where == f"line {line}"  # type: ignore[attr-defined]
    assert "nobody" in logged.problem  # type: ignore[attr-defined]
    assert not await source.reload()
    assert len([r for r in caplog.records if r.levelno == logging.ERROR]) == 1, "logged once"
    assert source.failures == 2


async def test_fixing_the_file_recovers_at_the_next_reload(
    source: Source, policy_dir: Path, grants: GrantStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gov_share.policies")
    rules = policy_dir / "rules" / "public_security.csv"
    good = rules.read_text(encoding="utf-8")
    made = await grants.add(phone_grant(), CATALOG, operator="gs-admin", reason="test")
    append(policy_dir, BROKEN)
    assert not await source.reload()
    rules.write_text(good, encoding="utf-8")
    assert await source.reload()
    assert source.problem is None
    assert phone(source).basis == f"grant:{made.id}", "the grant made meanwhile is in force"
    assert "policy reloaded again" in caplog.messages


async def test_a_broken_file_put_back_as_it_was_recovers_too(
    source: Source, policy_dir: Path
) -> None:
    """Nothing to read again (the files are the policy in force's): still a recovery."""
    rules = policy_dir / "rules" / "public_security.csv"
    good = rules.read_text(encoding="utf-8")
    before = source.current
    append(policy_dir, BROKEN)
    assert not await source.reload()
    rules.write_text(good, encoding="utf-8")
    assert await source.reload()
    assert source.problem is None and source.current is before


async def test_a_missing_model_keeps_the_policy_and_names_the_file(
    source: Source, policy_dir: Path
) -> None:
    before = source.current
    (policy_dir / "model.conf").unlink()
    assert not await source.reload()
    assert source.current is before
    assert source.problem == (
        "model.conf: the Casbin model file is missing; the last good policy stays in force"
    )


async def test_a_store_that_cannot_be_read_keeps_the_policy_and_says_so(
    source: Source, grants: GrantStore, tmp_path: Path
) -> None:
    before = source.current
    (tmp_path / "platform.db").unlink()
    await grants.engine.dispose()  # the next connection finds an empty database
    assert not await source.reload()
    assert source.current is before
    assert source.problem == "the platform store cannot be read"


async def test_the_version_changes_with_rule_files_and_grants_and_not_otherwise(
    source: Source, policy_dir: Path, grants: GrantStore
) -> None:
    """Derived from the rule files and the store's change sequence: the same files at
    the same sequence give the same version, and every grant made or revoked moves it
    (a grant revoked leaves the grants as they were, but not their history)."""
    original = source.current
    assert re.fullmatch(r"[0-9a-f]{16}", original.version), "fits audit_records.policy_version"
    assert await source.reload()
    assert source.current is original, "a reload of the same files and grants changes nothing"
    rules = policy_dir / "rules" / "public_security.csv"
    good = rules.read_text(encoding="utf-8")
    rules.write_text(good, encoding="utf-8")  # saved again, unchanged
    assert await source.reload()
    assert source.current.version == original.version

    append(policy_dir, PHONE_RULE)
    assert await source.reload()
    edited = source.current.version
    assert edited != original.version
    rules.write_text(good, encoding="utf-8")
    assert await source.reload()
    assert source.current.version == original.version, "derived from the files, not counted"

    made = await grants.add(phone_grant(), CATALOG, operator="gs-admin", reason="test")
    assert await source.reload()
    granted = source.current.version
    assert granted not in {original.version, edited}
    assert made.id is not None and await grants.revoke(made.id, operator="gs-admin", reason="test")
    assert await source.reload()
    revoked = source.current.version
    assert revoked not in {original.version, edited, granted}
    assert phone(source).outcome == "masked", "the policy is the original's again"
    assert not await grants.revoke(made.id, operator="gs-admin", reason="test"), (
        "revoking twice changes nothing"
    )
    assert await source.reload()
    assert source.current.version == revoked


async def test_two_instances_of_one_store_and_files_report_one_version(
    source: Source, catalog_dir: Path, policy_dir: Path, grants: GrantStore
) -> None:
    """Each reads the files and the store for itself: nothing is counted per instance."""
    other = await load(catalog_dir, policy_dir, grants)
    assert other.current.version == source.current.version
    made = await grants.add(phone_grant(), CATALOG, operator="gs-admin", reason="test")
    assert await source.reload() and await other.reload()
    assert other.current.version == source.current.version
    rules = append(policy_dir, PHONE_RULE)
    assert made.id is not None and await grants.revoke(made.id, operator="gs-admin", reason="test")
    assert await other.reload() and await source.reload()
    assert other.current.version == source.current.version
    line = len(rules.read_text().splitlines())
    assert phone(other).basis == phone(source).basis == f"public_security.csv:{line}"


async def test_the_version_changes_with_the_catalog(
    source: Source, policy_dir: Path, grants: GrantStore, catalog_dir: Path
) -> None:
    """Same rule files and grants over another catalog version: another policy."""
    taxation = catalog_dir / "taxation.yaml"
    good = taxation.read_text(encoding="utf-8")
    taxation.write_text(good + "\n# edited\n", encoding="utf-8")
    assert load_catalog(catalog_dir).version != CATALOG.version
    elsewhere = await load(catalog_dir, policy_dir, grants)
    assert elsewhere.current.version != source.current.version
    taxation.write_text(good, encoding="utf-8")
    again = await load(catalog_dir, policy_dir, grants)
    assert again.current.version == source.current.version


class HeldPeople(MemoryConnector):
    """Persons whose read waits until the test lets it finish: a request in flight."""

    def __init__(self) -> None:
        rows = [
            {"id_number": f"41058119900101{n:04d}", "name": f"测试{n}", "phone": f"1390000{n:04d}"}
            for n in range(3)
        ]
        super().__init__("public_security", {"person": rows})
        self.reading = asyncio.Event()
        self.finish = asyncio.Event()

    async def read(self, *args: Any, **kwargs: Any) -> Any:
        self.reading.set()
        await self.finish.wait()
        return await super().read(*args, **kwargs)


async def test_a_request_in_flight_keeps_the_policy_it_started_with(
    catalog_dir: Path, policy_dir: Path, grants: GrantStore
) -> None:
    people = HeldPeople()
    source = await load(catalog_dir, policy_dir, grants, {"person": people})
    running = executor(source)
    started = source.current.version
    request = asyncio.create_task(running.execute(GraphQLRequest(PHONES), ENROLMENT, PURPOSE))
    await asyncio.wait_for(people.reading.wait(), 10)
    append(policy_dir, PHONE_RULE)
    assert await source.reload()
    assert source.current.version != started
    people.finish.set()
    outcome = await request
    assert outcome.policy_version == started
    served = [edge["node"]["phone"] for edge in outcome.data["persons"]["edges"]]  # type: ignore[index]
    assert served == ["139****0000", "139****0001"]
    after = await running.execute(GraphQLRequest(PHONES), ENROLMENT, PURPOSE)
    assert after.policy_version == source.current.version
    served = [edge["node"]["phone"] for edge in after.data["persons"]["edges"]]  # type: ignore[index]
    assert served == ["13900000000", "13900000001"]
