"""`python -m documents` as an admin runs it: a Relay manifest registered for a system
with its policy report as a table, listed, a mode set and the unknown operations
listed; a change without an operator, or a manifest that does not validate, refused
with nothing registered."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from documents.__main__ import main

SYSTEM = "11410581005000006G/marriage-registry"
PERSONS = "query PersonRecords { persons(first: 1) { edges { node { name phone } } } }"
ACCOUNTABLE = ["--operator", "gs-admin", "--reason", "go-live review"]


@pytest.fixture
def admin_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GOV_SHARE_DEMO", "true")
    monkeypatch.setenv("GOV_SHARE_DATA_DIR", str(tmp_path))
    return tmp_path


def test_register_list_mode_and_unknown(
    admin_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = admin_env / "relay.json"
    manifest.write_text(json.dumps({"a1b2c3": PERSONS}), encoding="utf-8")
    registered = [
        *("register", "--system", SYSTEM, "--manifest", str(manifest)),
        *("--purpose", "work_reference", "--share", "11410581005000005D/tax-admin"),
    ]
    assert main([*registered, *ACCOUNTABLE]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"1 document registered for {SYSTEM}\n")
    header = out.splitlines()[1].split()
    assert header == ["operation", "purpose", "item", "access", "code"]
    assert "PersonRecords  work_reference  person.phone" in out
    assert main(["list", "--system", SYSTEM]) == 0
    listed = capsys.readouterr().out
    assert f"{SYSTEM}: mode open" in listed
    assert "a1b2c3  PersonRecords  query  work_reference  11410581005000005D/tax-admin" in listed
    assert main(["mode", "--system", SYSTEM, "--mode", "log-unknown", *ACCOUNTABLE]) == 0
    assert main(["list", "--system", SYSTEM]) == 0
    assert f"{SYSTEM}: mode log-unknown" in capsys.readouterr().out
    assert main(["unknown", "--system", SYSTEM]) == 0
    assert "has sent no unknown operation" in capsys.readouterr().out


def test_refusals_register_nothing(admin_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = admin_env / "relay.json"
    manifest.write_text(
        json.dumps({"good": PERSONS, "bad": "query Bad { persons { nope } }"}), encoding="utf-8"
    )
    register = ["register", "--system", SYSTEM, "--manifest", str(manifest)]
    assert main([*register, "--operator", " ", "--reason", "x"]) == 2
    assert "the operator is named" in capsys.readouterr().err
    assert main([*register, *ACCOUNTABLE]) == 2
    assert "registration refused: bad: does not validate" in capsys.readouterr().err
    unknown = ["register", "--system", "11410581005000006G/nobody", "--manifest", str(manifest)]
    assert main([*unknown, *ACCOUNTABLE]) == 2
    assert "holds no API key in force" in capsys.readouterr().err
    hop = "legalRepresentative { representedEnterprises { edges { node { "
    deep = "query Deep { enterprises { edges { node { " + hop * 3 + "name" + " }" * 16
    manifest.write_text(json.dumps({"deep": deep}), encoding="utf-8")
    assert main([*register, *ACCOUNTABLE]) == 2
    assert "deep: does not validate: 'Deep' exceeds maximum operation depth" in (
        capsys.readouterr().err
    )
    assert main(["list", "--system", SYSTEM]) == 0
    assert "no document" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["mode", "--system", SYSTEM, "--mode", "persisted-only"])
