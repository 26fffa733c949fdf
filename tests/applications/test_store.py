"""Applications in the platform store, on SQLite and PostgreSQL: the state machine's
steps, each on record (who, when, what, why); illegal steps refused with the state
found; an approval that is a grant in the same transaction; and of two answers at once,
exactly one wins."""

from __future__ import annotations

import asyncio
import datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from applications import (
    Actor,
    ApplicationProblem,
    DuplicateApplication,
    State,
    Step,
    TransitionRefused,
    approved_terms,
)
from grants import GrantStore
from policies.decision import Action
from tests.applications.helpers import (
    APPLICANT,
    APPROVER,
    CATALOG,
    CONSUMER,
    PUBLIC_SECURITY,
    application_store,
    draft,
    engine,
    in_days,
)

pytestmark = pytest.mark.anyio
__all__ = ["engine"]  # the fixture, used by name


async def test_an_application_is_due_one_working_day_on_and_on_record(engine: AsyncEngine) -> None:
    store = application_store(engine)
    made, not_shared = draft()
    assert not_shared is None
    application = await store.apply(made)
    assert application.state is State.APPLIED
    assert application.consumer == CONSUMER and application.applicant == APPLICANT.person
    assert application.due_at == store.calendar.deadline(application.made_at).due_at
    assert application.due_at.tzinfo is datetime.UTC
    [step] = application.steps
    assert (step.step, step.state, step.actor) == (Step.APPLY, State.APPLIED, APPLICANT)
    assert step.terms["items"] == ["creditRating"]
    assert application.acknowledged.startswith("Art. 11")


async def test_approved_as_asked_becomes_a_grant_in_the_same_step(engine: AsyncEngine) -> None:
    store = application_store(engine)
    application = await store.apply(draft()[0])
    approved = await store.approve(
        application.id, application.asked, APPROVER, "纳税信用核查，同意", CATALOG
    )
    assert approved.state is State.APPROVED and approved.answered_at is not None
    [grant] = await GrantStore(engine).listed()
    assert grant.id == approved.grant_id
    assert (grant.consumer, grant.resource_id, grant.items) == (
        CONSUMER,
        "tax_registration",
        ("creditRating",),
    )
    assert grant.valid_until == application.asked.valid_until
    assert grant.reference.startswith(f"application {application.id}")
    [history] = await GrantStore(engine).history()
    assert (history.operator, history.reason) == (APPROVER.person, "纳税信用核查，同意")
    step = approved.steps[-1]
    assert (step.step, step.actor, step.reason) == (Step.APPROVE, APPROVER, "纳税信用核查，同意")
    assert step.terms["grant"] == grant.id


async def test_approved_narrower_masked_and_shorter(engine: AsyncEngine) -> None:
    store = application_store(engine)
    made, _ = draft("person", ("householdAddress", "phone"), provider=PUBLIC_SECURITY)
    application = await store.apply(made)
    narrower = approved_terms(application.asked, ["householdAddress"], None, in_days(7), True)
    approved = await store.approve(application.id, narrower, APPROVER, "仅限脱敏地址", CATALOG)
    assert approved.state is State.APPROVED_NARROWER
    [grant] = await GrantStore(engine).listed()
    assert grant.items == ("householdAddress",) and grant.action is Action.READ_MASKED
    assert grant.valid_until == narrower.valid_until < application.asked.valid_until


def test_an_approval_cannot_widen_what_was_asked() -> None:
    asked = draft(scope="township=township")[0].asked
    with pytest.raises(ApplicationProblem) as raised:
        approved_terms(asked, ["creditRating", "annualTaxPaid"], "", in_days(365), False)
    message = str(raised.value)
    assert "approve some of the items applied for, and no others" in message
    assert "the scope must keep every term asked for" in message
    assert "ends no later than the validity applied for" in message


async def test_illegal_transitions_are_refused_with_the_state_found(engine: AsyncEngine) -> None:
    store = application_store(engine)
    application = await store.apply(draft()[0])
    refused = await store.refuse(application.id, APPROVER, "无相关业务依据")
    assert refused.state is State.REFUSED and refused.steps[-1].reason == "无相关业务依据"
    with pytest.raises(
        TransitionRefused, match=f"application {application.id} is refused: it cannot approve"
    ):
        await store.approve(application.id, application.asked, APPROVER, "同意", CATALOG)
    with pytest.raises(TransitionRefused, match="is refused: it cannot refuse"):
        await store.refuse(application.id, APPROVER, "again")
    with pytest.raises(TransitionRefused, match="is refused: it cannot revoke"):
        await store.revoke(application.id, APPROVER, "why")
    assert await GrantStore(engine).listed() == []
    assert [step.step for step in (await store.get(application.id)).steps] == [
        Step.APPLY,
        Step.REFUSE,
    ]


async def test_withdrawn_revoked_and_expired(engine: AsyncEngine) -> None:
    store = application_store(engine)
    first = await store.apply(draft()[0])
    withdrawn = await store.withdraw(first.id, APPLICANT, "案件已办结")
    assert withdrawn.state is State.WITHDRAWN

    second = await store.apply(draft()[0])
    await store.approve(second.id, second.asked, APPROVER, "同意", CATALOG)
    revoked = await store.revoke(second.id, APPROVER, "发现超范围使用")
    assert revoked.state is State.REVOKED
    assert await GrantStore(engine).listed() == []  # the grant is revoked with it

    third = await store.apply(draft()[0])
    await store.approve(third.id, third.asked, APPROVER, "同意", CATALOG)
    assert await store.expire_ended() == []
    assert await store.expire_ended(in_days(91)) == [third.id]
    expired = await store.get(third.id)
    assert expired.state is State.EXPIRED and expired.steps[-1].actor == Actor("platform", None)


async def test_a_duplicate_of_an_open_application_points_to_it(engine: AsyncEngine) -> None:
    store = application_store(engine)
    application = await store.apply(draft()[0])
    with pytest.raises(DuplicateApplication) as raised:
        await store.apply(draft()[0])
    assert raised.value.open_id == application.id
    assert f"application {application.id}" in str(raised.value)
    await store.refuse(application.id, APPROVER, "材料不全")
    assert (await store.apply(draft()[0])).state is State.APPLIED  # it is answered now


async def test_of_two_concurrent_answers_exactly_one_wins(engine: AsyncEngine) -> None:
    store = application_store(engine)
    for _ in range(5):
        application = await store.apply(draft()[0])
        answers = await asyncio.gather(
            store.approve(application.id, application.asked, APPROVER, "同意", CATALOG),
            store.refuse(application.id, APPROVER, "不同意"),
            store.approve(application.id, application.asked, APPROVER, "同意", CATALOG),
            return_exceptions=True,
        )
        won = [answer for answer in answers if not isinstance(answer, BaseException)]
        lost = [answer for answer in answers if isinstance(answer, BaseException)]
        assert len(won) == 1, answers
        assert all(isinstance(answer, TransitionRefused) for answer in lost), lost
        final = await store.get(application.id)
        answered = [step for step in final.steps if step.step is not Step.APPLY]
        assert len(answered) == 1 and final.state is answered[0].state
        if final.state is State.APPROVED:
            await store.revoke(application.id, APPROVER, "next round")
    in_force = await GrantStore(engine).listed()
    assert in_force == []


async def test_of_two_applications_for_one_item_at_once_exactly_one_is_taken(
    engine: AsyncEngine,
) -> None:
    store = application_store(engine)
    for _ in range(3):
        made = await asyncio.gather(
            *(store.apply(draft()[0]) for _ in range(3)), return_exceptions=True
        )
        taken = [found for found in made if not isinstance(found, BaseException)]
        refused = [found for found in made if isinstance(found, BaseException)]
        assert len(taken) == 1, made
        assert all(
            isinstance(r, DuplicateApplication) and r.open_id == taken[0].id for r in refused
        )
        await store.withdraw(taken[0].id, APPLICANT, None)  # its items are free again
