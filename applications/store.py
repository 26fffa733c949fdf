"""Applications in the platform store: made, answered, withdrawn, revoked and expired,
each step with its history row in one transaction.

An answer moves the row with a conditional UPDATE (`WHERE state IN (…)`), its first
statement, so of two answers at once exactly one changes it and the other is refused
with the state it found (`TransitionRefused`). On SQLite the first statement of a
transaction being the write matters: a transaction that read first could not take the
write lock after another's commit. An approval makes its grant in the same transaction
(`GrantStore.add_within`) and announces it once committed, so every instance puts it in
force at once, and a revocation revokes it the same way.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from applications.model import (
    APPROVALS,
    ESCALABLE,
    OPEN,
    PLATFORM,
    TRANSITIONS,
    Actor,
    Application,
    ApplicationNotFound,
    ApplicationProblem,
    DuplicateApplication,
    State,
    Step,
    Terms,
    TransitionRefused,
)
from applications.rows import (
    hold_open,
    holding,
    moment,
    read_applications,
    record_step,
    release,
)
from catalog import Catalog
from grants import Grant, GrantRefused, GrantStore
from store.tables import applications
from workdays import Deadline, WorkingCalendar


@dataclass(frozen=True)
class Draft:
    """An application as the applicant sends it, checked against the catalog already."""

    consumer: str
    applicant: Actor
    provider_code: str
    asked: Terms
    business_reason: str
    case_reference: str
    acknowledged: str


class ApplicationStore:
    def __init__(self, engine: AsyncEngine, grants: GrantStore, calendar: WorkingCalendar) -> None:
        self.engine = engine
        self.grants = grants
        self.calendar = calendar

    async def apply(self, draft: Draft, *, not_shared: str | None = None) -> Application:
        """Record an application, due one working day on; refused with a pointer when an
        open one of the same consumer overlaps it. `not_shared` (the legal basis) records
        it answered at once, by the catalog."""
        now = datetime.datetime.now(datetime.UTC)
        deadline = self.calendar.deadline(now)
        state = State.APPLIED if not_shared is None else State.NOT_SHARED
        try:
            application_id = await self._insert(draft, state, not_shared, now, deadline)
        except IntegrityError:
            open_id = await holding(self.engine, draft.consumer, draft.asked)
            if open_id is None:  # released since: the caller may apply again
                raise
            raise DuplicateApplication(open_id) from None
        return await self.get(application_id)

    async def _insert(
        self,
        draft: Draft,
        state: State,
        not_shared: str | None,
        now: datetime.datetime,
        deadline: Deadline,
    ) -> int:
        async with self.engine.begin() as connection:
            asked = draft.asked
            result = await connection.execute(
                applications.insert().values(
                    consumer=draft.consumer,
                    consumer_department=draft.consumer.partition("/")[0],
                    applicant=draft.applicant.person,
                    provider_code=draft.provider_code,
                    resource_id=asked.resource_id,
                    items=list(asked.items),
                    purpose=asked.purpose.value,
                    business_reason=draft.business_reason,
                    case_reference=draft.case_reference,
                    scope=asked.scope,
                    valid_until=asked.valid_until,
                    acknowledged=draft.acknowledged,
                    state=state.value,
                    made_at=now,
                    due_at=deadline.due_at,
                    provisional=deadline.provisional,
                    answered_at=now if not_shared is not None else None,
                    changed_at=now,
                )
            )
            assert result.inserted_primary_key is not None
            application_id = int(result.inserted_primary_key[0])
            await record_step(
                connection,
                application_id,
                Step.APPLY,
                State.APPLIED,
                draft.applicant,
                None,
                asked.as_json(),
                now,
            )
            if not_shared is None:
                await hold_open(connection, application_id, draft.consumer, asked)
            else:
                await record_step(
                    connection, application_id, Step.REFUSE, state, PLATFORM, not_shared, {}, now
                )
        return application_id

    async def approve(
        self,
        application_id: int,
        approved: Terms,
        by: Actor,
        reason: str,
        catalog: Catalog,
        *,
        by_office: bool = False,
    ) -> Application:
        """Approve as asked or narrower (`Terms.narrower_than`), or, `by_office`, decide
        an escalation by granting on the provider's behalf; the grant is made in the same
        transaction. Raises TransitionRefused for an application not open (escalated)."""
        asked = await self.get(application_id)
        step = Step.DECIDE if by_office else Step.APPROVE
        if by_office:
            state = State.APPROVED_BY_OFFICE
        elif approved.narrower_than(asked.asked):
            state = State.APPROVED_NARROWER
        else:
            state = State.APPROVED
        now = datetime.datetime.now(datetime.UTC)
        grant = Grant(
            consumer=asked.consumer,
            resource_id=approved.resource_id,
            items=approved.items,
            action=approved.action,
            purposes=(approved.purpose,),
            reference=f"application {application_id}: {asked.case_reference}"[:200],
            scope=approved.scope,
            valid_until=approved.valid_until,
        )
        async with self.engine.begin() as connection:
            await self._moved(connection, application_id, step, TRANSITIONS[step], state, now)
            try:
                made, sequence = await self.grants.add_within(
                    connection, grant, catalog, operator=by.person, reason=reason
                )
            except GrantRefused as refused:
                raise ApplicationProblem(f"the approval cannot become a grant: {refused}") from None
            await connection.execute(
                applications.update()
                .where(applications.c.id == application_id)
                .values(grant_id=made.id, granted_until=approved.valid_until)
            )
            terms = {**approved.as_json(), "grant": made.id}
            await record_step(connection, application_id, step, state, by, reason, terms, now)
        await self.grants.announce(sequence)
        return await self.get(application_id)

    async def refuse(self, application_id: int, by: Actor, reason: str) -> Application:
        return await self._answer(application_id, Step.REFUSE, OPEN, State.REFUSED, by, reason)

    async def withdraw(self, application_id: int, by: Actor, reason: str | None) -> Application:
        return await self._answer(application_id, Step.WITHDRAW, OPEN, State.WITHDRAWN, by, reason)

    async def escalate(
        self, application_id: int, by: Actor, statement: str, now: datetime.datetime | None = None
    ) -> Application:
        """Take a refusal, a not_shared answer or an overdue application to the
        coordination office; an application still within its deadline waits for it."""
        application = await self.get(application_id)
        now = now or datetime.datetime.now(datetime.UTC)
        if application.state is State.APPLIED and not application.overdue_at(now):
            raise ApplicationProblem(
                f"application {application_id} is due by {application.due_at.isoformat()}: "
                "it can be escalated once overdue"
            )
        return await self._answer(
            application_id, Step.ESCALATE, ESCALABLE, State.ESCALATED, by, statement
        )

    async def respond(self, application_id: int, by: Actor, statement: str) -> Application:
        """The provider's statement on an escalation: the state stays escalated."""
        escalated = frozenset({State.ESCALATED})
        return await self._answer(
            application_id, Step.RESPOND, escalated, State.ESCALATED, by, statement
        )

    async def uphold(self, application_id: int, by: Actor, reason: str) -> Application:
        """The office upholds the refusal (or the not_shared answer, or the silence)."""
        escalated = frozenset({State.ESCALATED})
        return await self._answer(application_id, Step.DECIDE, escalated, State.UPHELD, by, reason)

    async def revoke(self, application_id: int, by: Actor, reason: str) -> Application:
        """End an approval early: its grant is revoked in the same transaction."""
        now = datetime.datetime.now(datetime.UTC)
        async with self.engine.begin() as connection:
            await self._moved(
                connection, application_id, Step.REVOKE, APPROVALS, State.REVOKED, now
            )
            grant_id = await connection.scalar(
                sa.select(applications.c.grant_id).where(applications.c.id == application_id)
            )
            sequence = None
            if grant_id is not None:
                sequence = await self.grants.revoke_within(
                    connection, int(grant_id), operator=by.person, reason=reason
                )
            await record_step(
                connection, application_id, Step.REVOKE, State.REVOKED, by, reason, {}, now
            )
        if sequence is not None:
            await self.grants.announce(sequence)
        return await self.get(application_id)

    async def expire_ended(self, now: datetime.datetime | None = None) -> list[int]:
        """Approvals whose validity has ended, recorded as expired (the grant itself
        stopped at its end already: the policy reads its validity)."""
        now = now or datetime.datetime.now(datetime.UTC)
        # Compared here, not in SQL: SQLite keeps times as text, and the zone suffix of
        # the parameter would make the comparison a string comparison of two formats.
        async with self.engine.connect() as connection:
            rows = (
                await connection.execute(
                    sa.select(applications.c.id, applications.c.granted_until).where(
                        applications.c.state.in_([s.value for s in APPROVALS])
                    )
                )
            ).all()
        ended = [row.id for row in rows if moment(row.granted_until) <= now]
        expired = []
        for application_id in ended:
            try:
                await self._answer(
                    application_id, Step.EXPIRE, APPROVALS, State.EXPIRED, PLATFORM, None
                )
            except TransitionRefused:
                continue  # revoked or expired meanwhile by another instance
            expired.append(application_id)
        return expired

    async def get(self, application_id: int) -> Application:
        found = await read_applications(self.engine, applications.c.id == application_id)
        if not found:
            raise ApplicationNotFound(f"there is no application {application_id}")
        return found[0]

    async def listed(
        self,
        *,
        consumer_department: str | None = None,
        provider_code: str | None = None,
        states: Iterable[State] | None = None,
    ) -> list[Application]:
        conditions = []
        if consumer_department is not None:
            conditions.append(applications.c.consumer_department == consumer_department)
        if provider_code is not None:
            conditions.append(applications.c.provider_code == provider_code)
        if states is not None:
            conditions.append(applications.c.state.in_([s.value for s in states]))
        return await read_applications(self.engine, sa.and_(sa.true(), *conditions))

    async def _answer(
        self,
        application_id: int,
        step: Step,
        sources: frozenset[State],
        state: State,
        by: Actor,
        reason: str | None,
    ) -> Application:
        now = datetime.datetime.now(datetime.UTC)
        async with self.engine.begin() as connection:
            await self._moved(connection, application_id, step, sources, state, now)
            await record_step(connection, application_id, step, state, by, reason, {}, now)
        return await self.get(application_id)

    async def _moved(
        self,
        connection: AsyncConnection,
        application_id: int,
        step: Step,
        sources: frozenset[State],
        state: State,
        now: datetime.datetime,
    ) -> None:
        """The conditional update every step makes first; TransitionRefused (or
        ApplicationNotFound) when the row is not in one of `sources`."""
        answering = step in (Step.APPROVE, Step.REFUSE, Step.DECIDE)
        result = await connection.execute(
            applications.update()
            .where(
                applications.c.id == application_id,
                applications.c.state.in_([s.value for s in sources]),
            )
            .values(
                state=state.value,
                changed_at=now,
                **({"answered_at": now} if answering else {}),
            )
        )
        if result.rowcount:
            if state is not State.APPLIED:
                await release(connection, application_id)
            return
        found = await connection.scalar(
            sa.select(applications.c.state).where(applications.c.id == application_id)
        )
        if found is None:
            raise ApplicationNotFound(f"there is no application {application_id}")
        raise TransitionRefused(application_id, step, State(found))
