"""`python -m policies …` run as an admin runs it: a process of its own, in the
checkout, with a data directory of the test's own and no other GOV_SHARE_* setting."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from settings import ROOT


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str


def policies(data_dir: Path, *arguments: str, demo: bool = False, **settings: str) -> Ran:
    """`settings`: more GOV_SHARE_* variables, by their names without the prefix."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOV_SHARE_")}
    env["GOV_SHARE_DATA_DIR"] = str(data_dir)
    env.update({f"GOV_SHARE_{name.upper()}": value for name, value in settings.items()})
    if demo:
        env["GOV_SHARE_DEMO"] = "true"
    done = subprocess.run(
        [sys.executable, "-m", "policies", *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return Ran(done.returncode, done.stdout, done.stderr)


def policy_copy(into: Path) -> Path:
    """A copy of the real `policies/` model, rules and tests, free to edit."""
    into.mkdir(parents=True)
    shutil.copy(ROOT / "policies" / "model.conf", into / "model.conf")
    shutil.copytree(ROOT / "policies" / "rules", into / "rules")
    shutil.copytree(ROOT / "policies" / "tests", into / "tests")
    return into
