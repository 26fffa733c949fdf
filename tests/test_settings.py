"""Settings: a bad value names its variable (all of them at once), and the command
lines read the settings the server last started with on their data directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from audit.__main__ import main as audit_main
from errors import ConfigurationError
from settings import Settings, read_settings, record_run_mode, tool_settings


def test_every_bad_value_is_named_by_its_variable_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOV_SHARE_MAX_FIRST", "abc")
    monkeypatch.setenv("GOV_SHARE_AUDIT_RETENTION_DAYS", "30")
    with pytest.raises(ExceptionGroup) as raised:
        read_settings()
    problems = raised.value.exceptions
    assert all(isinstance(problem, ConfigurationError) for problem in problems)
    assert sorted(str(problem) for problem in problems) == [
        "settings: GOV_SHARE_AUDIT_RETENTION_DAYS: Input should be greater than or equal to 180",
        "settings: GOV_SHARE_MAX_FIRST: Input should be a valid integer, unable to parse string "
        "as an integer",
    ]


def test_the_tools_follow_the_run_mode_the_server_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOV_SHARE_DATA_DIR", str(tmp_path))
    assert not tool_settings().demo  # no server has run here

    record_run_mode(Settings(demo=True, seed=7, data_dir=tmp_path))
    settings = tool_settings()
    assert (settings.demo, settings.seed, settings.data_dir) == (True, 7, tmp_path)
    monkeypatch.setenv("GOV_SHARE_DEMO", "false")  # said in the environment: it wins
    assert not tool_settings().demo
    monkeypatch.delenv("GOV_SHARE_DEMO")

    record_run_mode(Settings(demo=False, data_dir=tmp_path))
    assert not (tmp_path / "demo.json").exists()
    assert not tool_settings().demo


@pytest.mark.parametrize("text", ["", "{}", '{"seed": "7"}', "[20201]", "not json"])
def test_a_marker_the_server_did_not_write_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    monkeypatch.setenv("GOV_SHARE_DATA_DIR", str(tmp_path))
    (tmp_path / "demo.json").write_text(text)
    with pytest.raises(ConfigurationError, match="not a demo marker") as raised:
        tool_settings()
    assert raised.value.file == str(tmp_path / "demo.json")


def test_the_audit_command_names_a_marker_it_cannot_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GOV_SHARE_DATA_DIR", str(tmp_path))
    (tmp_path / "demo.json").write_text("{}")
    assert audit_main(["public-key"]) == 2
    assert capsys.readouterr().err.startswith(f"audit: {tmp_path / 'demo.json'}: not a demo marker")


def test_a_redis_url_that_is_not_one_is_named_not_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOV_SHARE_REDIS_URL", "127.0.0.1:6379:s3cret")
    with pytest.raises(ExceptionGroup) as raised:
        read_settings()
    [problem] = raised.value.exceptions
    assert str(problem) == (
        "settings: GOV_SHARE_REDIS_URL: Value error, not a Redis URL: redis://host:port/db, "
        "rediss://… or unix://…"
    )
    monkeypatch.setenv("GOV_SHARE_REDIS_URL", "redis://:s3cret@cache.linzhou.gov.cn:6379/2")
    assert read_settings().redis_url == "redis://:s3cret@cache.linzhou.gov.cn:6379/2"
