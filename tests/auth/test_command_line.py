"""`python -m auth`: register, list, rotate and revoke keys, each change audited in the
chain with its operator and never its key material; bad registrations refused with
one line each, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from audit import verify
from auth import KeyRegistry, hash_key
from auth.__main__ import default_operator, main
from errors import Unauthenticated
from store import audit_records
from tests.audit.conftest import _store as migrated_store
from tests.processes import run

pytestmark = pytest.mark.anyio

CIVIL_AFFAIRS = ("--department", "11410581005000006G", "--department-name", "林州市民政局")
ARCHIVE = ("--system", "archive", "--system-name", "档案系统")
SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class Store:
    engine: AsyncEngine
    env: dict[str, str]
    url: str
    capsys: pytest.CaptureFixture[str]

    async def auth(self, *arguments: str) -> tuple[int, str, str]:
        """`python -m auth …` in this process (its environment is the store's)."""
        try:
            code = await asyncio.to_thread(main, list(arguments))
        except SystemExit as exit:  # argparse
            code = int(exit.code or 0)
        captured = self.capsys.readouterr()
        return code, captured.out, captured.err

    async def auth_process(self, *arguments: str) -> tuple[int, str, str]:
        done = await asyncio.to_thread(run, "-m", "auth", *arguments, env=self.env)
        return done.returncode, done.stdout, done.stderr

    async def records(self) -> list[dict[str, object]]:
        async with self.engine.connect() as connection:
            rows = await connection.execute(sa.select(audit_records).order_by(audit_records.c.seq))
            return [dict(row) for row in rows.mappings()]


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> AsyncIterator[Store]:
    """A migrated store, and the environment `python -m auth` reaches it with."""
    async for made in migrated_store(request.param, tmp_path, monkeypatch):
        env = {"GOV_SHARE_DATA_DIR": str(tmp_path), "GOV_SHARE_AUDIT_ROLE_PREFIX": made.role_prefix}
        if made.dialect == "postgresql":
            env["GOV_SHARE_PLATFORM_STORE_URL"] = made.url
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        yield Store(made.engine, env, made.url, capsys)


def listing(out: str) -> list[list[str]]:
    header, *lines = out.splitlines()
    assert header.split("\t") == [
        "id",
        "department",
        "system",
        "created",
        "expires",
        "revoked",
        "demo",
    ]
    return [line.split("\t") for line in lines]


def local(moment: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(moment)


async def test_keys_are_registered_listed_rotated_and_revoked_each_change_audited(
    store: Store,
) -> None:
    code, first, err = await store.auth_process(
        "register", *CIVIL_AFFAIRS, *ARCHIVE, "--expires", "2030-01-01", "--operator", "ops-li"
    )
    assert code == 0, err
    first = first.strip()
    assert re.fullmatch(r"gsk_[A-Za-z0-9_-]{43}", first)
    assert err == "key 1 registered for 11410581005000006G/archive\n"

    code, out, _ = await store.auth("keys")
    assert code == 0
    [[key_id, department, system, created, expires, revoked, demo]] = listing(out)
    assert (key_id, department, system) == ("1", "11410581005000006G 林州市民政局", "archive")
    assert expires == "2030-01-01T00:00+08:00"  # a date alone: its first minute, Shanghai
    assert (revoked, demo) == ("-", "-")
    assert abs(local(created) - datetime.datetime.now(SHANGHAI)) < datetime.timedelta(minutes=2)
    assert first not in out and hash_key(first)[:16] not in out

    rotated_at = datetime.datetime.now(SHANGHAI)
    code, second, err = await store.auth("rotate", "1", "--overlap", "2h", "--operator", "ops-wang")
    assert code == 0, err
    second = second.strip()
    assert second.startswith("gsk_") and second != first
    assert err.startswith(
        "key 2 replaces key 1 of 11410581005000006G/archive, which stops working at "
    )
    code, out, _ = await store.auth("keys")
    old, new = listing(out)
    ends = local(old[4])
    assert abs(ends - (rotated_at + datetime.timedelta(hours=2))) < datetime.timedelta(minutes=2)
    assert new[:3] == ["2", "11410581005000006G 林州市民政局", "archive (replaces key 1)"]
    assert new[4:] == ["-", "-", "-"]

    registry = KeyRegistry(store.engine, demo=False)
    for key in (first, second):  # the overlap: both work
        caller = await registry.authenticate(f"Bearer {key}", None)
        assert caller.system_subject == "11410581005000006G/archive"

    code, out, err = await store.auth("revoke", "2", "--reason", "泄露于工单 #4471")
    assert (code, out, err) == (0, "key 2 of 11410581005000006G/archive revoked\n", "")
    with pytest.raises(Unauthenticated):
        await registry.authenticate(f"Bearer {second}", None)
    code, out, _ = await store.auth("keys")
    assert re.fullmatch(r"\S+ 泄露于工单 #4471", listing(out)[1][5])

    records = await store.records()
    assert [
        (r["outcome"], r["operator"], r["caller_department"], r["caller_system"]) for r in records
    ] == [
        ("key_registered", "ops-li", "11410581005000006G", "archive"),
        ("key_rotated", "ops-wang", "11410581005000006G", "archive"),
        ("key_revoked", default_operator(), "11410581005000006G", "archive"),
    ]
    assert [r["operation_name"] for r in records] == [
        "auth register key 1",
        "auth rotate key 1 to key 2",
        "auth revoke key 2",
    ]
    assert records[0]["purpose_reference"] == "expires 2029-12-31T16:00:00Z"
    assert str(records[1]["purpose_reference"]).startswith("key 1 expires ")
    assert records[2]["purpose_reference"] == "泄露于工单 #4471"
    stored = json.dumps(records, default=str, ensure_ascii=False)
    for key in (first, second):
        assert key not in stored and hash_key(key) not in stored
    assert (await verify(store.engine)).ok


async def test_a_refused_change_changes_nothing_and_says_why(store: Store) -> None:
    code, out, err = await store.auth("register", *CIVIL_AFFAIRS, *ARCHIVE)
    assert code == 0, err
    key = out.strip()
    assert await store.auth("revoke", "1", "--reason", "rotated by hand") == (
        0,
        "key 1 of 11410581005000006G/archive revoked\n",
        "",
    )
    before = await store.records()

    refusals = {
        ("revoke", "1", "--reason", "again"): (
            2,
            "python -m auth revoke: key 1 was revoked already, at ",
        ),
        ("rotate", "1"): (
            2,
            "python -m auth rotate: key 1 is revoked: register a new key instead\n",
        ),
        ("revoke", "7", "--reason", "x"): (
            1,
            "python -m auth revoke: there is no key 7 (`python -m auth keys` lists them)\n",
        ),
        ("revoke", "1", "--reason", " "): (
            2,
            "python -m auth revoke: a revocation needs a reason of 1 to 200 characters\n",
        ),
    }
    for arguments, (status, message) in refusals.items():
        code, out, err = await store.auth(*arguments)
        assert (code, out) == (status, ""), err
        assert err.startswith(message) and err.count("\n") == 1, err
    assert await store.records() == before
    with pytest.raises(Unauthenticated):
        await KeyRegistry(store.engine, demo=False).authenticate(f"Bearer {key}", None)


REGISTRATION_REFUSALS = [
    pytest.param(
        ("--department", "11410581005000006X", "--department-name", "林州市民政局", *ARCHIVE),
        "department code 11410581005000006X: the check digit of this unified social credit "
        "code (GB 32100) does not match",
        id="check-digit",
    ),
    pytest.param(
        ("--department", "1141058100500006G", "--department-name", "林州市民政局", *ARCHIVE),
        "department code '1141058100500006G' is not a unified social credit code (GB 32100): "
        "18 characters, digits and upper-case letters, e.g. 11410581005000006G",
        id="seventeen-characters",
    ),
    pytest.param(
        ("--department", "11410581005000006G", "--department-name", "林州市公安局", *ARCHIVE),
        "department name '林州市公安局' disagrees with the catalog, which names "
        "11410581005000006G '林州市民政局'",
        id="name-against-the-catalog",
    ),
    pytest.param(
        (*CIVIL_AFFAIRS, "--system", "marriage registry", "--system-name", "婚姻登记系统"),
        "system id 'marriage registry': a system id is lower-case letters, digits and "
        "hyphens, starting with a letter or digit, at most 100 characters (e.g. "
        "marriage-registry)",
        id="system-with-a-space",
    ),
    pytest.param(
        (*CIVIL_AFFAIRS, *ARCHIVE, "--expires", "2020-01-01T00:00"),
        "the expiry 2019-12-31T16:00:00Z is not in the future",
        id="expired-already",
    ),
]


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("arguments", "reason"), REGISTRATION_REFUSALS)
async def test_a_registration_is_refused_with_its_reason(
    store: Store, arguments: tuple[str, ...], reason: str
) -> None:
    code, out, err = await store.auth("register", *arguments)
    assert (code, out, err) == (2, "", f"python -m auth register: {reason}\n")
    assert listing((await store.auth("keys"))[1]) == []
    assert await store.records() == []


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
async def test_a_department_the_catalog_lacks_may_be_registered_by_a_valid_code(
    store: Store,
) -> None:
    """The education bureau consumes data and provides none, so the catalog lacks it."""
    code, _, err = await store.auth(
        "register",
        *("--department", "11410581005000008N", "--department-name", "林州市教育局"),
        *("--system", "school-enrolment", "--system-name", "义务教育招生入学系统"),
        *("--attribute", "township=开元街道"),
    )
    assert code == 0, err


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
async def test_malformed_times_say_which_argument_and_what_format(store: Store) -> None:
    code, _, err = await store.auth("register", *CIVIL_AFFAIRS, *ARCHIVE, "--expires", "2030-13-01")
    assert code == 2
    assert (
        "argument --expires: expected an ISO 8601 date or time such as 2027-06-30 or "
        "2027-06-30T18:00 (Asia/Shanghai if no zone is given), not '2030-13-01'"
    ) in err
    code, _, err = await store.auth("rotate", "1", "--overlap", "a day")
    assert code == 2
    assert "argument --overlap: expected a number of minutes, hours or days" in err


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
async def test_demo_keys_are_listed_but_not_rotated_or_revoked(store: Store) -> None:
    await KeyRegistry(store.engine, demo=True).seed_demo_keys(20201)
    code, out, _ = await store.auth("keys")
    keys = listing(out)
    assert len(keys) == 6 and all(key[6] == "demo" for key in keys)
    code, _, err = await store.auth("rotate", keys[0][0])
    assert code == 2
    assert f"key {keys[0][0]} is a demo key" in err


@pytest.mark.parametrize("store", ["postgresql"], indirect=True)
async def test_the_servers_writer_role_enforces_expiry_but_cannot_change_a_key(
    store: Store,
) -> None:
    code, out, err = await store.auth(
        "register", *CIVIL_AFFAIRS, *ARCHIVE, "--expires", "2030-01-01T00:00+08:00"
    )
    assert code == 0, err
    key = out.strip()
    role = f"{store.env['GOV_SHARE_AUDIT_ROLE_PREFIX']}_writer"
    writer = create_async_engine(store.url, connect_args={"server_settings": {"role": role}})
    try:
        caller = await KeyRegistry(writer, demo=False).authenticate(f"Bearer {key}", None)
        assert caller.system == "archive"
        async with writer.connect() as connection:
            with pytest.raises(sa.exc.DBAPIError, match="permission denied"):
                await connection.execute(sa.text("UPDATE api_keys SET expires_at = NULL"))
    finally:
        await writer.dispose()
