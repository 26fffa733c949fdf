"""A caller's own view of an item (`policies.access`): the policy's own decisions, with
the window of the rules or grants they rest on."""

from __future__ import annotations

import datetime

from catalog import load_catalog
from policies.access import Access, item_access
from policies.caller import Caller, Purpose
from policies.engine import SharingPolicy
from policies.rule import Rule, instant
from policies.rules import load_rules
from settings import ROOT

CATALOG = load_catalog(ROOT / "catalog" / "departments")
EDUCATION = "11410581005000008N"
ENROLMENT = Caller(EDUCATION, "教育局", "school-enrolment", None, {"township": "开元街道"})
NOW = datetime.datetime(2026, 11, 25, 9, 30, tzinfo=datetime.UTC)
PERSON = CATALOG.resources["person"]


def moment(day: int) -> datetime.datetime:
    return datetime.datetime(2026, 11, day, tzinfo=datetime.UTC)


def granted(*grants: Rule) -> SharingPolicy:
    return SharingPolicy(CATALOG, load_rules(ROOT / "policies", CATALOG, grants))


def grant(number: int, scope: str, start: int, end: int) -> Rule:
    return Rule(
        f"{EDUCATION}/school-enrolment",
        "person.householdAddress",
        "read_clear",
        Purpose.ADMINISTRATIVE_BASIS.value,
        scope,
        instant(moment(start)),
        instant(moment(end)),
        f"grant:{number}",
    )


def test_an_answer_rests_on_the_grant_and_holds_in_its_window() -> None:
    policy = granted(grant(1, "", 1, 30))
    answer = item_access(
        policy,
        ENROLMENT,
        PERSON,
        PERSON.item("householdAddress"),
        Purpose.ADMINISTRATIVE_BASIS,
        NOW,
    )
    assert (answer.access, answer.basis) == (Access.CLEAR, "grant:1")
    assert (answer.valid_from, answer.valid_until) == (moment(1), moment(30))


def test_scopes_from_two_grants_hold_while_both_do() -> None:
    policy = granted(grant(1, "township=township", 1, 30), grant(2, "name=township", 10, 28))
    answer = item_access(
        policy,
        ENROLMENT,
        PERSON,
        PERSON.item("householdAddress"),
        Purpose.ADMINISTRATIVE_BASIS,
        NOW,
    )
    assert answer.basis == "grant:1 | grant:2"
    assert len(answer.scopes) == 2
    assert (answer.valid_from, answer.valid_until) == (moment(10), moment(28))


def test_the_catalog_decides_with_no_window() -> None:
    policy = granted()
    answer = item_access(policy, ENROLMENT, PERSON, PERSON.item("idNumber"), None, NOW)
    assert (answer.access, answer.valid_from, answer.valid_until) == (Access.CLEAR, None, None)
    assert answer.verifiable
