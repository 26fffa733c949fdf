"""Write audit records to the platform store, committed before the response is sent.

Fail closed: if the record cannot be committed, the caller gets AUDIT_UNAVAILABLE and
no data.

Group commit: `write()` queues its record and waits; one writer task per log drains
the queue, a batch at a time (everything queued, up to `batch_size`), appending each
batch to the chain in one transaction. The task exists only while records are
pending, so a log needs no start(); `close()` waits for it and writes a last
checkpoint. One task is also the in-process lock: a log never links two batches to
one head, and `locked()` makes other processes wait their turn.

A batch is, in the common case, one statement: the log remembers the head it last
committed, links the batch to it, and inserts it only if that head is still the
newest record (`insert.insert_if_head`, in autocommit). Only when another writer has
moved the head (another server process), or on the first batch, does it take the
chain's lock, read the head and link again. Each statement a batch saves is a round
trip on PostgreSQL and, on SQLite, a release of the GIL that the writer thread then
waits up to a switch interval (5 ms) to get back from a busy event loop, with the
batch's callers waiting too.

On SQLite a batch runs in one hop to a thread of the log's own, through pysqlite
(`store.thread_engine`): through aiosqlite each statement costs several round trips
to its thread. Elsewhere it runs in one `AsyncConnection.run_sync()` on the store
engine.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from audit.chain import Head, Prepared, link_prepared, prepare
from audit.checkpoint import Checkpoint, Checkpointer
from audit.insert import fits_one_statement, insert, insert_if_head
from audit.lock import locked
from audit.reads import read_chain_id, read_head
from audit.record import AuditRecord
from audit.stats import AuditStats
from errors import AuditUnavailable, ConfigurationError
from settings import Settings
from store import audit_records, thread_engine

logger = logging.getLogger("gov_share.audit")

_UNAVAILABLE = "the audit log cannot be written; no data is served"

# Locked appends tried per batch: on PostgreSQL another process's unlocked append
# (`insert_if_head`) can take the seq a locked one linked to, and the unique
# (chain_id, seq) refuses the later one; linked again, it goes through.
_LOCKED_ATTEMPTS = 3

_STORES = ("sqlite", "postgresql")


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
        if engine.dialect.name not in _STORES:
            raise ConfigurationError(
                "settings",
                "platform_store_url",
                f"the platform store is SQLite or PostgreSQL, not {engine.dialect.name}",
            )
        self.engine = engine
        self.checkpointer = checkpointer
        self.batch_size = batch_size
        self.checkpoint_interval_seconds = checkpoint_interval_seconds
        self._pending: deque[tuple[Prepared, asyncio.Future[None]]] = deque()
        self._writer: asyncio.Task[None] | None = None
        self._chain_id: str | None = None
        self._head: Head | None = None
        """The head this log last committed; None until then, and after a failed batch."""
        self._closed = False
        self.stats = AuditStats()
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
            entry = prepare(record)
        except (ValueError, TypeError) as exc:
            _log_failure([record.request_id], exc)
            raise AuditUnavailable(_UNAVAILABLE) from None
        done = asyncio.get_running_loop().create_future()
        self._pending.append((entry, done))
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
                head = await self._append([entry for entry, _ in batch])
            except BaseException as exc:  # cancelled too: no caller may wait forever
                self._head = None  # whatever was committed or not, read it again
                for _, done in batch:
                    if not done.done():
                        done.set_exception(AuditUnavailable(_UNAVAILABLE))
                if not isinstance(exc, Exception):
                    raise
                _log_failure([entry.row["request_id"] for entry, _ in batch], exc)
                continue
            self._head = head
            self.stats.committed(entry.row["occurred_at"] for entry, _ in batch)
            for _, done in batch:
                if not done.done():
                    done.set_result(None)
            if self._checkpoint_due(head):
                await self._checkpoint()

    async def _append(self, entries: list[Prepared]) -> Head:
        if self._thread is not None:
            engine, executor = self._thread
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(executor, self._append_through, engine, entries)
        async with self.engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            return await connection.run_sync(self._append_on, entries)

    def _append_through(self, engine: sa.Engine, entries: list[Prepared]) -> Head:
        with engine.connect() as connection:
            return self._append_on(connection, entries)

    def _append_on(self, connection: sa.Connection, entries: list[Prepared]) -> Head:
        """The whole batch: after the remembered head if it still is the head, else
        under the chain's lock after the head read then."""
        known, chain_id = self._head, self._chain_id
        if (
            known is not None
            and chain_id is not None
            and fits_one_statement(connection, len(entries))
        ):
            head = link_prepared(known, chain_id, entries)
            if self._inserted_after(connection, known, entries):
                return head
        attempts = _LOCKED_ATTEMPTS
        while True:
            try:
                return self._append_locked(connection, entries)
            except sa.exc.IntegrityError:
                attempts -= 1
                if not attempts:
                    raise

    @staticmethod
    def _inserted_after(connection: sa.Connection, head: Head, entries: list[Prepared]) -> bool:
        """One statement, on a connection in autocommit; False if another writer has
        moved the head (nothing was inserted then)."""
        try:
            inserted = insert_if_head(connection, entries, head.hash)
        except sa.exc.IntegrityError:  # PostgreSQL: a record took the seq meanwhile
            inserted = False
        connection.rollback()  # ends SQLAlchemy's own transaction; the database has none
        return inserted

    def _append_locked(self, connection: sa.Connection, entries: list[Prepared]) -> Head:
        with locked(connection):
            if self._chain_id is None:
                self._chain_id = read_chain_id(connection)
            head = link_prepared(read_head(connection, self._chain_id), self._chain_id, entries)
            insert(connection, entries)
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
