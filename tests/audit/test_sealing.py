"""Subjects sealed for the auditor: SM4 under a key only the auditor's private half
derives; the server seals what it cannot open; listing them is on record."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from audit import AuditLog, verify
from audit.__main__ import main
from audit.sealing import SealedUnreadable, new_key_pair, open_sealed, private_key_from, sealer_for
from settings import Settings
from tests.audit.conftest import Store, make_record
from tests.audit.test_search import NEW, ZHANG
from tests.conftest import serving

pytestmark = pytest.mark.anyio


def test_what_is_sealed_opens_with_the_auditors_key_only() -> None:
    private, public = new_key_pair()
    sealed = sealer_for(public).seal({"ab" * 32: ZHANG})
    assert ZHANG not in sealed and sealed.startswith("v1.")
    assert open_sealed(sealed, private_key_from(private)) == {"ab" * 32: ZHANG}
    other, _ = new_key_pair()
    with pytest.raises(SealedUnreadable):
        open_sealed(sealed, private_key_from(other))
    altered = sealed[:-6] + ("A" if sealed[-6] != "A" else "B") + sealed[-5:]
    with pytest.raises(SealedUnreadable):
        open_sealed(altered, private_key_from(private))
    assert sealer_for(public).seal({"x": ZHANG}) != sealer_for(public).seal({"x": ZHANG})


async def test_the_server_seals_every_subject_of_a_request(settings: Settings) -> None:
    private, public = new_key_pair()
    query = (
        "{ enterprises(first: 2, where: {legalRepIdNumber: {_is_null: false}}) "
        "{ edges { node { creditCode legalRepIdNumber } } } }"
    )
    async with serving(settings.model_copy(update={"audit_sealing_key": public})) as gateway:
        response = await gateway.query(query)
        assert response.status_code == 200, response.text
        record = await gateway.audit(response)
        assert (await verify(gateway.platform.store)).ok
    opened = open_sealed(record["sealed_subjects"], private_key_from(private))
    nodes = [e["node"] for e in response.json()["data"]["enterprises"]["edges"]]
    served = {n["creditCode"] for n in nodes} | {n["legalRepIdNumber"] for n in nodes}
    assert set(opened.values()) == served
    assert set(opened) == set(record["records"]["enterprise"]["subjects"])


async def test_listing_a_requests_subjects_takes_the_key_and_is_on_record(
    store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    key_file = tmp_path / "auditor.key"
    monkeypatch.setenv("GOV_SHARE_DATA_DIR", str(store.tmp_path))
    monkeypatch.setenv("GOV_SHARE_AUDIT_KEY_ID", "k1")
    monkeypatch.setenv("GOV_SHARE_AUDIT_KEYS", '{"k1": "the key in use"}')
    assert await asyncio.to_thread(main, ["sealing-key", "--private-key", str(key_file)]) == 0
    public = capsys.readouterr().out.strip()
    assert os.stat(key_file).st_mode & 0o777 == 0o600
    assert await asyncio.to_thread(main, ["sealing-key", "--private-key", str(key_file)]) == 2
    capsys.readouterr()

    hashed = NEW.hash(ZHANG)
    record = make_record(
        hash_key_id="k1",
        records={"person": {"keys": [hashed], "subjects": [hashed]}},
        sealed_subjects=sealer_for(public).seal({hashed: ZHANG}),
    )
    log = AuditLog(store.engine)
    await log.write(record)
    await log.close()
    listing = ["subjects", "--store-url", store.url, "--auditor", "审计员 刘"]
    listing += ["--private-key", str(key_file), "--request-id", record.request_id]
    assert await asyncio.to_thread(main, listing) == 0
    assert capsys.readouterr().out == f"person: {ZHANG}\n"
    rows = await store.rows()
    assert rows[-1]["operation_name"] == "audit subjects"
    assert rows[-1]["records"]["audit_records"]["subjects"] == [hashed]
    assert (await verify(store.engine)).ok

    other = tmp_path / "other.key"
    other.write_text(new_key_pair()[0])
    listing[listing.index(str(key_file))] = str(other)
    assert await asyncio.to_thread(main, listing) == 2
    assert "do not open with this key" in capsys.readouterr().err


def test_a_sealing_key_that_is_no_key_stops_start_up() -> None:
    with pytest.raises(ValueError, match="64 hex digits"):
        Settings(audit_sealing_key="not-a-key")
