"""A version of the rule files to compare: a folder as it is, or the policy folder as a
git revision had it (`git show <rev>:<path>`), written out to a temporary folder."""

from __future__ import annotations

import subprocess
from pathlib import Path


class UnknownVersion(ValueError):
    """Neither a folder with a model.conf nor a git revision holding the policy folder."""


def policy_folder(version: str, policy_dir: Path, scratch: Path) -> Path:
    """The folder holding `version`'s model.conf and rules/*.csv. `policy_dir` is the
    policy folder inside the git checkout; `scratch` an empty folder to write into."""
    given = Path(version)
    if given.is_dir():
        if not (given / "model.conf").is_file():
            raise UnknownVersion(f"{given} has no model.conf: not a policy folder")
        return given
    if version.startswith("-"):
        raise UnknownVersion(f"{version!r} is neither a policy folder nor a git revision")
    names = _git(policy_dir, version, "ls-tree", "-r", "--name-only", version, "--", ".")
    files = [
        name
        for name in names.decode().splitlines()
        if name == "model.conf" or (name.startswith("rules/") and name.endswith(".csv"))
    ]
    if "model.conf" not in files:
        raise UnknownVersion(f"revision {version} has no {policy_dir.name}/model.conf")
    for name in files:
        target = scratch / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(_git(policy_dir, version, "show", f"{version}:./{name}"))
    return scratch


def _git(cwd: Path, version: str, *arguments: str) -> bytes:
    try:
        done = subprocess.run(["git", *arguments], cwd=cwd, capture_output=True, check=False)
    except FileNotFoundError:
        raise UnknownVersion("git is not installed, so only folders can be compared") from None
    if done.returncode != 0:
        said = done.stderr.decode(errors="replace").strip().splitlines()
        raise UnknownVersion(
            f"{version!r} is neither a policy folder nor a git revision "
            f"({said[0] if said else 'git failed'})"
        )
    return done.stdout
