"""`python -m audit sealing-key` and `python -m audit subjects`: the auditor's key pair
for sealed subjects, and the subjects of a request listed with its private half.

Listing is reading the log: it is on record like a search (`audit.searching`), the
identifiers listed among its subjects, hashed; nothing is printed if that record
cannot be written.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import sqlalchemy as sa

from audit.log import AuditLog
from audit.reading import record_of
from audit.record import FieldAccount, SubjectHasher
from audit.sealing import SealedUnreadable, new_key_pair, open_sealed, private_key_from
from audit.searching import reading_record
from settings import Settings
from store import store_engine
from store.tables import audit_records


def add_key_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--private-key", type=Path, required=True, help="where to write the private half (new)"
    )


def make_key_pair(arguments: argparse.Namespace) -> str:
    """Writes the private half (mode 0600, never over a file) and returns the public one,
    for GOV_SHARE_AUDIT_SEALING_KEY."""
    private, public = new_key_pair()
    path: Path = arguments.private_key
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as file:
        file.write(private + "\n")
    return public + "\n"


def add_listing_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store-url", help="SQLAlchemy async URL (default: from settings)")
    parser.add_argument("--auditor", required=True, help="who lists: on record")
    parser.add_argument("--private-key", type=Path, required=True, help="the auditor's key")
    parser.add_argument("--request-id", required=True, help="the request whose subjects")


async def list_subjects(url: str, arguments: argparse.Namespace, settings: Settings) -> str:
    started = time.perf_counter()
    private_key = private_key_from(arguments.private_key.read_text(encoding="ascii"))
    engine = store_engine(url)
    log = AuditLog(engine)
    try:
        statement = sa.select(audit_records).where(
            audit_records.c.request_id == arguments.request_id
        )
        async with engine.connect() as connection:
            row = (await connection.execute(statement)).mappings().first()
        if row is None:
            raise ValueError(f"no audit record has request id {arguments.request_id!r}")
        record = record_of(row)
        if record.sealed_subjects is None:
            raise ValueError("the record keeps no sealed subjects (no sealing key was set)")
        try:
            opened = open_sealed(record.sealed_subjects, private_key)
        except SealedUnreadable:
            raise ValueError("the sealed subjects do not open with this key") from None
        current = SubjectHasher(*settings.audit_key())
        reading = reading_record(
            arguments.auditor, sorted(opened.values()), [record.request_id], current, started
        )
        reading.fields = [FieldAccount("auditSubjects", len(opened), "clear", "command line")]
        reading.operation_name = "audit subjects"
        await log.write(reading)
    finally:
        await log.close()
        await engine.dispose()
    lines = [
        f"{resource}: {opened[hashed]}"
        for resource, hashes in sorted(record.records.items())
        for hashed in hashes["subjects"]
        if hashed in opened
    ]
    return "".join(line + "\n" for line in lines) or "the request served no subject\n"
