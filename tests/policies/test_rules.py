"""Loading the admins' rule files: a bad line stops start-up with its file and line."""

from __future__ import annotations

import datetime
import shutil
from pathlib import Path

import pytest

from catalog import Catalog, load_catalog
from errors import ConfigurationError
from policies.caller import Caller, Purpose
from policies.engine import SharingPolicy
from policies.rules import RuleSet, load_rules
from settings import ROOT

CIVIL_AFFAIRS = "11410581005000006G"
NOW = datetime.datetime(2026, 11, 25, 9, 30, tzinfo=datetime.UTC)
EDUCATION = "11410581005000008N"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(ROOT / "catalog" / "departments")


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    """A copy of the real `policies/` model and rules, free to edit."""
    directory = tmp_path / "policies"
    directory.mkdir()
    shutil.copy(ROOT / "policies" / "model.conf", directory / "model.conf")
    shutil.copytree(ROOT / "policies" / "rules", directory / "rules")
    return directory


def add_rule_file(policy_dir: Path, line: str) -> None:
    """`rules/zz.csv` with a comment, a blank line, then `line` as line 3."""
    text = f"# added by the test\n\n{line}\n"
    (policy_dir / "rules" / "zz.csv").write_text(text, encoding="utf-8")


def load_error(policy_dir: Path, catalog: Catalog, line: str) -> ConfigurationError:
    add_rule_file(policy_dir, line)
    with pytest.raises(ConfigurationError) as raised:
        load_rules(policy_dir, catalog)
    error = raised.value
    assert error.file.endswith("zz.csv")
    assert error.where == "line 3"
    return error


def test_the_real_rules_load(catalog: Catalog) -> None:
    rules = load_rules(ROOT / "policies", catalog)
    assert isinstance(rules, RuleSet)
    assert rules.version


def test_unknown_resource_is_refused(policy_dir: Path, catalog: Catalog) -> None:
    error = load_error(
        policy_dir, catalog, f"p, {CIVIL_AFFAIRS}, people.name, read_clear, administrative_basis"
    )
    assert "'people.name'" in error.problem
    assert "catalog resource" in error.problem


def test_unknown_resource_with_wildcard_is_refused(policy_dir: Path, catalog: Catalog) -> None:
    error = load_error(policy_dir, catalog, f"p, {CIVIL_AFFAIRS}, people.*, read_clear, *")
    assert "'people.*'" in error.problem


def test_resource_without_item_is_refused(policy_dir: Path, catalog: Catalog) -> None:
    error = load_error(policy_dir, catalog, f"p, {CIVIL_AFFAIRS}, person, read_clear, *")
    assert "'person'" in error.problem
    assert "resource.item" in error.problem


def test_unknown_item_of_known_resource_is_refused(policy_dir: Path, catalog: Catalog) -> None:
    error = load_error(
        policy_dir,
        catalog,
        f"p, {CIVIL_AFFAIRS}, person.nickname, read_clear, administrative_basis",
    )
    assert "'nickname'" in error.problem
    assert "'person'" in error.problem


def test_granting_a_not_shared_item_is_refused(policy_dir: Path, catalog: Catalog) -> None:
    error = load_error(
        policy_dir,
        catalog,
        f"p, {CIVIL_AFFAIRS}, tax_registration.annualTaxPaid, read_clear, administrative_basis",
    )
    assert "tax_registration.annualTaxPaid" in error.problem
    assert "not_shared" in error.problem
    assert "Art. 4" in error.problem


def test_granting_an_unconditional_item_is_refused(policy_dir: Path, catalog: Catalog) -> None:
    error = load_error(
        policy_dir, catalog, f"p, {CIVIL_AFFAIRS}, person.name, read_clear, administrative_basis"
    )
    assert "person.name" in error.problem
    assert "unconditional" in error.problem


def test_unknown_action_is_refused(policy_dir: Path, catalog: Catalog) -> None:
    error = load_error(
        policy_dir, catalog, f"p, {CIVIL_AFFAIRS}, person.phone, write, administrative_basis"
    )
    assert "'write'" in error.problem
    assert "action" in error.problem


def test_unknown_purpose_is_refused(policy_dir: Path, catalog: Catalog) -> None:
    error = load_error(
        policy_dir, catalog, f"p, {CIVIL_AFFAIRS}, person.phone, read_clear, curiosity"
    )
    assert "'curiosity'" in error.problem
    assert "purpose" in error.problem


def test_rule_without_subject_is_refused(policy_dir: Path, catalog: Catalog) -> None:
    error = load_error(policy_dir, catalog, "p, , person.phone, read_clear, administrative_basis")
    assert "subject" in error.problem


@pytest.mark.parametrize(
    "line",
    [
        pytest.param(f"p, {CIVIL_AFFAIRS}, person.phone, read", id="p-too-few-columns"),
        pytest.param(f"p, {CIVIL_AFFAIRS}, person.phone, read_clear, *, extra", id="p-too-many"),
        pytest.param(f"g, {CIVIL_AFFAIRS}", id="g-too-few-columns"),
        pytest.param("x, a, b", id="unknown-kind"),
    ],
)
def test_malformed_line_is_refused(policy_dir: Path, catalog: Catalog, line: str) -> None:
    error = load_error(policy_dir, catalog, line)
    assert "expected 'p, subject, resource.item, action, purpose'" in error.problem
    assert "'g, member, group'" in error.problem


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        pytest.param(
            f"g, {CIVIL_AFFAIRS}, ", "a group must be named 'group:<name>'", id="g-empty-group"
        ),
        pytest.param(
            f"g, {CIVIL_AFFAIRS}, 11410581005000005D",
            "a group must be named 'group:<name>'",
            id="department-made-a-group",
        ),
        pytest.param(
            "g, group:social_services, 11410581005000006G",
            "a group member must be a department code",
            id="columns-swapped",
        ),
        pytest.param(
            "p, 1141058100500000, person.phone, read_clear, *",
            "is not a department code",
            id="mistyped-department-code",
        ),
        pytest.param(
            "p, group:nobody, person.phone, read_clear, *", "has no members", id="undeclared-group"
        ),
    ],
)
def test_a_subject_or_group_typo_is_refused(
    policy_dir: Path, catalog: Catalog, line: str, problem: str
) -> None:
    """A typo in a g line or a subject must not silently grant or withhold data."""
    assert problem in load_error(policy_dir, catalog, line).problem


def test_a_file_saved_with_a_byte_order_mark_loads(policy_dir: Path, catalog: Catalog) -> None:
    rules = policy_dir / "rules" / "public_security.csv"
    rules.write_bytes(b"\xef\xbb\xbf" + rules.read_bytes())
    assert load_rules(policy_dir, catalog).enforcer.get_policy()


def test_missing_model_is_refused(policy_dir: Path, catalog: Catalog) -> None:
    (policy_dir / "model.conf").unlink()
    with pytest.raises(ConfigurationError) as raised:
        load_rules(policy_dir, catalog)
    assert raised.value.file.endswith("model.conf")
    assert "missing" in raised.value.problem


def test_comments_and_blank_lines_are_ignored(policy_dir: Path, catalog: Catalog) -> None:
    before = load_rules(policy_dir, catalog).enforcer
    (policy_dir / "rules" / "zz.csv").write_text(
        "# p, 11410581005000006G, people.name, write, curiosity\n"
        "\n"
        "   \n"
        "   # an indented comment, x, a, b\n",
        encoding="utf-8",
    )
    after = load_rules(policy_dir, catalog).enforcer
    assert after.get_policy() == before.get_policy()
    assert after.get_grouping_policy() == before.get_grouping_policy()


def test_wildcard_item_and_purpose_are_accepted(policy_dir: Path, catalog: Catalog) -> None:
    """`person.*` with purpose `*` grants every conditional person item for any purpose."""
    add_rule_file(policy_dir, f"p, {EDUCATION}, person.*, read_clear, *")
    policy = SharingPolicy(catalog, load_rules(policy_dir, catalog))
    person = catalog.resources["person"]
    education = Caller(EDUCATION, "林州市教育局", "enrolment")
    for name in ("householdAddress", "phone"):
        for purpose in Purpose:
            decision = policy.decide(education, person, person.item(name), purpose, NOW)
            assert decision.clear, (name, purpose)
            assert decision.basis == "zz.csv:3"


def test_wildcard_rule_does_not_reach_not_shared_items(policy_dir: Path, catalog: Catalog) -> None:
    """`resource.*` is accepted for a resource with not_shared items, but grants only
    its conditional ones: the catalog stays the ceiling."""
    add_rule_file(policy_dir, f"p, {EDUCATION}, tax_registration.*, read_clear, *")
    policy = SharingPolicy(catalog, load_rules(policy_dir, catalog))
    tax = catalog.resources["tax_registration"]
    education = Caller(EDUCATION, "林州市教育局", "enrolment")
    purpose = Purpose.ADMINISTRATIVE_BASIS
    assert policy.decide(education, tax, tax.item("creditRating"), purpose, NOW).allowed
    for name in ("annualTaxPaid", "bankAccount"):
        decision = policy.decide(education, tax, tax.item(name), purpose, NOW)
        assert decision.denial is not None
        assert decision.denial.reason == "NOT_SHARED"


def test_version_is_stable_for_the_same_files(policy_dir: Path, catalog: Catalog) -> None:
    assert load_rules(policy_dir, catalog).version == load_rules(ROOT / "policies", catalog).version


def test_version_changes_when_a_rule_file_changes(policy_dir: Path, catalog: Catalog) -> None:
    original = load_rules(policy_dir, catalog).version
    rule_file = policy_dir / "rules" / "market_regulation.csv"
    rule_file.write_text(
        rule_file.read_text(encoding="utf-8")
        + f"p, {EDUCATION}, enterprise.contactPhone, read_clear, business_collaboration\n",
        encoding="utf-8",
    )
    changed = load_rules(policy_dir, catalog).version
    assert changed != original


def test_version_changes_when_a_rule_file_is_added(policy_dir: Path, catalog: Catalog) -> None:
    original = load_rules(policy_dir, catalog).version
    add_rule_file(policy_dir, f"p, {EDUCATION}, person.phone, read_clear, business_collaboration")
    assert load_rules(policy_dir, catalog).version != original


def test_version_changes_when_the_model_changes(policy_dir: Path, catalog: Catalog) -> None:
    original = load_rules(policy_dir, catalog).version
    model = policy_dir / "model.conf"
    model.write_text(model.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert load_rules(policy_dir, catalog).version != original
