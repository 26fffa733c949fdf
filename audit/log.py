"""Write audit records to the platform store, committed before the response is sent.

Fail closed: if the record cannot be committed, the caller gets AUDIT_UNAVAILABLE and
no data.

Group commit: `write()` queues its record and waits; one writer task per log drains
the queue, a batch at a time (everything queued, up to `batch_size`), appending each
batch to the chain in one transaction. The task exists only while records are
pending, so a log needs no start(); `close()` waits for it and writes a last
checkpoint. One task is also the in-process lock: a log never links two batches to
one head, and `appending()` makes other processes wait their turn.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from audit.chain import Head, append, appending, prepare, read_chain_id
from audit.checkpoint import Checkpoint, Checkpointer
from audit.record import AuditRecord
from errors import AuditUnavailable
from settings import Settings
from store import audit_records

logger = logging.getLogger("gov_share.audit")

_UNAVAILABLE = "the audit log cannot be written; no data is served"


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
        async with appending(self.engine) as connection:
            if self._chain_id is None:
                self._chain_id = await read_chain_id(connection)
            return await append(connection, self._chain_id, rows)

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
