"""Grant changes applied to the policy in force, not loaded again: after any sequence of
grants made and revoked, the policy a reload follows to decides exactly as one loaded
whole from the same store, under the same version, and never reads the rule files."""

from __future__ import annotations

import datetime
import random
from pathlib import Path

import pytest

import grants.policy_source as policy_source
from catalog import load_catalog
from grants import Grant, GrantStore, PolicySource
from policies import Caller, Purpose
from policies.decision import Action
from resolvers import Served
from settings import ROOT
from tests.grants.conftest import load

pytestmark = pytest.mark.anyio

CATALOG = load_catalog(ROOT / "catalog" / "departments")
BY = {"operator": "gs-admin", "reason": "test"}
EDUCATION = "11410581005000008N"
CALLERS = [
    Caller(EDUCATION, "林州市教育局", "school-enrolment", None, (("township", "开元街道"),)),
    Caller("11410581005000007K", "林州市住房和城乡建设局", "planning-permits"),
]
CONDITIONAL = [
    (resource, item)
    for resource in CATALOG.resources.values()
    for item in resource.items
    if item.share_type == "conditional"
]
NOW = datetime.datetime.now(datetime.UTC)


def random_grant(draw: random.Random) -> Grant:
    resource, item = draw.choice(CONDITIONAL)
    hours = draw.choice([None, -2, 3])
    return Grant(
        consumer=draw.choice([EDUCATION, f"{EDUCATION}/school-enrolment", "11410581005000007K"]),
        resource_id=resource.id,
        items=(item.name,),
        action=draw.choice([Action.READ_CLEAR, Action.VERIFY]),
        purposes=(draw.choice(list(Purpose)),),
        reference="林数〔2026〕1号",
        scope=draw.choice(["", "township=township"]) if resource.id == "person" else "",
        valid_until=None if hours is None else NOW + datetime.timedelta(hours=hours),
    )


def decisions(source: PolicySource[Served]) -> list[tuple[str, str]]:
    policy = source.current.policy
    return [
        (decision.outcome.value, decision.basis)
        for caller in CALLERS
        for resource, item in CONDITIONAL
        for purpose in Purpose
        for action in (Action.READ_CLEAR, Action.VERIFY)
        for decision in [policy.decide(caller, resource, item, purpose, NOW, action)]
    ]


@pytest.fixture
def no_rule_files(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading the rule files fails: only a reload that does not read them succeeds."""

    monkeypatch.setattr(policy_source, "load_rules", _unread)


@pytest.mark.parametrize("seed", range(6))
async def test_changes_followed_decide_as_the_store_loaded_whole(
    seed: int, catalog_dir: Path, policy_dir: Path, grants: GrantStore, source: PolicySource[Served]
) -> None:
    draw = random.Random(seed)
    made: list[int] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(policy_source, "load_rules", _unread)
        for _ in range(4):
            for _ in range(draw.randint(1, 4)):
                if made and draw.random() < 0.4:
                    revoked = made.pop(draw.randrange(len(made)))
                    assert await grants.revoke(revoked, **BY)
                else:
                    grant = await grants.add(random_grant(draw), CATALOG, **BY)
                    assert grant.id is not None
                    made.append(grant.id)
            assert await source.reload(), source.problem
    whole = await load(catalog_dir, policy_dir, grants)
    assert source.current.version == whole.current.version
    assert decisions(source) == decisions(whole)


async def test_a_grant_made_and_revoked_between_two_reloads_is_not_in_force(
    source: PolicySource[Served], grants: GrantStore, no_rule_files: None
) -> None:
    before = decisions(source)
    grant = random_grant(random.Random(7))
    made = await grants.add(grant, CATALOG, **BY)
    assert made.id is not None and await grants.revoke(made.id, **BY)
    assert await source.reload()
    assert decisions(source) == before
    assert source.current.seen.grants == 2


async def test_more_changes_than_are_followed_are_read_whole(
    catalog_dir: Path,
    policy_dir: Path,
    grants: GrantStore,
    source: PolicySource[Served],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(policy_source, "FOLLOWED_CHANGES", 2)
    draw = random.Random(3)
    for _ in range(3):
        await grants.add(random_grant(draw), CATALOG, **BY)
    read = 0
    loading = policy_source.load_rules

    def counted(*arguments: object, **named: object) -> object:
        nonlocal read
        read += 1
        return loading(*arguments, **named)  # type: ignore[arg-type]

    monkeypatch.setattr(policy_source, "load_rules", counted)
    assert await source.reload()
    assert read == 1, "three changes, two followed at most: the grants were read whole"
    assert decisions(source) == decisions(await load(catalog_dir, policy_dir, grants))


def _unread(*_: object, **__: object) -> object:
    raise AssertionError("a grant change read the rule files again")
