"""(c), (d), (e), (f): the real platform, in-process (graphql-core's execution, the
reference, and the compiled executor), end-to-end through ASGI, and with governance
switched off by the one off switch there is: a policy only this code passes.

All three share one platform's connectors, so they read through the same pools; a
`before_cursor_execute` listener on each connector's engine counts backend statements.
"""

from __future__ import annotations

import contextlib
import datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event

from auth import demo_key
from bench.servers import UNTHROTTLED
from bench.workload import PURPOSE, SEED, SYSTEM, async_urls, query
from catalog import DataItem, Resource
from connectors import SqlConnector, SqliteConnector
from platform_setup import Platform
from policies import Caller, Decision, Purpose
from policies.decision import Action, clear
from resolvers import Executor, GraphQLRequest, Pinned
from settings import Settings
from web.app import create_app

Json = dict[str, Any]


class StatementCount:
    """Statements sent to a set of engines; variants read deltas of `count`."""

    def __init__(self) -> None:
        self.count = 0

    def listen(self, engine: Any) -> None:
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args: object) -> None:
        self.count += 1


class GovernanceOff:
    """Clears every item for everyone. Benchmark code only: the platform has no setting
    that turns governance off; this object is passed to `Executor` by hand."""

    version = "bench:off"

    def decide(
        self,
        caller: Caller,
        resource: Resource,
        item: DataItem,
        purpose: Purpose | None,
        now: datetime.datetime,
        action: Action = Action.READ_CLEAR,
    ) -> Decision:
        return clear("bench:off")

    def window(self, basis: str) -> tuple[str, str]:
        return "", ""

    def stable_until(self, now: datetime.datetime) -> str | None:
        return None


class Running:
    """The platform behind its ASGI app, started as the server starts it (lifespan)."""

    def __init__(self, paths: dict[str, Path], data_dir: Path, **settings: Any) -> None:
        """`settings`: further Settings fields (e.g. platform_store_url); none by default."""
        sources: dict[str, str | dict[str, Any]] = {**async_urls(paths)}
        self.settings = Settings(
            demo=True,
            seed=SEED,
            data_dir=data_dir,
            sources=sources,
            rate_limit_system=UNTHROTTLED,
            rate_limit_department=UNTHROTTLED,
            **settings,
        )
        self.key = demo_key(SEED, SYSTEM)
        self.sources = StatementCount()
        self.store = StatementCount()
        self._stack = contextlib.AsyncExitStack()

    async def start(self) -> None:
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.app = create_app(self.settings)
        await self._stack.enter_async_context(self.app.router.lifespan_context(self.app))
        self.platform: Platform = self.app.state.platform
        for guarded in self.platform.sources.values():
            connector = guarded.source
            assert isinstance(connector, SqlConnector | SqliteConnector)
            self.sources.listen(connector.sync_engine)
        self.store.listen(self.platform.store.sync_engine)
        self.caller = await self.platform.keys.authenticate(f"Bearer {self.key}", "bench")
        transport = httpx.ASGITransport(app=self.app, client=("10.1.2.3", 50000))
        self.client = await self._stack.enter_async_context(
            httpx.AsyncClient(transport=transport, base_url="http://gov-share")
        )

    async def close(self) -> None:
        await self._stack.aclose()


class GovernedInProcess:
    name = "(c) governed in-process"

    def __init__(self, running: Running, executor: Executor | None = None) -> None:
        """Without `executor`: the platform's, with graphql-core executing every document."""
        self.running = running
        self.executor = executor or _executor(running.platform, compiled=False)
        self.purpose = Purpose(PURPOSE)

    @property
    def statements(self) -> int:
        return self.running.sources.count

    async def run(self, n: int) -> Json:
        outcome = await self.executor.execute(
            GraphQLRequest(query(n)), self.running.caller, self.purpose
        )
        if not outcome.executed or outcome.errors or outcome.data is None:
            raise RuntimeError(f"{self.name} failed: {outcome.errors}")
        return outcome.data

    async def close(self) -> None:
        return None


class CompiledInProcess(GovernedInProcess):
    name = "(f) compiled in-process"

    def __init__(self, running: Running) -> None:
        super().__init__(running, _executor(running.platform, compiled=True))


class GovernanceOffInProcess(GovernedInProcess):
    name = "(e) governance off"

    def __init__(self, running: Running) -> None:
        super().__init__(running, _ungoverned_executor(running.platform))


class GovernedEndToEnd:
    name = "(d) governed end-to-end"

    def __init__(self, running: Running) -> None:
        self.running = running
        self.headers = {
            "Accept": "application/graphql-response+json",
            "Authorization": f"Bearer {running.key}",
            "X-Purpose": PURPOSE,
            "X-Operator": "bench",
        }

    @property
    def statements(self) -> int:
        return self.running.sources.count

    @property
    def store_statements(self) -> int:
        return self.running.store.count

    async def run(self, n: int) -> Json:
        response = await self.running.client.post(
            "/graphql", json={"query": query(n)}, headers=self.headers
        )
        body = response.json()
        if response.status_code != 200 or "errors" in body:
            raise RuntimeError(f"{self.name} failed: {response.status_code} {body.get('errors')}")
        data: Json = body["data"]
        return data

    async def close(self) -> None:
        return None


def _executor(platform: Platform, *, compiled: bool) -> Executor:
    """The platform's own executor, with or without its compiled path."""
    running = platform.executor
    return Executor(
        platform.policy_source,
        cursor_key=running.cursor_key,
        limits=running.limits,
        quota=running.quota,
        stale=running.stale,
        compiled=compiled,
    )


def _ungoverned_executor(platform: Platform) -> Executor:
    """The platform's own executor, with the policy replaced: the policy source given to
    `Executor` is the only off switch, and only this benchmark passes one like it. As
    (c), graphql-core executes, so (c)/(e) is the cost of decisions alone."""
    running = platform.executor
    served = platform.policy_source.current.served
    return Executor(
        Pinned(GovernanceOff(), served),
        cursor_key=running.cursor_key,
        limits=running.limits,
        compiled=False,
    )
