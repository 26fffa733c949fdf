"""Escalation to the coordination office (Art. 8), one test per outcome: a refusal
escalated, answered by the provider and granted by the office on its behalf, or
upheld; a not_shared answer escalated and upheld; an application escalated only once
overdue; and the office's view of overdue applications, per provider."""

from __future__ import annotations

import datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from applications import Actor, ApplicationProblem, State, Step, TransitionRefused
from grants import GrantStore
from tests.applications.helpers import (
    APPLICANT,
    APPROVER,
    CATALOG,
    application_store,
    draft,
    engine,
)

pytestmark = pytest.mark.anyio
__all__ = ["engine"]  # the fixture, used by name

OFFICE = Actor("zhaoliu-0001", "114105810050000993")


async def test_a_refusal_escalated_and_granted_by_the_office(engine: AsyncEngine) -> None:
    store = application_store(engine)
    application = await store.apply(draft()[0])
    await store.refuse(application.id, APPROVER, "无婚姻登记业务依据")
    escalated = await store.escalate(
        application.id, APPLICANT, "婚姻登记须核实纳税信用，见民政部通知"
    )
    assert escalated.state is State.ESCALATED
    responded = await store.respond(application.id, APPROVER, "纳税信用属税务秘密范围")
    assert responded.state is State.ESCALATED
    decided = await store.approve(
        application.id, application.asked, OFFICE, "协调决定：限本案使用", CATALOG, by_office=True
    )
    assert decided.state is State.APPROVED_BY_OFFICE and decided.grant_id is not None
    [grant] = await GrantStore(engine).listed()
    assert grant.id == decided.grant_id
    assert [(s.step, s.actor, s.reason) for s in decided.steps] == [
        (Step.APPLY, APPLICANT, None),
        (Step.REFUSE, APPROVER, "无婚姻登记业务依据"),
        (Step.ESCALATE, APPLICANT, "婚姻登记须核实纳税信用，见民政部通知"),
        (Step.RESPOND, APPROVER, "纳税信用属税务秘密范围"),
        (Step.DECIDE, OFFICE, "协调决定：限本案使用"),
    ]
    revoked = await store.revoke(application.id, APPROVER, "案件已办结")
    assert revoked.state is State.REVOKED and await GrantStore(engine).listed() == []


async def test_a_refusal_escalated_and_upheld(engine: AsyncEngine) -> None:
    store = application_store(engine)
    application = await store.apply(draft()[0])
    await store.refuse(application.id, APPROVER, "无业务依据")
    await store.escalate(application.id, APPLICANT, "请求协调")
    upheld = await store.uphold(application.id, OFFICE, "维持拒绝：无法定依据")
    assert upheld.state is State.UPHELD and upheld.grant_id is None
    assert await GrantStore(engine).listed() == []
    with pytest.raises(TransitionRefused, match="is upheld: it cannot decide"):
        await store.uphold(application.id, OFFICE, "again")


async def test_a_not_shared_answer_escalated_and_upheld(engine: AsyncEngine) -> None:
    store = application_store(engine)
    made, not_shared = draft(items=("annualTaxPaid",))
    assert not_shared is not None and "税收征收管理法" in not_shared
    application = await store.apply(made, not_shared=not_shared)
    assert application.state is State.NOT_SHARED
    await store.escalate(application.id, APPLICANT, "协商未果")
    # The office cannot grant what the catalog does not share: the grant is refused.
    with pytest.raises(ApplicationProblem, match="cannot become a grant"):
        await store.approve(
            application.id, application.asked, OFFICE, "准予", CATALOG, by_office=True
        )
    assert (await store.get(application.id)).state is State.ESCALATED  # nothing changed
    upheld = await store.uphold(application.id, OFFICE, "依法不予共享")
    assert upheld.state is State.UPHELD


async def test_an_application_is_escalated_only_once_overdue(engine: AsyncEngine) -> None:
    store = application_store(engine)
    application = await store.apply(draft()[0])
    with pytest.raises(ApplicationProblem, match="it can be escalated once overdue"):
        await store.escalate(application.id, APPLICANT, "too soon")
    late = application.due_at + datetime.timedelta(seconds=1)
    assert application.overdue_at(late) and not application.overdue_at(application.made_at)
    escalated = await store.escalate(application.id, APPLICANT, "逾期未答复", now=late)
    assert escalated.state is State.ESCALATED
    with pytest.raises(TransitionRefused, match="is escalated: it cannot approve"):
        await store.approve(application.id, application.asked, APPROVER, "同意", CATALOG)
