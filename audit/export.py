"""Exported segments of the chain: gzip JSONL that an auditor checks with nothing but
SM3 and the public key, long after the records left the store.

    {"kind": "segment", "format": 1, "chain_id", "from_seq", "to_seq", "prev_hash",
     "count", "cutoff", "exported_at"}
    {"kind": "record", "prev_hash", "record_hash", "record": {the hashed fields, canonical}}
    ...
    {"kind": "checkpoint", the checkpoint signed for to_seq}

On every record line, SM3(prev_hash || JSON of "record" with sorted keys, no spaces,
UTF-8) is record_hash, and prev_hash is the previous line's record_hash.
"""

from __future__ import annotations

import datetime
import gzip
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.ext.asyncio import AsyncConnection

from audit.chain import FORMAT, Head, content, utc_text
from audit.checkpoint import Checkpoint, Signer
from audit.problems import ExportIncomplete, Problem
from audit.reads import rows
from audit.verify import ChainWalk, Verification


@dataclass(frozen=True)
class Segment:
    chain_id: str
    from_seq: int
    to_seq: int
    prev_hash: str
    last_hash: str
    count: int
    path: Path
    file_sm3: str
    checkpoint: Checkpoint


class BrokenSegment(Exception):
    """The records to export do not verify: nothing is exported, nothing removed."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(f"refusing to export: {problem}")
        self.problem = problem


def file_name(from_seq: int, to_seq: int) -> str:
    return f"{from_seq:012d}_{to_seq:012d}.jsonl.gz"


async def export_segment(
    connection: AsyncConnection,
    *,
    chain_id: str,
    anchor: Head,
    to_seq: int,
    cutoff: datetime.datetime,
    directory: Path,
    signer: Signer,
) -> Segment:
    """Write records anchor.seq+1 … to_seq, checking the chain as they stream; the file
    appears under its final name only when complete and fsynced."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / file_name(anchor.seq + 1, to_seq)
    partial = path.with_name(path.name + ".partial")
    header = {
        "kind": "segment",
        "format": FORMAT,
        "chain_id": chain_id,
        "from_seq": anchor.seq + 1,
        "to_seq": to_seq,
        "prev_hash": anchor.hash,
        "count": to_seq - anchor.seq,
        "cutoff": utc_text(cutoff),
        "exported_at": utc_text(datetime.datetime.now(datetime.UTC)),
    }
    walk = ChainWalk(chain_id, anchor, {})
    try:
        with gzip.open(partial, "wt", encoding="utf-8", compresslevel=6) as out:
            _write_line(out, header)
            previous: dict[str, Any] | None = None
            async for row in rows(connection, to_seq=to_seq):
                if previous is not None:
                    _check_and_write(out, walk, previous, row)
                previous = row
            if previous is not None:
                _check_and_write(out, walk, previous, None)
            if walk.head.seq != to_seq:
                raise BrokenSegment(ExportIncomplete("records"))
            checkpoint = signer.sign(chain_id, to_seq, walk.head.hash, walk.records)
            _write_line(out, {"kind": "checkpoint", **asdict(checkpoint)})
        _fsync(partial)
        os.replace(partial, path)
        _fsync(directory)
    finally:
        partial.unlink(missing_ok=True)
    return Segment(
        chain_id,
        anchor.seq + 1,
        to_seq,
        anchor.hash,
        walk.head.hash,
        walk.records,
        path,
        hashlib.new("sm3", path.read_bytes()).hexdigest(),
        checkpoint,
    )


def _check_and_write(
    out: Any, walk: ChainWalk, row: dict[str, Any], following: dict[str, Any] | None
) -> None:
    problem = walk.step(row, following)
    if problem is not None:
        raise BrokenSegment(problem)
    record = {"prev_hash": row["prev_hash"], "record_hash": row["record_hash"]}
    _write_line(out, {"kind": "record", **record, "record": content(row)})


def verify_export(path: Path, public_keys: Mapping[str, Ed25519PublicKey]) -> Verification:
    """Check an export file on its own: header, every record's hash and link, and the
    signed checkpoint at its end. Blocking."""
    try:
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            entries = [json.loads(line) for line in lines if line.strip()]
        header = entries[0] if entries and entries[0].get("kind") == "segment" else None
        anchor = Head(header["from_seq"] - 1, header["prev_hash"]) if header else Head(0, "")
        records = [
            {
                **entry["record"],
                "prev_hash": entry["prev_hash"],
                "record_hash": entry["record_hash"],
            }
            for entry in entries[1:-1]
        ]
    except (OSError, EOFError, ValueError, KeyError, TypeError, AttributeError):
        return _result("", Head(0, ""), None, ExportIncomplete("unreadable"))
    if header is None:
        return _result("", anchor, None, ExportIncomplete("header"))
    try:
        checkpoint: Checkpoint | None = Checkpoint.from_mapping(entries[-1])
    except ValueError:
        checkpoint = None
    if checkpoint is None or not checkpoint.signed_by(public_keys):
        return _result(header["chain_id"], anchor, None, ExportIncomplete("checkpoint"))
    walk = ChainWalk(header["chain_id"], anchor, {checkpoint.seq: [checkpoint]})
    for index, record in enumerate(records):
        following = records[index + 1] if index + 1 < len(records) else None
        if (problem := walk.step(record, following)) is not None:
            return _result(header["chain_id"], anchor, walk, problem, checkpoint)
    if walk.head.seq != header["to_seq"] or checkpoint.seq != header["to_seq"]:
        return _result(header["chain_id"], anchor, walk, ExportIncomplete("records"), checkpoint)
    return _result(header["chain_id"], anchor, walk, None, checkpoint)


def _result(
    chain_id: str,
    anchor: Head,
    walk: ChainWalk | None,
    problem: Problem | None,
    checkpoint: Checkpoint | None = None,
) -> Verification:
    head = walk.head if walk is not None else anchor
    records = walk.records if walk is not None else 0
    return Verification(
        chain_id, anchor, head, records, int(checkpoint is not None), checkpoint, problem
    )


def _write_line(out: Any, entry: dict[str, Any]) -> None:
    out.write(json.dumps(entry, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n")


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
