"""The rule index serves decisions; the Casbin model is its reference. With thousands of
rules that overlap on every axis (subjects, groups, systems, `*` items, purposes,
scopes, windows), the index allows exactly what `enforce_ex` allows, explained by the
same rule; an index changed rule by rule answers as one built whole."""

from __future__ import annotations

import datetime
import random
from pathlib import Path

import casbin
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog import load_catalog
from errors import ConfigurationError
from policies.index import RuleIndex
from policies.rule import INSTANT, Rule, instant
from policies.rules import load_rules
from settings import ROOT

MODEL = (ROOT / "policies" / "model.conf").read_text(encoding="utf-8")
DEPARTMENTS = [f"1141058100500000{n}X" for n in range(10, 15)]
GROUPS = ["group:relief", "group:planning", "group:health"]
SYSTEMS = [f"{d}/system-{n}" for d in DEPARTMENTS[:3] for n in (1, 2)]
OBJECTS = [f"{r}.{i}" for r in ("person", "enterprise") for i in ("a", "b", "*")]
ACTIONS = ["read_clear", "read_masked", "verify"]
PURPOSES = ["administrative_basis", "work_reference", "data_verification", "*"]
SCOPES = ["", "", "township=township", "name=township"]
MOMENTS = ["", "", "2026-11-01T00:00:00.000000Z", "2026-11-20T00:00:00.000000Z",
           "2026-12-01T00:00:00.000000Z"]  # fmt: skip


def random_rules(seed: int, count: int) -> list[Rule]:
    draw = random.Random(seed)
    rules = []
    for number in range(count):
        start, end = sorted([draw.choice(MOMENTS), draw.choice(MOMENTS)])
        rules.append(
            Rule(
                draw.choice([*DEPARTMENTS, *GROUPS, *SYSTEMS]),
                draw.choice(OBJECTS),
                draw.choice(ACTIONS),
                draw.choice(PURPOSES),
                draw.choice(SCOPES),
                start,
                end if end != start else "",
                f"grant:{number}",
            )
        )
    return rules


MEMBERS = [(DEPARTMENTS[0], GROUPS[0]), (DEPARTMENTS[0], GROUPS[1]), (DEPARTMENTS[2], GROUPS[2])]
RULES = random_rules(2026, 3000)
INDEX = RuleIndex.of(RULES, MEMBERS)


def reference(rules: list[Rule]) -> casbin.Enforcer:
    enforcer = casbin.Enforcer(casbin.Enforcer.new_model(text=MODEL))
    for member, group in MEMBERS:
        enforcer.add_named_grouping_policy("g", member, group)
    for rule in rules:
        enforcer.add_named_policy("p", *rule.values())
    return enforcer


ENFORCER = reference(RULES)

requests = st.tuples(
    st.sampled_from(DEPARTMENTS),
    st.sampled_from([*SYSTEMS, f"{DEPARTMENTS[4]}/other"]),
    st.sampled_from([o.replace("*", "c") for o in OBJECTS] + ["person.a", "enterprise.b"]),
    st.sampled_from(ACTIONS),
    st.sampled_from(PURPOSES[:3]),
    st.sampled_from(["2026-10-01T00:00:00.000000Z", "2026-11-20T00:00:00.000000Z", *MOMENTS[2:]]),
    st.sampled_from(SCOPES[1:]),
)


@pytest.mark.slow
@settings(max_examples=300, derandomize=True, deadline=None)
@given(request=requests)
def test_the_index_allows_what_casbin_allows_by_the_same_rule(
    request: tuple[str, str, str, str, str, str, str],
) -> None:
    allowed, explained = ENFORCER.enforce_ex(*request)
    found = INDEX.match(*request)
    assert (found is not None) == allowed
    if found is not None:
        assert found.basis == explained[-1]


@settings(
    max_examples=40,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(seed=st.integers(0, 10_000), request=requests)
def test_an_index_changed_rule_by_rule_answers_as_one_built_whole(
    seed: int, request: tuple[str, str, str, str, str, str, str]
) -> None:
    draw = random.Random(seed)
    rules = random_rules(seed, 300)
    kept = [rule for rule in rules if draw.random() < 0.7]
    gone = [rule for rule in rules if rule not in kept]
    changed = RuleIndex.of(rules[:100], MEMBERS)
    changed = changed.changed(added=rules[100:])
    for rule in gone:  # one revocation at a time, as grants are revoked
        changed = changed.changed(removed=[rule])
    whole = RuleIndex.of(kept, MEMBERS)
    assert changed.match(*request) == whole.match(*request)
    resource, _, item = request[2].partition(".")
    for now in MOMENTS[2:]:
        assert changed.next_change(resource, item, now) == whole.next_change(resource, item, now)


def test_a_rule_revoked_then_given_again_goes_to_the_end_of_the_order() -> None:
    first = Rule(DEPARTMENTS[1], "person.a", "verify", "*", basis="grant:1")
    second = Rule(DEPARTMENTS[1], "person.*", "verify", "*", basis="grant:2")
    index = RuleIndex.of([first, second], [])
    request = (DEPARTMENTS[1], "x/y", "person.a", "verify", "work_reference", MOMENTS[2], "")
    assert index.match(*request) == first
    assert index.changed(removed=[first]).changed(added=[first]).match(*request) == second


def test_a_model_with_another_matcher_is_refused(tmp_path: Path) -> None:
    policy_dir = tmp_path / "policies"
    (policy_dir / "rules").mkdir(parents=True)
    changed = MODEL.replace("r.act == p.act", "(r.act == p.act || p.act == 'verify')")
    (policy_dir / "model.conf").write_text(changed, encoding="utf-8")
    with pytest.raises(ConfigurationError) as refused:
        load_rules(policy_dir, load_catalog(ROOT / "catalog" / "departments"))
    assert refused.value.file.endswith("model.conf")
    assert "the matcher is not the sharing model's" in refused.value.problem


def test_the_rule_sets_casbin_model_holds_what_add_policy_would_give_it() -> None:
    catalog = load_catalog(ROOT / "catalog" / "departments")
    grants = [
        Rule(DEPARTMENTS[1], "person.phone", "read_clear", "*", basis=f"grant:{number}")
        for number in range(50)
    ]
    rules = load_rules(ROOT / "policies", catalog, grants)
    added = casbin.Enforcer(casbin.Enforcer.new_model(text=rules.model))
    for member, group in rules.groups:
        added.add_named_grouping_policy("g", member, group)
    for rule in rules.rules:
        added.add_named_policy("p", *rule.values())
    assert rules.enforcer.get_policy() == added.get_policy()
    assert rules.enforcer.get_grouping_policy() == added.get_grouping_policy()
    request = (
        DEPARTMENTS[1],
        "x/y",
        "person.phone",
        "read_clear",
        "work_reference",
        MOMENTS[2],
        "",
    )
    assert rules.enforcer.enforce_ex(*request) == added.enforce_ex(*request)


@pytest.mark.parametrize(
    "moment",
    [
        datetime.datetime(2026, 12, 7, 19, 37, 7, 123456, tzinfo=datetime.UTC),
        datetime.datetime(2026, 1, 1, 0, 0, 0, tzinfo=datetime.UTC),  # no microseconds
        datetime.datetime(
            2026, 1, 1, 7, 59, 59, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=8))
        ),
        datetime.datetime(999, 3, 4, 5, 6, 7, 8, tzinfo=datetime.UTC),
    ],
)
def test_a_time_is_written_as_the_model_compares_it(moment: datetime.datetime) -> None:
    """Field by field, exactly as the model's format says: in UTC, fixed width past the
    year, so that the rules' times and `now` compare as text."""
    assert instant(moment) == moment.astimezone(datetime.UTC).strftime(INSTANT)
