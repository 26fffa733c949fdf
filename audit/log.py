"""Write audit records to the platform store, committed before the response is sent.

Fail closed: if the record cannot be committed, the caller gets AUDIT_UNAVAILABLE and
no data.

Group commit: `write()` queues its record and waits; one writer task per log drains
the queue, a batch at a time (everything queued, up to `batch_size`), appending each
batch to the chain in one transaction. The task exists only while records are
pending, so a log needs no start(); `close()` waits for it and writes a last
checkpoint. One task is also the in-process lock: a log never links two batches to
one head, and `locked()` makes other processes wait their turn.

A batch is one transaction of a few statements. On SQLite it runs in one hop to a
thread of the log's own, through pysqlite (`store.thread_engine`): through aiosqlite
each statement costs several round trips to its thread, each waiting for a busy event
loop, and the records' callers wait with them. Elsewhere it runs in one
`AsyncConnection.run_sync()` on the store engine.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from audit.chain import Head, append, data_version, locked, prepare, read_chain_id, read_head
from audit.checkpoint import Checkpoint, Checkpointer
from audit.record import AuditRecord
from errors import AuditUnavailable
from settings import Settings
from store import audit_records, thread_engine

logger = logging.getLogger("gov_share.audit")

_UNAVAILABLE = "the audit log cannot be written; no data is served"

# Where a connection keeps what it last appended (`sa.Connection.info`: per DBAPI
# connection, so a head is never trusted on a connection other than the one that read
# the data_version with it).
_APPENDED = "gov_share.audit.appended"


@dataclass(frozen=True)
class _Appended:
    version: int
    head: Head


class AuditLog:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        checkpointer: Checkpointer | None = None,
        batch_size: int = 256,
        checkpoint_interval_seconds: float = 60.0,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.engine = engine
        self.checkpointer = checkpointer
        self.batch_size = batch_size
        self.checkpoint_interval_seconds = checkpoint_interval_seconds
        self._pending: deque[tuple[dict[str, Any], asyncio.Future[None]]] = deque()
        self._writer: asyncio.Task[None] | None = None
        self._chain_id: str | None = None
        self._closed = False
        self._checkpointed: tuple[float, int] = (time.monotonic(), 0)
        self._thread: tuple[sa.Engine, ThreadPoolExecutor] | None = None
        if engine.dialect.name == "sqlite":
            # One thread, the log's own: the shared default executor also runs source
            # reads, and a batch queued behind them keeps every caller in it waiting.
            executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit-writer")
            self._thread = (thread_engine(engine), executor)

    @classmethod
    def from_settings(cls, engine: AsyncEngine, settings: Settings) -> AuditLog:
        """With checkpoints signed by the configured key (ConfigurationError without one
        outside demo mode)."""
        return cls(
            engine,
            checkpointer=Checkpointer.from_settings(settings),
            batch_size=settings.audit_batch_size,
            checkpoint_interval_seconds=settings.audit_checkpoint_interval_seconds,
        )

    async def write(self, record: AuditRecord) -> None:
        """Return once the record is committed; raise AuditUnavailable if it is not."""
        if self._closed:
            raise AuditUnavailable(_UNAVAILABLE)
        try:
            row = prepare(record)
        except (ValueError, TypeError) as exc:
            _log_failure([record.request_id], exc)
            raise AuditUnavailable(_UNAVAILABLE) from None
        done = asyncio.get_running_loop().create_future()
        self._pending.append((row, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain(), name="audit-writer")
        await done

    async def close(self) -> None:
        """Commit what is queued, then sign a last checkpoint. Writes after close fail."""
        self._closed = True
        if self._writer is not None:
            await self._writer
        if self._thread is not None:
            engine, executor = self._thread
            executor.shutdown()
            engine.dispose()
        if self.checkpointer is not None:
            await self._checkpoint()

    async def checkpoint(self) -> Checkpoint | None:
        """Sign the current head now; None without a checkpointer, or when this log has
        signed that head already."""
        if self.checkpointer is None:
            return None
        checkpoint = await self.checkpointer.checkpoint(
            self.engine, unless_at=self._checkpointed[1]
        )
        if checkpoint is not None:
            self._checkpointed = (time.monotonic(), checkpoint.seq)
        return checkpoint

    async def _drain(self) -> None:
        while self._pending:
            size = min(self.batch_size, len(self._pending))
            batch = [self._pending.popleft() for _ in range(size)]
            try:
                head = await self._append([row for row, _ in batch])
            except BaseException as exc:  # cancelled too: no caller may wait forever
                for _, done in batch:
                    if not done.done():
                        done.set_exception(AuditUnavailable(_UNAVAILABLE))
                if not isinstance(exc, Exception):
                    raise
                _log_failure([row["request_id"] for row, _ in batch], exc)
                continue
            for _, done in batch:
                if not done.done():
                    done.set_result(None)
            if self._checkpoint_due(head):
                await self._checkpoint()

    async def _append(self, rows: list[dict[str, Any]]) -> Head:
        if self._thread is not None:
            engine, executor = self._thread
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(executor, self._append_through, engine, rows)
        async with self.engine.connect() as connection:
            return await connection.run_sync(self._append_on, rows)

    def _append_through(self, engine: sa.Engine, rows: list[dict[str, Any]]) -> Head:
        with engine.connect() as connection:
            return self._append_on(connection, rows)

    def _append_on(self, connection: sa.Connection, rows: list[dict[str, Any]]) -> Head:
        """The whole batch: lock, read the head, link, insert, commit.

        The head is read only if another connection may have moved it: on SQLite this
        connection remembers the head it committed and the data_version it read then.
        Taken out before the batch, so a batch that fails (committed or not) leaves
        nothing remembered behind.
        """
        known: _Appended | None = connection.info.pop(_APPENDED, None)
        with locked(connection):
            if self._chain_id is None:
                self._chain_id = read_chain_id(connection)
            version = data_version(connection)
            if known is not None and known.version == version:
                head = known.head
            else:
                head = read_head(connection, self._chain_id)
            head = append(connection, self._chain_id, rows, head)
        if version is not None:
            connection.info[_APPENDED] = _Appended(version, head)
        return head

    def _checkpoint_due(self, head: Head) -> bool:
        at, seq = self._checkpointed
        return (
            self.checkpointer is not None
            and head.seq != seq
            and time.monotonic() - at >= self.checkpoint_interval_seconds
        )

    async def _checkpoint(self) -> None:
        """A checkpoint that cannot be written is logged, not raised: the records are
        committed, and the next checkpoint covers them."""
        try:
            await self.checkpoint()
        except Exception as exc:
            logger.error("audit checkpoint failed", extra={"error": type(exc).__name__})

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(sa.text("SELECT 1"))

    async def find(self, request_id: str) -> dict[str, Any] | None:
        async with self.engine.connect() as connection:
            result = await connection.execute(
                sa.select(audit_records).where(audit_records.c.request_id == request_id)
            )
            row = result.mappings().first()
        return dict(row) if row is not None else None


def _log_failure(request_ids: list[str], exc: BaseException) -> None:
    """One line per failed batch: each caller's own request line carries its 503."""
    logger.error(
        "audit write failed",
        extra={
            "request_id": request_ids[0],
            "records": len(request_ids),
            "error": type(exc).__name__,
        },
    )
