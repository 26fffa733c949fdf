"""`python -m policies explain`: the engine's outcome for one caller, item, purpose and
time, the rule lines and grants behind it, and the rules that almost applied."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from catalog import Catalog, load_catalog
from policies.caller import Purpose
from policies.decision import Action
from policies.engine import SharingPolicy
from policies.explain import Asked, explain, render
from policies.named import find_item, parse_caller
from policies.rule import Rule, grant_rules
from policies.rules import load_rules
from settings import ROOT
from tests.policies.command_line import policies

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
NOW = datetime.datetime(2026, 12, 15, 9, 0, tzinfo=SHANGHAI)
ENROLMENT = "11410581005000008N/school-enrolment"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(ROOT / "catalog" / "departments")


def address_grant() -> list[Rule]:
    """Grant 1: the enrolment system reads addresses in its own township, from 1 December
    to 1 March."""
    return grant_rules(
        ENROLMENT,
        ("person", ["householdAddress"]),
        "read_clear",
        ["administrative_basis"],
        "township=township",
        (
            datetime.datetime(2026, 12, 1, 8, 0, tzinfo=SHANGHAI),
            datetime.datetime(2027, 3, 1, 8, 0, tzinfo=SHANGHAI),
        ),
        1,
    )


def explained(
    catalog: Catalog,
    caller: str,
    item: str,
    purpose: Purpose | None,
    *,
    action: Action = Action.READ_CLEAR,
    now: datetime.datetime = NOW,
    attributes: dict[str, str] | None = None,
    row: dict[str, str] | None = None,
    grants: list[Rule] | None = None,
) -> str:
    rules = load_rules(ROOT / "policies", catalog, grants or [])
    resource, data_item = find_item(catalog, item)
    asked = Asked(parse_caller(caller, attributes), resource, data_item, purpose, now, action, row)
    return render(explain(SharingPolicy(catalog, rules), asked))


def test_a_rule_line_decides_and_its_neighbour_almost_did(catalog: Catalog) -> None:
    assert explained(
        catalog,
        "11410581005000006G/marriage-registry",
        "person.householdAddress",
        Purpose.ADMINISTRATIVE_BASIS,
    ).splitlines() == [
        "asked:    11410581005000006G/marriage-registry reads person.householdAddress for "
        "administrative_basis at 2026-12-15T09:00+08:00",
        "outcome:  clear",
        "decided by:",
        "  public_security.csv:3  p, 11410581005000006G/marriage-registry, "
        "person.householdAddress, read_clear, administrative_basis",
        "almost matched:",
        "  public_security.csv:4  p, 11410581005000006G/marriage-registry, "
        "person.householdAddress, verify, data_verification",
        "      permits verify, not what was asked; for data_verification, not administrative_basis",
    ]


def test_a_rule_for_another_system_of_the_department_almost_matched(catalog: Catalog) -> None:
    text = explained(
        catalog,
        "11410581005000006G/archive",
        "person.householdAddress",
        Purpose.ADMINISTRATIVE_BASIS,
    )
    assert "outcome:  masked\n" in text
    assert "because:  the catalog shows the item masked to every department" in text
    assert (
        "  public_security.csv:3  p, 11410581005000006G/marriage-registry, "
        "person.householdAddress, read_clear, administrative_basis\n"
        "      for the system 11410581005000006G/marriage-registry, not "
        "11410581005000006G/archive\n"
    ) in text


def test_a_scoped_grant_without_a_row_says_what_both_sides_get(catalog: Catalog) -> None:
    text = explained(
        catalog,
        ENROLMENT,
        "person.householdAddress",
        Purpose.ADMINISTRATIVE_BASIS,
        attributes={"township": "开元街道"},
        grants=address_grant(),
    )
    assert "outcome:  clear within township=township, else masked\n" in text
    assert "(scoped: give --row item=value … to see what one row gets)" in text
    assert (
        "decided by:\n"
        "  grant 1  11410581005000008N/school-enrolment, person.householdAddress, read_clear, "
        "administrative_basis, scope township=township, valid "
        "2026-12-01T08:00+08:00..2027-03-01T08:00+08:00\n"
    ) in text


@pytest.mark.parametrize(("township", "outcome"), [("开元街道", "clear"), ("横水镇", "masked")])
def test_a_row_inside_or_outside_the_scope(catalog: Catalog, township: str, outcome: str) -> None:
    text = explained(
        catalog,
        ENROLMENT,
        "person.householdAddress",
        Purpose.ADMINISTRATIVE_BASIS,
        attributes={"township": "开元街道"},
        row={"township": township},
        grants=address_grant(),
    )
    assert f"outcome:  {outcome}\n" in text
    if outcome == "masked":
        assert "almost matched:\n  grant 1  " in text
        assert "      the row is outside its scope township=township" in text
    else:
        assert "decided by:\n  grant 1  " in text and "almost matched" not in text


def test_outside_its_window_a_grant_almost_matched(catalog: Catalog) -> None:
    text = explained(
        catalog,
        ENROLMENT,
        "person.householdAddress",
        Purpose.ADMINISTRATIVE_BASIS,
        now=datetime.datetime(2027, 3, 1, 8, 0, tzinfo=SHANGHAI),
        attributes={"township": "开元街道"},
        row={"township": "开元街道"},
        grants=address_grant(),
    )
    assert "outcome:  masked\n" in text
    assert "      ended 2027-03-01T08:00+08:00" in text


def test_where_the_catalog_decides_it_says_so(catalog: Catalog) -> None:
    text = explained(
        catalog,
        "11410581005000005D",
        "tax_registration.annualTaxPaid",
        Purpose.ADMINISTRATIVE_BASIS,
    )
    assert text.splitlines()[1:] == [
        "outcome:  denied NOT_SHARED",
        "because:  the catalog never shares the item (not_shared)",
    ]


def test_no_rule_for_the_purpose_is_an_application_with_the_near_misses(catalog: Catalog) -> None:
    text = explained(
        catalog,
        "11410581005000005D/tax-admin",
        "marriage_registration.certificateNumber",
        Purpose.ADMINISTRATIVE_BASIS,
        action=Action.VERIFY,
    )
    assert text.splitlines()[1:] == [
        "outcome:  denied NOT_VERIFIABLE",
        "because:  no rule or grant lets this caller read or verify the item",
        "almost matched:",
        "  civil_affairs.csv:7  p, 11410581005000005D, marriage_registration.certificateNumber, "
        "verify, data_verification",
        "      for data_verification, not administrative_basis",
    ]


# --- as a command --------------------------------------------------------------------------


def test_the_command_explains_with_the_stores_grants(tmp_path: Path) -> None:
    ran = policies(
        tmp_path,
        "explain",
        "--caller",
        "11410581005000005D/tax-admin",
        "--item",
        "marriage_registration.certificateNumber",
        "--purpose",
        "data_verification",
        "--action",
        "verify",
        "--now",
        "2026-12-15T09:00",
    )
    assert (ran.code, ran.err) == (0, "")
    assert ran.out.splitlines()[:4] == [
        "asked:    11410581005000005D/tax-admin verifies marriage_registration.certificateNumber "
        "for data_verification at 2026-12-15T09:00+08:00",
        "outcome:  verified",
        "decided by:",
        "  civil_affairs.csv:7  p, 11410581005000005D, marriage_registration.certificateNumber, "
        "verify, data_verification",
    ]


@pytest.mark.parametrize(
    ("arguments", "said"),
    [
        pytest.param(
            ["--caller", "11410581005000099X", "--item", "person.phone"],
            "python -m policies explain: caller department 11410581005000099X is unknown: the "
            "catalog does not have it and no API key was registered for it",
            id="unknown-department",
        ),
        pytest.param(
            ["--caller", "civil affairs", "--item", "person.phone"],
            "python -m policies explain: caller 'civil affairs' is not 'public', a department "
            "code (18 characters such as 11410581005000006G) or '<department code>/<system id>'",
            id="malformed-caller",
        ),
        pytest.param(
            ["--caller", "public", "--item", "person.shoeSize"],
            "python -m policies explain: 'shoeSize' is not a data item of 'person'; its items: "
            "idNumber, name, gender, ethnicity, birthDate, householdAddress, township, phone",
            id="unknown-item",
        ),
        pytest.param(
            ["--caller", "public", "--item", "people.name"],
            "python -m policies explain: 'people.name' names no catalog resource",
            id="unknown-resource",
        ),
        pytest.param(
            ["--caller", "public", "--item", "person.name", "--purpose", "curiosity"],
            "argument --purpose: invalid choice: 'curiosity'",
            id="unknown-purpose",
        ),
    ],
)
def test_what_cannot_be_explained_is_refused_clearly(
    tmp_path: Path, arguments: list[str], said: str
) -> None:
    ran = policies(tmp_path, "explain", *arguments)
    assert (ran.code, ran.out) == (2, "")
    assert said in ran.err
    assert "Traceback" not in ran.err
