"""`python -m policies test`: the shipped files of expected decisions pass (CI runs
them), a miss exits 1 naming file and case, and a file that cannot be run as written
exits 2 naming file and case."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.policies.command_line import policies, policy_copy

CASE = """\
description: one case
now: 2026-12-15T09:00:00+08:00
cases:
  - name: the marriage registry reads addresses for administrative decisions
    caller: 11410581005000006G/marriage-registry
    item: person.householdAddress
    purpose: administrative_basis
    expect: {expect}
"""


def test_the_shipped_expectations_pass(tmp_path: Path) -> None:
    ran = policies(tmp_path, "test")
    assert (ran.code, ran.err) == (0, "")
    files = sorted((Path(__file__).parents[2] / "policies" / "tests").glob("*_test.yaml"))
    assert len(files) >= 2
    assert ran.out.startswith(f"{len(files)} files, ")
    assert ran.out.endswith(" passed\n") and "failed" not in ran.out


def test_a_missed_expectation_names_file_and_case_and_exits_1(tmp_path: Path) -> None:
    written = tmp_path / "registry_test.yaml"
    written.write_text(CASE.format(expect="masked"), encoding="utf-8")
    ran = policies(tmp_path, "test", str(written))
    assert ran.code == 1
    assert ran.out.splitlines() == [
        f"FAILED {written}: the marriage registry reads addresses for administrative "
        "decisions: expected masked, got clear (public_security.csv:3)",
        "1 file, 1 case: 0 passed, 1 failed",
    ]


def test_the_expectations_follow_the_policy_folder_given(tmp_path: Path) -> None:
    """The same file against a candidate folder without the registry's rule: it fails there."""
    candidate = policy_copy(tmp_path / "candidate")
    rules = candidate / "rules" / "public_security.csv"
    kept = [
        line for line in rules.read_text().splitlines() if "read_clear, administrative" not in line
    ]
    rules.write_text("\n".join(kept) + "\n", encoding="utf-8")
    written = tmp_path / "registry_test.yaml"
    written.write_text(CASE.format(expect="clear"), encoding="utf-8")
    assert policies(tmp_path, "test", str(written)).code == 0
    moved = policies(tmp_path, "test", str(written), "--policy", str(candidate))
    assert moved.code == 1
    assert "expected clear, got masked (catalog:masked_for_all_departments)" in moved.out
    # Without paths, the shipped expectations are run against the candidate.
    shipped = policies(tmp_path, "test", "--policy", str(candidate))
    assert shipped.code == 1
    assert "FAILED " in shipped.out and "rule_files_test.yaml: the marriage registry" in shipped.out


def test_a_scoped_decision_needs_a_row(tmp_path: Path) -> None:
    written = tmp_path / "scoped_test.yaml"
    written.write_text(
        """\
description: a scoped grant
now: 2026-12-15T09:00:00+08:00
grants:
  - {id: 1, consumer: 11410581005000008N/school-enrolment, resource: person,
     items: [householdAddress], action: read_clear, purposes: [administrative_basis],
     scope: township=township}
cases:
  - name: no row
    caller: 11410581005000008N/school-enrolment
    item: person.householdAddress
    purpose: administrative_basis
    expect: clear
""",
        encoding="utf-8",
    )
    ran = policies(tmp_path, "test", str(written))
    assert ran.code == 1
    assert ran.out.splitlines()[0] == (
        f"FAILED {written}: no row: the decision is scoped (clear within township=township, "
        "else masked): give the case a row"
    )


@pytest.mark.parametrize(
    ("text", "said"),
    [
        pytest.param(
            CASE.format(expect="allowed"),
            "case 1 ('the marriage registry reads addresses for administrative decisions') "
            "expect: Input should be 'clear', 'masked', 'verified' or 'denied'",
            id="unknown-outcome",
        ),
        pytest.param(
            CASE.format(expect="clear") + "    colour: blue\n",
            "case 1 ('the marriage registry reads addresses for administrative decisions') "
            "colour: Extra inputs are not permitted",
            id="unknown-key",
        ),
        pytest.param(
            CASE.format(expect="denied"),
            "case 1 ('the marriage registry reads addresses for administrative decisions'): a "
            "denied case names its code, and only a denied case does",
            id="denied-without-code",
        ),
        pytest.param(
            CASE.format(expect="denied\n    code: FORBIDDEN"),
            "'FORBIDDEN' is not a denial code (NOT_SHARED, APPLICATION_REQUIRED,",
            id="unknown-code",
        ),
        pytest.param(
            CASE.format(expect="clear").replace("person.householdAddress", "person.address"),
            "case 1 ('the marriage registry reads addresses for administrative decisions'): "
            "'address' is not a data item of 'person'",
            id="unknown-item",
        ),
        pytest.param(
            CASE.format(expect="clear").replace("now: 2026-12-15T09:00:00+08:00\n", ""),
            "no `now`: give the file or the case a fixed time",
            id="no-time",
        ),
        pytest.param(
            "description: none\ncases: []\n",
            "cases: List should have at least 1 item after validation, not 0",
            id="no-cases",
        ),
        pytest.param(
            "cases: [\n", "line 2: not valid YAML: expected the node content", id="not-yaml"
        ),
        pytest.param(
            CASE.format(expect="clear")
            + "grants:\n  - {id: 7, consumer: 11410581005000008N, resource: tax_registration,"
            " items: [annualTaxPaid], action: read_clear, purposes: [work_reference]}\n",
            "grant 7: tax_registration.annualTaxPaid is not_shared",
            id="impossible-grant",
        ),
    ],
)
def test_a_malformed_file_names_file_and_case_and_exits_2(
    tmp_path: Path, text: str, said: str
) -> None:
    written = tmp_path / "broken_test.yaml"
    written.write_text(text, encoding="utf-8")
    ran = policies(tmp_path, "test", str(written))
    assert (ran.code, ran.out) == (2, "")
    assert ran.err.startswith(f"python -m policies test: {written}")
    assert said in ran.err
    assert "Traceback" not in ran.err


def test_a_folder_without_test_files_is_refused(tmp_path: Path) -> None:
    ran = policies(tmp_path, "test", str(tmp_path))
    assert ran.code == 2
    assert ran.err == f"python -m policies test: no test files (*_test.yaml) in {tmp_path}\n"
