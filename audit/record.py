"""What one audit record holds: who, what (fields and records), why, when, the decision."""

from __future__ import annotations

import dataclasses
import datetime
import hmac
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FieldAccount:
    """One field path of the response: how often it resolved and what was decided."""

    path: str
    count: int
    decision: str
    basis: str


class SubjectHasher:
    """HMAC-SM3 of record keys and subject identifiers, never stored in clear.

    The message is the bare value, so an auditor holding the key finds every request
    that touched one person or enterprise across resources with one hash.

    The HMAC is keyed once: each value's is a copy of the keyed state, which costs
    ~40% less than keying anew (the audit record's hashing was 4.6% of a request at
    N=100, issue 17).
    """

    def __init__(self, key_id: str, key: bytes) -> None:
        self.key_id = key_id
        self._keyed = hmac.new(key, digestmod="sm3")

    def hash(self, value: Hashable) -> str:
        keyed = self._keyed.copy()
        keyed.update(str(value).encode())
        return keyed.hexdigest()

    def hash_all(
        self, values: Iterable[Hashable], known: dict[str, str] | None = None
    ) -> list[str]:
        """The sorted, distinct hashes of `values` (None left out). `known`: the hashes
        made so far for one request, by the text hashed: a person read as a `person`
        key and as a subject of licences and marriages is hashed once."""
        hashes = {} if known is None else known
        found = set()
        for value in values:
            if value is None:
                continue
            text = str(value)
            digest = hashes.get(text)
            if digest is None:
                digest = hashes[text] = self.hash(text)
            found.add(digest)
        return sorted(found)


@dataclass
class AuditRecord:
    request_id: str
    occurred_at: datetime.datetime
    outcome: str
    http_status: int
    hash_key_id: str
    catalog_version: str
    policy_version: str
    duration_ms: float
    caller_department: str | None = None
    caller_system: str | None = None
    operator: str | None = None
    person: str | None = None
    purpose: str | None = None
    purpose_reference: str | None = None
    operation_hash: str | None = None
    operation_name: str | None = None
    document_id: str | None = None
    download_id: str | None = None
    """A batch download's page: the request id of the download's first page."""
    download_records: int | None = None
    """A batch download's page: the records the download served through this page."""
    download_digest: str | None = None
    """A batch download's page: the digest of the keys it served through this page."""
    client_address: str | None = None
    error_codes: list[str] = field(default_factory=list)
    fields: list[FieldAccount] = field(default_factory=list)
    records: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    sealed_subjects: str | None = None
    """The subjects' identifiers sealed to the auditor's key (`audit.sealing`), or None."""

    def as_row(self) -> dict[str, Any]:
        """A shallow row: `dataclasses.asdict` deep-copies the field and record lists,
        which cost more than storing them (measured by bench/audit_cost.py)."""
        row = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        row["fields"] = [account.__dict__.copy() for account in self.fields]
        return row
