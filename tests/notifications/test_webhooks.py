"""Signed webhooks, verified by a receiving server: a new application told to its
provider, the answer to its consumer, an escalation to the office; a failing receiver
tried again with backoff, dead-lettered after the last attempt and retried by id; the
reminders before a deadline and before a grant ends; every attempt in the history."""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from applications import ApplicationStore
from notifications import DeliveryState, Notifier, Outbox
from notifications.outbox import OFFICE
from settings import Settings, WebhookTarget
from tests.applications.helpers import (
    APPLICANT,
    APPROVER,
    CATALOG,
    MARRIAGE,
    TAXATION,
    application_store,
    draft,
    engine,
)
from tests.conftest import serving
from tests.grants.test_follower import eventually

pytestmark = pytest.mark.anyio
__all__ = ["engine"]  # the fixture, used by name

SECRETS = {
    TAXATION: "tax-bureau-secret-0001",
    MARRIAGE: "civil-affairs-secret-01",
    OFFICE: "office-secret-000001",
}


@dataclass
class Receiver:
    """A department system's webhook endpoint: checks each signature as a receiver must,
    and answers 500 to the first `failing` requests."""

    failing: int = 0
    heard: list[dict[str, Any]] = field(default_factory=list)
    refused: int = 0

    @contextlib.contextmanager
    def running(self) -> Iterator[str]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                recipient = self.path.strip("/")
                timestamp = self.headers["X-Gov-Share-Timestamp"]
                expected = (
                    "sha256="
                    + hmac.new(
                        SECRETS[recipient].encode(), f"{timestamp}.".encode() + body, hashlib.sha256
                    ).hexdigest()
                )
                fresh = abs(time.time() - int(timestamp)) < 300
                if not (
                    fresh and hmac.compare_digest(expected, self.headers["X-Gov-Share-Signature"])
                ):
                    owner.refused += 1
                    self.send_response(401)
                elif owner.failing > 0:
                    owner.failing -= 1
                    self.send_response(500)
                else:
                    owner.heard.append(
                        {
                            "to": recipient,
                            "event": self.headers["X-Gov-Share-Event"],
                            "body": json.loads(body),
                        }
                    )
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()
            thread.join()


def notifier(store: ApplicationStore, base: str, secrets: dict[str, str] = SECRETS) -> Notifier:
    targets = {
        name: WebhookTarget(url=f"{base}/{name}", secret=secret) for name, secret in secrets.items()
    }
    return Notifier(
        Outbox(store.engine, store, frozenset(targets)),
        targets,
        retry_seconds=30,
        attempts=3,
        reminder_hours=2,
    )


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


async def test_each_side_hears_of_its_steps_signed(engine: AsyncEngine) -> None:
    store = application_store(engine)
    receiver = Receiver()
    with receiver.running() as base:
        telling = notifier(store, base)
        application = await store.apply(draft()[0])
        assert await telling.run_once() == 1
        await store.refuse(application.id, APPROVER, "无业务依据")
        await store.escalate(application.id, APPLICANT, "请求协调")
        assert await telling.run_once() == 3
        assert await telling.run_once() == 0, "each step is told once"
    assert receiver.refused == 0
    told = [(heard["to"], heard["event"]) for heard in receiver.heard]
    assert told == [
        (TAXATION, "application.apply"),
        (MARRIAGE, "application.refuse"),
        (TAXATION, "application.escalate"),
        (OFFICE, "application.escalate"),
    ]
    refusal = receiver.heard[1]["body"]
    assert refusal["application"]["id"] == application.id
    assert (
        refusal["step"]["reason"] == "无业务依据" and refusal["step"]["person"] == APPROVER.person
    )
    assert all(d.state is DeliveryState.DELIVERED for d in await telling.outbox.listed())


async def test_a_wrong_secret_is_refused_by_the_receiver(engine: AsyncEngine) -> None:
    store = application_store(engine)
    receiver = Receiver()
    with receiver.running() as base:
        telling = notifier(store, base, {TAXATION: "not-the-tax-bureaus-secret"})
        await store.apply(draft()[0])
        assert await telling.run_once() == 0
    assert receiver.refused == 1 and receiver.heard == []
    [delivery] = await telling.outbox.listed()
    assert (delivery.state, delivery.last_status) == (DeliveryState.PENDING, 401)


async def test_retries_with_backoff_then_the_dead_letter_list_and_a_retry_by_id(
    engine: AsyncEngine,
) -> None:
    store = application_store(engine)
    receiver = Receiver(failing=4)
    with receiver.running() as base:
        telling = notifier(store, base)
        await store.apply(draft()[0])
        start = now()
        assert await telling.run_once(start) == 0
        [delivery] = await telling.outbox.listed()
        assert delivery.attempts == 1 and delivery.last_status == 500
        assert delivery.next_attempt_at == start + datetime.timedelta(seconds=30)
        assert await telling.run_once(start + datetime.timedelta(seconds=29)) == 0
        assert (await telling.outbox.listed())[0].attempts == 1, "not before its time"
        second = start + datetime.timedelta(seconds=30)
        assert await telling.run_once(second) == 0
        [delivery] = await telling.outbox.listed()
        assert delivery.next_attempt_at == second + datetime.timedelta(seconds=60)  # doubled
        assert await telling.run_once(second + datetime.timedelta(seconds=60)) == 0
        [dead] = await telling.outbox.listed(DeliveryState.DEAD)
        assert (dead.attempts, dead.last_error) == (3, "HTTP 500")
        assert await telling.run_once(second + datetime.timedelta(hours=1)) == 0, "dead stays"

        assert await telling.outbox.retry(dead.id, now())
        assert not await telling.outbox.retry(dead.id, now()), "only a dead one is retried"
        assert await telling.run_once() == 0  # the receiver fails once more
        assert await telling.run_once(now() + datetime.timedelta(seconds=31)) == 1
    [delivered] = await telling.outbox.listed()
    assert delivered.state is DeliveryState.DELIVERED and delivered.attempts == 2
    assert [heard["event"] for heard in receiver.heard] == ["application.apply"]


async def test_reminders_before_the_deadline_and_before_a_grant_ends(engine: AsyncEngine) -> None:
    store = application_store(engine)
    receiver = Receiver()
    with receiver.running() as base:
        telling = notifier(store, base)
        waiting = await store.apply(draft()[0])
        approved_one, _ = draft("person", ("householdAddress",), provider="114105810050000011")
        granted = await store.apply(approved_one)
        await store.approve(granted.id, granted.asked, APPROVER, "同意", CATALOG)
        await telling.run_once()
        receiver.heard.clear()
        before_due = waiting.due_at - datetime.timedelta(hours=1)
        await telling.run_once(before_due)
        await telling.run_once(before_due)  # once only
        ending = granted.asked.valid_until - datetime.timedelta(minutes=30)
        await telling.run_once(ending)
        await telling.run_once(granted.asked.valid_until)  # it ends: told without a listing
    told = [
        (heard["to"], heard["event"], heard["body"]["application"]["id"])
        for heard in receiver.heard
    ]
    assert told == [
        (TAXATION, "application.due_soon", waiting.id),
        (MARRIAGE, "grant.ending_soon", granted.id),
        (MARRIAGE, "application.expire", granted.id),
    ]


async def test_a_running_server_tells_the_provider_of_a_new_application(
    settings: Settings,
) -> None:
    receiver = Receiver()
    with receiver.running() as base:
        hooked = settings.model_copy(
            update={
                "application_webhooks": {
                    TAXATION: WebhookTarget(url=f"{base}/{TAXATION}", secret=SECRETS[TAXATION])
                },
                "notify_seconds": 0.05,
            }
        )
        async with serving(hooked) as gateway:
            application = {
                "resource": "tax_registration",
                "fields": ["creditRating"],
                "purpose": "administrative_basis",
                "businessReason": "核实纳税信用",
                "caseReference": "2026-MZ-0118",
                "validUntil": (now() + datetime.timedelta(days=30)).isoformat(),
                "acknowledgeUseConditions": True,
            }
            response = await gateway.query(
                "mutation($a: ApplicationInput!) { applyForAccess(application: $a) { id } }",
                variables={"a": application},
            )
            number = response.json()["data"]["applyForAccess"]["id"]
            await eventually(lambda: _heard(receiver))
    [heard] = receiver.heard
    assert (heard["to"], heard["event"]) == (TAXATION, "application.apply")
    assert heard["body"]["application"]["id"] == number


async def _heard(receiver: Receiver) -> bool:
    return bool(receiver.heard)
