"""Tests never read or write the checkout's `var/`: whatever a developer served there
(the demo's store, its checkpoint file) must not change what a test sees, and
nothing a test does may land there. The settings tests build, in process or in the
processes they start, resolve somewhere else."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from settings import ROOT, Settings


def under_checkout(path: Path) -> bool:
    return path.resolve().is_relative_to(ROOT)


def test_settings_built_in_a_test_are_outside_the_checkout() -> None:
    settings = Settings()
    assert not under_checkout(settings.data_dir)
    assert settings.store_url().endswith(str(settings.data_dir / "platform.db"))


def test_a_process_a_test_starts_resolves_outside_the_checkout() -> None:
    shown = subprocess.run(
        [sys.executable, "-c", "from settings import Settings; print(Settings().data_dir)"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert not under_checkout(Path(shown.stdout.strip()))


def test_the_developers_own_settings_do_not_reach_the_tests() -> None:
    """Only the data directory and the working-day calendar are set, by
    tests/conftest.py: a GOV_SHARE_DEMO or GOV_SHARE_PLATFORM_STORE_URL left in the shell
    would make tests pass or fail by it."""
    assert [name for name in os.environ if name.upper().startswith("GOV_SHARE_")] == [
        "GOV_SHARE_DATA_DIR",
        "GOV_SHARE_CALENDAR_DIR",
    ]
