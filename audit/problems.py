"""What `verify` can find wrong with the chain, each a small value that prints as a
sentence: what was found, and where.

    RecordAltered       a record's content changed (or it was replaced, hash recomputed)
    RecordsRemoved      a gap in seq, or records removed and the rest renumbered
    RecordInserted      a record between two that link to each other, or of another chain
    AnchorMismatch      the first stored record does not continue from genesis / the export
    AnchorUnverified    the export marker verification starts from is not signed as it says
    CheckpointMismatch  a record differs from what a signed checkpoint recorded
    TailTruncated       the chain ends before the last signed checkpoint
    CheckpointInvalid   a checkpoint line is unreadable, unsigned, or of another chain
    ExportIncomplete    an export file lacks its header, checkpoint or records
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class RecordAltered:
    seq: int
    request_id: str
    how: Literal["content", "rehashed"]

    def __str__(self) -> str:
        if self.how == "content":
            return (
                f"record {self.seq} ({self.request_id}) was altered: "
                "it no longer hashes to its record_hash"
            )
        return (
            f"record {self.seq} ({self.request_id}) was altered and its hash recomputed: "
            "the record after it links to a different hash"
        )


@dataclass(frozen=True)
class RecordsRemoved:
    from_seq: int
    to_seq: int | None  # None: the records after them were renumbered, how many is unknown

    def __str__(self) -> str:
        if self.to_seq is None:
            return (
                f"records from {self.from_seq} on were removed and the records after them "
                "renumbered: the record now numbered "
                f"{self.from_seq} neither hashes nor links"
            )
        if self.from_seq == self.to_seq:
            return f"record {self.from_seq} was removed"
        return f"records {self.from_seq} to {self.to_seq} were removed"


@dataclass(frozen=True)
class RecordInserted:
    seq: int
    request_id: str
    how: Literal["between", "foreign"]

    def __str__(self) -> str:
        if self.how == "foreign":
            return (
                f"record {self.seq} ({self.request_id}) was inserted: it is not part of this chain"
            )
        return (
            f"record {self.seq} ({self.request_id}) was inserted: "
            "the records before and after it link to each other"
        )


@dataclass(frozen=True)
class AnchorMismatch:
    seq: int
    anchor_seq: int

    def __str__(self) -> str:
        start = "genesis" if self.anchor_seq == 0 else f"the export ending at {self.anchor_seq}"
        return f"record {self.seq}, the first stored, does not continue from {start}"


@dataclass(frozen=True)
class AnchorUnverified:
    to_seq: int
    reason: Literal["unsigned", "mismatch"]

    def __str__(self) -> str:
        if self.reason == "unsigned":
            return (
                f"the export marker ending at record {self.to_seq} carries no checkpoint "
                "signed by the auditor's key: records may have been removed without export"
            )
        return (
            f"the export marker ending at record {self.to_seq} differs from its signed checkpoint"
        )


@dataclass(frozen=True)
class CheckpointMismatch:
    seq: int
    time: str

    def __str__(self) -> str:
        return (
            f"record {self.seq} differs from the checkpoint signed at {self.time}: "
            "the chain was rewritten from there"
        )


@dataclass(frozen=True)
class TailTruncated:
    checkpoint_seq: int
    time: str
    head_seq: int

    def __str__(self) -> str:
        missing = self.checkpoint_seq - self.head_seq
        return (
            f"the chain ends at record {self.head_seq} but the checkpoint signed at {self.time} "
            f"reached {self.checkpoint_seq}: {missing} records were cut off its end"
        )


@dataclass(frozen=True)
class CheckpointInvalid:
    line: int
    reason: Literal["unreadable", "unsigned", "other_chain"]

    def __str__(self) -> str:
        why = {
            "unreadable": "is not a checkpoint",
            "unsigned": "is not signed by the auditor's key",
            "other_chain": "belongs to another chain",
        }[self.reason]
        return f"checkpoint line {self.line} {why}"


@dataclass(frozen=True)
class ExportIncomplete:
    reason: Literal["unreadable", "header", "checkpoint", "records"]

    def __str__(self) -> str:
        return {
            "unreadable": "the export file cannot be read",
            "header": "the export has no segment header",
            "checkpoint": "the export does not end with a checkpoint signed by the auditor's key",
            "records": "the export does not hold every record its header names",
        }[self.reason]


@dataclass(frozen=True)
class FacetsDiffer:
    """The search's facets of a record are not what its chained content gives: filed
    falsely, left out or removed (the facets are an index the writer files, not
    evidence; audit.facets)."""

    record_id: int

    def __str__(self) -> str:
        return (
            f"the search facets of record id {self.record_id} differ from its chained "
            "content: a search may miss it or find it falsely"
        )


Problem = (
    RecordAltered
    | RecordsRemoved
    | RecordInserted
    | AnchorMismatch
    | AnchorUnverified
    | CheckpointMismatch
    | TailTruncated
    | CheckpointInvalid
    | ExportIncomplete
    | FacetsDiffer
)
