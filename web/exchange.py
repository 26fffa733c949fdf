"""One /graphql request and its answer: what it gathered, the response body and status
GraphQL over HTTP gives it, and the audit record it leaves."""

from __future__ import annotations

import datetime
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from audit import AuditRecord, DownloadAccount, FieldAccount, SubjectHasher
from audit.sealing import sealer_for
from errors import RequestError
from platform_setup import Platform
from policies import Caller, Purpose
from resolvers import ExecutionOutcome, GraphQLRequest, RecordsServed
from web.encoding import encoded
from web.media import GRAPHQL_RESPONSE, JSON

STRUCTURE = "structure"
"""The decision on record for a field nothing decides (edges, node, pageInfo, ...)."""


@dataclass
class Exchange:
    """What one /graphql request has gathered so far, for its response and audit record."""

    request_id: str
    started: float
    media_type: str = JSON
    """Until the Accept header is read: a page asked for, or neither type acceptable,
    is answered in the more widely read one."""
    caller: Caller | None = None
    purpose: Purpose | None = None
    reference: str | None = None
    graphql: GraphQLRequest | None = None
    outcome: ExecutionOutcome | None = None
    error: RequestError | None = None
    document_id: str | None = None
    """The registered document the request called or its free text matched."""
    stale: frozenset[str] = frozenset()
    """The resources the last freshness check found stale (Art. 10), by id."""
    download: DownloadAccount | None = None
    """A batch download's page: where the download stands after it (web/export.py)."""

    @property
    def error_codes(self) -> list[str]:
        if self.error is not None:
            return [self.error.code]
        return self.outcome.error_codes if self.outcome is not None else []

    @property
    def content_type(self) -> str:
        return f"{self.media_type}; charset=utf-8"

    def refused(self, error: RequestError) -> None:
        """The request ends in `error`: nothing of an execution is sent."""
        self.error, self.outcome = error, None

    def response(self) -> tuple[int, bytes]:
        """The status and body GraphQL over HTTP gives this exchange in its media type."""
        status, body = self._response()
        return status, encoded(body)

    def _response(self) -> tuple[int, dict[str, Any]]:
        extensions: dict[str, Any] = {"requestId": self.request_id}
        if self.error is not None:
            error = {"message": self.error.message, "extensions": self.error.as_extensions()}
            return self.error.status_code, {"errors": [error], "extensions": extensions}
        outcome = self.outcome
        assert outcome is not None
        if not outcome.executed:
            status = 400 if self.media_type == GRAPHQL_RESPONSE else 200
            return status, {"errors": outcome.errors, "extensions": extensions}
        body: dict[str, Any] = {"data": outcome.data}
        if outcome.errors:
            body["errors"] = outcome.errors
        read_stale = sorted(self.stale.intersection(outcome.records))
        if read_stale:
            extensions["freshness"] = {"stale": read_stale}
        body["extensions"] = extensions
        return 200, body

    def record(self, platform: Platform, status: int, client: str | None) -> AuditRecord:
        """The outcome's accounts as the audit log keeps them; a request refused before
        execution is on record under the catalog and policy in force."""
        caller, outcome, graphql = self.caller, self.outcome, self.graphql
        if outcome is not None:
            versions = outcome.catalog_version, outcome.policy_version
            operation: str | None = outcome.document_id
        else:
            versions = platform.catalog.version, platform.policy_source.current.version
            operation = graphql.document_id if graphql else None
        record = AuditRecord(
            request_id=self.request_id,
            occurred_at=datetime.datetime.now(datetime.UTC),
            outcome=self.outcome_name,
            http_status=status,
            hash_key_id=platform.hasher.key_id,
            catalog_version=versions[0],
            policy_version=versions[1],
            duration_ms=(time.perf_counter() - self.started) * 1000,
            caller_department=caller.department if caller else None,
            caller_system=caller.system if caller else None,
            operator=caller.operator if caller else None,
            person=caller.person if caller else None,
            purpose=self.purpose.value if self.purpose else None,
            purpose_reference=self.reference,
            operation_hash=operation,
            operation_name=graphql.operation_name if graphql else None,
            document_id=self.document_id,
            client_address=client,
        )
        record.error_codes = self.error_codes
        if self.download is not None:
            record.download_id = self.download.download_id
            record.download_records = self.download.records
            record.download_digest = self.download.digest
        if outcome is not None:
            record.fields = [
                FieldAccount(a.path, a.count, a.outcome.value if a.outcome else STRUCTURE, a.basis)
                for a in outcome.fields
            ]
            record.records = _record_hashes(platform.hasher, outcome.records)
            sealing_key = platform.settings.audit_sealing_key
            if sealing_key:
                record.sealed_subjects = sealed(platform.hasher, outcome.records, sealing_key)
        return record

    @property
    def outcome_name(self) -> str:
        """How the exchange ended, as its audit record and the metrics name it."""
        if self.error is not None:
            return self.error.outcome
        outcome = self.outcome
        assert outcome is not None
        if not outcome.executed:
            return "invalid"
        if outcome.data is None:
            return "failed"
        return "partial" if outcome.errors else "served"


def sealed(hasher: SubjectHasher, served: Mapping[str, RecordsServed], public_hex: str) -> str:
    """Every subject of the record, hash → identifier, sealed to the auditor's key."""
    identifiers = {
        str(subject)
        for records in served.values()
        for subject in records.subjects
        if subject is not None
    }
    return sealer_for(public_hex).seal({hasher.hash(value): value for value in identifiers})


def _record_hashes(
    hasher: SubjectHasher, served: Mapping[str, RecordsServed]
) -> dict[str, dict[str, list[str]]]:
    known: dict[str, str] = {}  # each distinct value hashed once per request
    return {
        resource: {
            "keys": hasher.hash_all(records.keys, known),
            "subjects": hasher.hash_all(records.subjects, known),
        }
        for resource, records in served.items()
    }
