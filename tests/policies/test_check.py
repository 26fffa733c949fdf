"""`python -m policies check`: the repo's rules pass; each kind of problem is found and
named by its file and line, its grant, or its catalog place."""

from __future__ import annotations

import datetime
import shutil
from pathlib import Path

import pytest
import yaml

from auth import DEMO_SYSTEMS
from catalog import Catalog, load_catalog
from errors import ConfigurationError
from policies.check import Checked, Consumers, check
from policies.rule import Rule, grant_rules
from settings import ROOT
from tests.policies.command_line import policies, policy_copy

NOW = datetime.datetime(2026, 12, 15, 1, 0, tzinfo=datetime.UTC)
CIVIL_AFFAIRS = "11410581005000006G"
TAXATION = "11410581005000005D"
PUBLIC_SECURITY = "114105810050000011"
EDUCATION = "11410581005000008N"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(ROOT / "catalog" / "departments")


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    return policy_copy(tmp_path / "policies")


def demo_consumers(catalog: Catalog) -> Consumers:
    """The consumers a demo platform knows: the catalog's departments and the demo keys."""
    return Consumers(
        frozenset(entry.department.code for entry in catalog.departments)
        | {system.department_code for system in DEMO_SYSTEMS},
        frozenset(f"{s.department_code}/{s.system_id}" for s in DEMO_SYSTEMS),
    )


def with_lines(policy_dir: Path, *lines: str) -> Path:
    """`rules/zz.csv`: a comment, then `lines` from line 2 on."""
    text = "# added by the test\n" + "".join(f"{line}\n" for line in lines)
    (policy_dir / "rules" / "zz.csv").write_text(text, encoding="utf-8")
    return policy_dir


def found(checked: Checked) -> list[str]:
    return [str(problem) for problem in checked.problems]


def grant(
    grant_id: int, consumer: str, obj: str, action: str, purpose: str, **window: datetime.datetime
) -> list[Rule]:
    resource, _, item = obj.partition(".")
    return grant_rules(
        consumer,
        (resource, [item]),
        action,
        [purpose],
        "",
        (window.get("valid_from"), window.get("valid_until")),
        grant_id,
    )


def test_the_repo_rules_pass_on_a_demo_platform(catalog: Catalog) -> None:
    checked = check(catalog, ROOT / "policies", [], demo_consumers(catalog), NOW)
    assert (checked.problems, checked.warnings) == ([], [])


def test_every_bad_line_is_named_by_file_and_line_at_once(
    catalog: Catalog, policy_dir: Path
) -> None:
    with_lines(
        policy_dir,
        f"p, {TAXATION}, tax_registration.annualTaxPaid, read_clear, administrative_basis",
        f"p, {CIVIL_AFFAIRS}, person.nickname, read_clear, *",
        f"p, {CIVIL_AFFAIRS}, person.phone, write, *",
        "p, group:nobody, person.phone, read_clear, *",
        "x, what, is, this",
    )
    zz = policy_dir / "rules" / "zz.csv"
    assert found(check(catalog, policy_dir, [], demo_consumers(catalog), NOW)) == [
        f"{zz}:2: tax_registration.annualTaxPaid is not_shared: no rule can grant it (Art. 4)",
        f"{zz}:3: 'nickname' is not a data item of 'person'",
        f"{zz}:4: unknown action 'write'; expected one of ['read_clear', 'read_masked', 'verify']",
        f"{zz}:5: group 'group:nobody' has no members (no 'g' line)",
        f"{zz}:6: expected 'p, subject, resource.item, action, purpose' or 'g, member, group'",
    ]


@pytest.mark.parametrize("action", ["read_masked", "verify"])
def test_masking_or_withholding_a_basic_item_of_a_basic_resource_cites_article_5(
    catalog: Catalog, policy_dir: Path, action: str
) -> None:
    with_lines(policy_dir, f"p, {CIVIL_AFFAIRS}, enterprise.legalRepName, {action}, *")
    [problem] = found(check(catalog, policy_dir, [], demo_consumers(catalog), NOW))
    assert problem.endswith(
        "zz.csv:2: enterprise.legalRepName is unconditional: every department has it already, "
        "a rule is misleading; as a basic item of a basic resource it is never withheld or "
        "masked (Art. 5)"
    )


def test_a_consumer_nobody_knows_is_a_problem_and_a_system_without_a_key_a_warning(
    catalog: Catalog, policy_dir: Path
) -> None:
    with_lines(
        policy_dir,
        "p, 11410581005000099X, person.phone, read_clear, work_reference",
        f"p, {CIVIL_AFFAIRS}/social-relief, person.phone, read_clear, work_reference",
    )
    checked = check(catalog, policy_dir, [], demo_consumers(catalog), NOW)
    zz = policy_dir / "rules" / "zz.csv"
    assert found(checked) == [
        f"{zz}:2: consumer department 11410581005000099X is unknown: the catalog does not have "
        "it and no API key was registered for it"
    ]
    assert [str(warning) for warning in checked.warnings] == [
        f"{zz}:3: no API key is registered for the system {CIVIL_AFFAIRS}/social-relief: it "
        "covers no one yet"
    ]


def test_rules_that_never_decide_anything_are_named_with_the_reason(
    catalog: Catalog, policy_dir: Path
) -> None:
    with_lines(
        policy_dir,
        # the same as public_security.csv:3, which is asked first
        f"p, {CIVIL_AFFAIRS}/marriage-registry, person.householdAddress, read_clear, administrative_basis",
        f"p, {PUBLIC_SECURITY}, person.phone, read_clear, *",  # the provider itself
        f"p, {EDUCATION}, person.phone, read_masked, work_reference",  # masked for all anyway
        "p, role:public, enterprise.contactPhone, read_masked, *",  # the public: catalog only
        f"p, {TAXATION}, enterprise.contactPhone, verify, administrative_basis",  # reads it clear
        f"p, {CIVIL_AFFAIRS}, person.phone, read_clear, work_reference",  # alive: no other rule
    )
    zz = policy_dir / "rules" / "zz.csv"
    assert found(check(catalog, policy_dir, [], demo_consumers(catalog), NOW)) == [
        f"{zz}:2: shadowed by public_security.csv:3: whenever it matches, they answer first",
        f"{zz}:3: can never match: the subject is the item's provider, which reads its own "
        "data, before any rule is asked",
        f"{zz}:4: can never match: the catalog shows the item masked to every department "
        "without a clear rule, before any rule is asked",
        f"{zz}:5: can never match: the catalog alone decides for the public, before any rule "
        "is asked",
        f"{zz}:6: shadowed by market_regulation.csv:6: whenever it matches, they answer first",
    ]


def test_a_grant_the_rule_files_already_give_is_shadowed(
    catalog: Catalog, policy_dir: Path
) -> None:
    with_lines(policy_dir, f"p, {EDUCATION}, person.phone, read_clear, work_reference")
    granted = grant(4, EDUCATION, "person.phone", "read_clear", "work_reference")
    assert found(check(catalog, policy_dir, granted, demo_consumers(catalog), NOW)) == [
        # grants are read after the rule files: the rule answers first, always
        "grant 4: shadowed by zz.csv:2: whenever it matches, they answer first"
    ]


def test_a_grant_shadowed_only_until_another_ends_is_alive(catalog: Catalog) -> None:
    """Decisions change at every start and end: a rule is dead only if it is never asked."""
    ending = grant(
        4,
        EDUCATION,
        "person.phone",
        "read_clear",
        "work_reference",
        valid_until=NOW + datetime.timedelta(days=30),
    )
    lasting = grant(6, EDUCATION, "person.phone", "read_clear", "work_reference")
    checked = check(catalog, ROOT / "policies", ending + lasting, demo_consumers(catalog), NOW)
    assert found(checked) == []


def test_grants_past_their_end_or_no_longer_permitted_are_named_by_id(
    catalog: Catalog,
) -> None:
    ended = grant(
        3,
        EDUCATION,
        "person.phone",
        "read_clear",
        "work_reference",
        valid_from=NOW - datetime.timedelta(days=60),
        valid_until=NOW - datetime.timedelta(days=1),
    )
    # Made when the catalog still shared the item; it is not_shared now.
    forbidden = grant(5, EDUCATION, "tax_registration.bankAccount", "read_clear", "work_reference")
    problems = found(
        check(catalog, ROOT / "policies", ended + forbidden, demo_consumers(catalog), NOW)
    )
    assert problems == [
        "grant 3: ended 2026-12-14T09:00+08:00 but is still in force: revoke it "
        "(python -m policies revoke 3 --operator … --reason …)",
        "grant 5: tax_registration.bankAccount is not_shared: no rule can grant it (Art. 4)",
    ]


def test_one_data_element_served_under_two_share_types_is_found(
    catalog_dir: Path, tmp_path: Path
) -> None:
    """Say the enterprise's legal representative's id number were the same fact as a
    person's own (element DE00001): conditional at market regulation, unconditional in
    the population library, its condition would be bypassed."""
    path = catalog_dir / "market_regulation.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    [item] = [i for i in data["resources"][0]["items"] if i["name"] == "legalRepIdNumber"]
    item["element"] = "DE00001"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    changed = load_catalog(catalog_dir)
    [problem] = found(check(changed, ROOT / "policies", [], demo_consumers(changed), NOW))
    assert problem == (
        f"{catalog_dir / 'civil_affairs.yaml'}: resources(marriage_registration).items(partyAIdNumber): "
        "one fact served two ways: marriage_registration.partyAIdNumber (unconditional), "
        "marriage_registration.partyBIdNumber (unconditional), "
        "insurance_contribution.personIdNumber (unconditional), licence.holderIdNumber "
        "(unconditional), enterprise.legalRepIdNumber (conditional), person.idNumber "
        "(unconditional) hold the same data element DE00001 under different share types or "
        "masks"
    )


def test_an_element_identifier_is_checked_when_the_catalog_loads(catalog_dir: Path) -> None:
    path = catalog_dir / "public_security.yaml"
    text = path.read_text(encoding="utf-8").replace("element: DE00001", "element: 'DE 00001'", 1)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigurationError) as raised:
        load_catalog(catalog_dir)
    assert raised.value.where == "resources[0](person).items[0](idNumber).element"


# --- as a command --------------------------------------------------------------------------


def test_the_command_passes_on_the_repo_after_a_demo(tmp_path: Path) -> None:
    ran = policies(tmp_path, "check", demo=True)
    assert (ran.code, ran.err) == (0, "")
    assert ran.out.endswith("policies: rules and grants agree with the catalog\n")


def test_the_command_fails_on_a_seeded_bad_file_naming_file_and_line(tmp_path: Path) -> None:
    policy_dir = with_lines(
        policy_copy(tmp_path / "policies"),
        f"p, {TAXATION}, tax_registration.annualTaxPaid, read_clear, administrative_basis",
        f"p, {CIVIL_AFFAIRS}, person.name, read_masked, *",
    )
    ran = policies(tmp_path, "check", "--policy", str(policy_dir), demo=True)
    assert ran.code == 1
    zz = policy_dir / "rules" / "zz.csv"
    assert ran.out.splitlines() == [
        f"{zz}:2: tax_registration.annualTaxPaid is not_shared: no rule can grant it (Art. 4)",
        f"{zz}:3: person.name is unconditional: every department has it already, a rule is "
        "misleading; as a basic item of a basic resource it is never withheld or masked (Art. 5)",
    ]
    assert ran.err.splitlines() == [
        "note: rules that never match or are shadowed are looked for once every line loads",
        "2 problems",
    ]


def test_outside_demo_mode_a_consumer_only_the_demo_keys_know_is_unknown(tmp_path: Path) -> None:
    """The housing bureau (11410581005000007K) consumes data but provides none: without a
    registered key the platform does not know it."""
    ran = policies(tmp_path, "check")
    assert ran.code == 1
    assert (
        f"{Path('policies') / 'rules' / 'groups.csv'}:4: consumer department 11410581005000007K is unknown"
        in ran.out
    )
    assert "Traceback" not in ran.err


def test_a_policy_folder_without_a_model_is_a_configuration_error(tmp_path: Path) -> None:
    shutil.rmtree(tmp_path / "empty", ignore_errors=True)
    (tmp_path / "empty").mkdir()
    ran = policies(tmp_path, "check", "--policy", str(tmp_path / "empty"), demo=True)
    assert ran.code == 2
    assert "the Casbin model file is missing" in ran.err
