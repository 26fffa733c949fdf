"""`python -m policies diff`: between two folders or two git revisions of the rule
files, with the same grants on both sides, which consumers gain or lose which items for
which purpose."""

from __future__ import annotations

import datetime
import subprocess
from pathlib import Path

import pytest

from catalog import Catalog, load_catalog
from policies.diff import differences, render
from policies.revisions import UnknownVersion, policy_folder
from policies.rule import grant_rules
from policies.rules import load_rules
from settings import ROOT
from tests.policies.command_line import policies, policy_copy

NOW = datetime.datetime(2026, 12, 15, 1, 0, tzinfo=datetime.UTC)
REGISTRY_RULE = "11410581005000006G/marriage-registry, person.householdAddress, read_clear"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(ROOT / "catalog" / "departments")


def edited(folder: Path) -> Path:
    """The candidate of these tests: the marriage registry loses clear addresses, the
    enrolment system gains them, and the tax bureau may verify them."""
    rules = folder / "rules" / "public_security.csv"
    kept = [
        line for line in rules.read_text(encoding="utf-8").splitlines() if REGISTRY_RULE not in line
    ]
    kept += [
        "p, 11410581005000008N/school-enrolment, person.householdAddress, read_clear, administrative_basis",
        "p, 11410581005000005D, person.householdAddress, verify, data_verification",
    ]
    rules.write_text("\n".join(kept) + "\n", encoding="utf-8")
    return folder


TABLE = [
    "consumer                              item                     purpose               action  before                 after     change",
    "11410581005000005D                    person.householdAddress  data_verification     verify  denied NOT_VERIFIABLE  verified  gains",
    "11410581005000006G/marriage-registry  person.householdAddress  administrative_basis  read    clear                  masked    loses",
    "11410581005000008N/school-enrolment   person.householdAddress  administrative_basis  read    masked                 clear     gains",
]


def test_two_folders_differ_by_who_gains_and_who_loses(catalog: Catalog, tmp_path: Path) -> None:
    candidate = edited(policy_copy(tmp_path / "candidate"))
    before = load_rules(ROOT / "policies", catalog)
    after = load_rules(candidate, catalog)
    assert render(differences(catalog, before, after, NOW)).splitlines() == TABLE


def test_the_same_rules_differ_in_nothing(catalog: Catalog, tmp_path: Path) -> None:
    moved = policy_copy(tmp_path / "moved")
    rules = moved / "rules" / "public_security.csv"
    rules.write_text(
        "# a new first line moves every rule down\n" + rules.read_text(), encoding="utf-8"
    )
    same = differences(
        catalog, load_rules(ROOT / "policies", catalog), load_rules(moved, catalog), NOW
    )
    assert render(same) == "no consumer gains or loses anything"


def test_a_grant_in_force_counts_on_both_sides(catalog: Catalog, tmp_path: Path) -> None:
    """The registry keeps clear addresses by a grant when the rule goes: nothing lost."""
    granted = grant_rules(
        "11410581005000006G/marriage-registry",
        ("person", ["householdAddress"]),
        "read_clear",
        ["administrative_basis"],
        "",
        (None, None),
        9,
    )
    candidate = edited(policy_copy(tmp_path / "candidate"))
    before = load_rules(ROOT / "policies", catalog, granted)
    after = load_rules(candidate, catalog, granted)
    consumers = {d.consumer for d in differences(catalog, before, after, NOW)}
    assert consumers == {"11410581005000005D", "11410581005000008N/school-enrolment"}


def test_a_scoped_change_is_shown_with_its_scope(catalog: Catalog, tmp_path: Path) -> None:
    scoped = grant_rules(
        "11410581005000008N/school-enrolment",
        ("person", ["householdAddress"]),
        "read_clear",
        ["administrative_basis"],
        "township=township",
        (None, None),
        2,
    )
    before = load_rules(ROOT / "policies", catalog)
    after = load_rules(ROOT / "policies", catalog, scoped)
    reading, verifying = differences(catalog, before, after, NOW)
    assert (reading.change, verifying.change) == ("gains", "gains")
    rows = [line.split("  ") for line in render([reading, verifying]).splitlines()[1:]]
    assert [[cell.strip() for cell in row if cell.strip()][-3:] for row in rows] == [
        ["masked", "clear within township=township, else masked", "gains"],
        # Reading clear within the scope is verifying there too.
        [
            "denied NOT_VERIFIABLE",
            "verified within township=township, else denied NOT_VERIFIABLE",
            "gains",
        ],
    ]


def git_repository(into: Path) -> Path:
    """A repository holding the real policies at commit 1, and the candidate at commit 2."""
    policy_copy(into / "policies")

    def git(*arguments: str) -> str:
        done = subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.cn", *arguments],
            cwd=into,
            check=True,
            capture_output=True,
            text=True,
        )
        return done.stdout.strip()

    git("init", "-q")
    git("add", ".")
    git("commit", "-q", "-m", "the rules as shipped")
    edited(into / "policies")
    git("commit", "-q", "-am", "the candidate")
    return into / "policies"


def test_two_git_revisions_differ_as_their_folders_do(catalog: Catalog, tmp_path: Path) -> None:
    policy_dir = git_repository(tmp_path / "repo")
    old = policy_folder("HEAD~1", policy_dir, tmp_path / "old")
    new = policy_folder("HEAD", policy_dir, tmp_path / "new")
    assert sorted(p.name for p in (old / "rules").iterdir()) == sorted(
        p.name for p in (ROOT / "policies" / "rules").iterdir()
    )
    found = differences(catalog, load_rules(old, catalog), load_rules(new, catalog), NOW)
    assert render(found).splitlines() == TABLE


def test_the_command_compares_a_revision_with_the_working_folder(tmp_path: Path) -> None:
    policy_dir = git_repository(tmp_path / "repo")
    (policy_dir / "rules" / "public_security.csv").write_bytes(
        (ROOT / "policies" / "rules" / "public_security.csv").read_bytes()
    )  # the working folder is back to the shipped rules
    ran = policies(
        tmp_path, "diff", "--from", "HEAD", "--now", "2026-12-15T09:00", policy_dir=str(policy_dir)
    )
    assert (ran.code, ran.err) == (0, "")
    assert [line.split()[-1] for line in ran.out.splitlines()[1:]] == ["loses", "gains", "loses"]


@pytest.mark.parametrize("version", ["no-such-revision", "--output=/tmp/x"])
def test_a_version_that_is_neither_folder_nor_revision_is_refused(
    tmp_path: Path, version: str
) -> None:
    with pytest.raises(UnknownVersion, match="is neither a policy folder nor a git revision"):
        policy_folder(version, ROOT / "policies", tmp_path)
    ran = policies(tmp_path, "diff", f"--from={version}")
    assert ran.code == 2
    assert "is neither a policy folder nor a git revision" in ran.err
