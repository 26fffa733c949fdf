"""Verify the chain: name the first record altered, removed or inserted, and a tail cut
off behind the last signed checkpoint.

The walk starts at the first record still stored, anchored by the export marker of the
records removed before it (retention) or by genesis; the marker's own checkpoint is
signed, so a forged anchor is caught as well. Problems are typed values
(audit/problems.py), not strings.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from audit.chain import Head, record_hash
from audit.checkpoint import Checkpoint, CheckpointFile
from audit.facets import first_differing
from audit.problems import (
    AnchorMismatch,
    AnchorUnverified,
    CheckpointInvalid,
    CheckpointMismatch,
    FacetsDiffer,
    Problem,
    RecordAltered,
    RecordInserted,
    RecordsRemoved,
    TailTruncated,
)
from audit.reads import anchor_before, first_seq, read_chain_id, rows
from store.tables import audit_exports


@dataclass(frozen=True)
class Verification:
    chain_id: str
    anchor: Head  # what the first stored record continues from: genesis or the last export
    head: Head  # the last record found intact
    records: int  # records found intact
    checkpoints: int  # signed checkpoints read
    latest_checkpoint: Checkpoint | None
    problem: Problem | None

    @property
    def ok(self) -> bool:
        return self.problem is None

    def __str__(self) -> str:
        if self.problem is not None:
            return f"audit chain {self.chain_id} is NOT intact: {self.problem}"
        start = "genesis" if self.anchor.seq == 0 else f"the export ending at {self.anchor.seq}"
        text = (
            f"audit chain {self.chain_id} is intact: {self.records} records "
            f"from {start} to record {self.head.seq}, head {self.head.hash}"
        )
        if self.latest_checkpoint is None:
            return text + "; no signed checkpoint checked"
        latest = self.latest_checkpoint
        return text + (
            f"; {self.checkpoints} signed checkpoints agree, "
            f"the latest at record {latest.seq} ({latest.time})"
        )


class ChainWalk:
    """Checks records one at a time, in seq order, each with the one after it (to tell
    an inserted record from an altered one)."""

    def __init__(
        self, chain_id: str, anchor: Head, checkpoints: Mapping[int, Sequence[Checkpoint]]
    ) -> None:
        self.chain_id = chain_id
        self.head = anchor
        self.records = 0
        self._checkpoints = checkpoints
        self._anchor_seq = anchor.seq
        self._head_request_id: str | None = None
        self._before: Head | None = None

    def step(self, row: Mapping[str, Any], following: Mapping[str, Any] | None) -> Problem | None:
        seq, request_id = row["seq"], row["request_id"]
        if row["chain_id"] != self.chain_id or seq <= self.head.seq:
            return RecordInserted(seq, request_id, "foreign")
        if seq > self.head.seq + 1:
            return RecordsRemoved(self.head.seq + 1, seq - 1)
        linked = row["prev_hash"] == self.head.hash
        intact = record_hash(row["prev_hash"], row) == row["record_hash"]
        if not (linked and intact):
            return self._classify(row, following, linked=linked, intact=intact)
        for checkpoint in self._checkpoints.get(seq, ()):
            if checkpoint.head_hash != row["record_hash"]:
                return CheckpointMismatch(seq, checkpoint.time)
        self._before, self.head = self.head, Head(seq, row["record_hash"])
        self._head_request_id = request_id
        self.records += 1
        return None

    def _classify(
        self,
        row: Mapping[str, Any],
        following: Mapping[str, Any] | None,
        *,
        linked: bool,
        intact: bool,
    ) -> Problem:
        seq, request_id = row["seq"], row["request_id"]
        if following is not None and following["prev_hash"] == self.head.hash:
            return RecordInserted(seq, request_id, "between")
        if not linked and self._before is not None and row["prev_hash"] == self._before.hash:
            assert self._head_request_id is not None
            return RecordInserted(self.head.seq, self._head_request_id, "between")
        if linked:
            return RecordAltered(seq, request_id, "content")
        if intact:
            if self._head_request_id is None:
                return AnchorMismatch(seq, self._anchor_seq)
            return RecordAltered(self.head.seq, self._head_request_id, "rehashed")
        return RecordsRemoved(seq, None)


async def verify(
    engine: AsyncEngine,
    *,
    checkpoint_file: Path | None = None,
    public_keys: Mapping[str, Ed25519PublicKey] | None = None,
) -> Verification:
    """Walk the whole chain. A checkpoint counts only if signed by one of `public_keys`;
    without keys, export markers' checkpoints are not checked either."""
    keys = public_keys or {}
    lines = (
        await asyncio.to_thread(CheckpointFile(checkpoint_file).lines) if checkpoint_file else []
    )
    async with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execution_options(isolation_level="REPEATABLE READ")
        chain_id = await connection.run_sync(read_chain_id)
        checkpoints, invalid = _signed(lines, keys, chain_id)
        problem: Problem | None = invalid
        by_seq: dict[int, list[Checkpoint]] = defaultdict(list)
        for checkpoint in checkpoints:
            by_seq[checkpoint.seq].append(checkpoint)
        latest = max(checkpoints, key=lambda checkpoint: checkpoint.seq, default=None)
        first = await first_seq(connection, chain_id)
        anchor = await connection.run_sync(anchor_before, chain_id, first)
        walk = ChainWalk(chain_id, anchor, by_seq)
        if problem is None and anchor.seq > 0:
            problem = await _check_anchor(connection, chain_id, anchor, by_seq, keys)
        if problem is None:
            problem = await _walk(connection, walk)
        if problem is None and latest is not None and latest.seq > walk.head.seq:
            problem = TailTruncated(latest.seq, latest.time, walk.head.seq)
        if problem is None and (differing := await first_differing(connection)) is not None:
            problem = FacetsDiffer(differing)
    return Verification(
        chain_id, anchor, walk.head, walk.records, len(checkpoints), latest, problem
    )


async def _walk(connection: AsyncConnection, walk: ChainWalk) -> Problem | None:
    previous: dict[str, Any] | None = None
    async for row in rows(connection):
        if previous is not None and (problem := walk.step(previous, row)) is not None:
            return problem
        previous = row
    return walk.step(previous, None) if previous is not None else None


def _signed(
    lines: Sequence[str], keys: Mapping[str, Ed25519PublicKey], chain_id: str
) -> tuple[list[Checkpoint], CheckpointInvalid | None]:
    checkpoints: list[Checkpoint] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            checkpoint = Checkpoint.parse(line)
        except ValueError:
            return checkpoints, CheckpointInvalid(number, "unreadable")
        if not checkpoint.signed_by(keys):
            return checkpoints, CheckpointInvalid(number, "unsigned")
        if checkpoint.chain_id != chain_id:
            return checkpoints, CheckpointInvalid(number, "other_chain")
        checkpoints.append(checkpoint)
    return checkpoints, None


async def _check_anchor(
    connection: AsyncConnection,
    chain_id: str,
    anchor: Head,
    by_seq: Mapping[int, Sequence[Checkpoint]],
    keys: Mapping[str, Ed25519PublicKey],
) -> Problem | None:
    """The export marker the walk starts from must carry a checkpoint the auditor's key
    signed for exactly that record, and agree with the checkpoint file."""
    if any(checkpoint.head_hash != anchor.hash for checkpoint in by_seq.get(anchor.seq, ())):
        return AnchorUnverified(anchor.seq, "mismatch")
    if not keys:
        return None
    exports = audit_exports.c
    text = (
        await connection.execute(
            sa.select(exports.checkpoint).where(
                exports.chain_id == chain_id, exports.to_seq == anchor.seq
            )
        )
    ).scalar_one()
    try:
        checkpoint = Checkpoint.parse(text)
    except ValueError:
        return AnchorUnverified(anchor.seq, "unsigned")
    if not checkpoint.signed_by(keys):
        return AnchorUnverified(anchor.seq, "unsigned")
    if (checkpoint.chain_id, checkpoint.seq, checkpoint.head_hash) != (
        chain_id,
        anchor.seq,
        anchor.hash,
    ):
        return AnchorUnverified(anchor.seq, "mismatch")
    return None
