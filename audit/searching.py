"""`python -m audit search`, `report` and `signals`: the auditors' search, the subject
access report and the misuse signals without a browser, on record.

The search itself is `audit.search`, the report `audit.subject_report`; this is their
command line. Before anything found
is printed, the search is appended to the log as any request is (the auditor named
with `--auditor`, asserted as an operator is, the request ids returned and the subject
searched for as keyed hashes): if that record cannot be written, nothing is printed.
"""

from __future__ import annotations

import argparse
import datetime
import time
import uuid
from collections.abc import Sequence

from audit.log import AuditLog
from audit.record import AuditRecord, FieldAccount, SubjectHasher
from audit.report_html import report_html
from audit.search import (
    AuditFilter,
    FoundRecord,
    as_csv,
    as_jsonl,
    every_match,
    exported_row,
    hashers_in_use,
    subject_identifier,
)
from audit.signals import misuse_signals
from audit.subject_report import subject_access_report
from settings import Settings
from store import store_engine
from workdays import load_calendar

READ_LOG = "audit_records"
SYSTEM = "audit-cli"
FILTERS = (
    ("subject", "an ID number or credit code, in clear (matched through the keyed hashes)"),
    ("department", "the consumer department's code"),
    ("system", "the consumer system's id"),
    ("person", "the person a sign-on token named"),
    ("resource", "a resource id (enterprise)"),
    ("item", "an item's field name (legalRepIdNumber)"),
    ("purpose", "administrative_basis, work_reference, data_verification, ..."),
    ("reference", "the purpose reference (case or document number)"),
    ("outcome", "served, partial, refused, invalid, failed"),
    ("decision", "clear, masked or denied, for some field"),
    ("document-id", "the registered document run"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store-url", help="SQLAlchemy async URL (default: from settings)")
    parser.add_argument("--auditor", required=True, help="who searches: on record")
    for name, text in FILTERS:
        parser.add_argument(f"--{name}", help=text)
    parser.add_argument("--grant", type=int, help="a grant id the fields were decided by")
    parser.add_argument("--from", dest="occurred_from", type=_moment, help="ISO time, zoned")
    parser.add_argument("--until", dest="occurred_until", type=_moment, help="exclusive")
    parser.add_argument("--format", choices=("table", "csv", "jsonl"), default="table")
    parser.add_argument("--limit", type=int, default=1000, help="records at most (1000)")


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store-url", help="SQLAlchemy async URL (default: from settings)")
    parser.add_argument("--auditor", required=True, help="who asks: on record")
    parser.add_argument("--subject", required=True, help="an ID number or credit code")
    parser.add_argument("--from", dest="occurred_from", type=_moment, help="ISO time, zoned")
    parser.add_argument("--until", dest="occurred_until", type=_moment, help="exclusive")


async def report_command(url: str, arguments: argparse.Namespace, settings: Settings) -> str:
    """The report as a printable HTML page, once the request for it is on record."""
    started = time.perf_counter()
    engine = store_engine(url)
    log = AuditLog(engine)
    try:
        report = await subject_access_report(
            engine,
            arguments.subject,
            hashers_in_use(settings),
            occurred_from=arguments.occurred_from,
            occurred_until=arguments.occurred_until,
        )
        read = [i for group in report.groups for i in group.request_ids]
        current = SubjectHasher(*settings.audit_key())
        reading = reading_record(arguments.auditor, [report.subject], read, current, started)
        reading.fields = [FieldAccount("subjectAccessReport", 1, "clear", "command line")]
        reading.operation_name = "audit report"
        await log.write(reading)
    finally:
        await log.close()
        await engine.dispose()
    return report_html(report)


def add_signal_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store-url", help="SQLAlchemy async URL (default: from settings)")
    parser.add_argument("--auditor", required=True, help="who asks: on record")
    parser.add_argument("--from", dest="occurred_from", type=_moment, help="ISO time, zoned")
    parser.add_argument("--until", dest="occurred_until", type=_moment, help="exclusive")


async def signals_command(url: str, arguments: argparse.Namespace, settings: Settings) -> str:
    """The signals of the period (default: the 30 days to now), once the request for
    them is on record."""
    started = time.perf_counter()
    until = arguments.occurred_until or datetime.datetime.now(datetime.UTC)
    since = arguments.occurred_from or until - datetime.timedelta(days=30)
    calendar = load_calendar(settings.calendar_dir)
    engine = store_engine(url)
    log = AuditLog(engine)
    try:
        found = await misuse_signals(engine, settings, calendar, since, until)
        read = [one.record.request_id for signal in found for one in signal.records]
        current = SubjectHasher(*settings.audit_key())
        reading = reading_record(arguments.auditor, [], read, current, started)
        reading.fields = [FieldAccount("misuseSignals", len(found), "clear", "command line")]
        reading.operation_name = "audit signals"
        await log.write(reading)
    finally:
        await log.close()
        await engine.dispose()
    if not found:
        return "no misuse signal\n"
    lines = []
    for signal in found:
        lines.append(f"{signal.kind}  {signal.subject}: {signal.detail} ({signal.count} records)")
        lines.extend("    " + line for line in table(signal.records).splitlines()[:-1])
    return "\n".join(lines) + f"\n{len(found)} signals\n"


def _moment(text: str) -> datetime.datetime:
    moment = datetime.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} needs a time zone (e.g. +08:00)")
    return moment


def audit_filter(arguments: argparse.Namespace) -> AuditFilter:
    return AuditFilter(
        subject=arguments.subject,
        department=arguments.department,
        system=arguments.system,
        person=arguments.person,
        resource=arguments.resource,
        item=arguments.item,
        purpose=arguments.purpose,
        reference=arguments.reference,
        outcome=arguments.outcome,
        decision=arguments.decision,
        grant=arguments.grant,
        document_id=arguments.document_id,
        occurred_from=arguments.occurred_from,
        occurred_until=arguments.occurred_until,
    )


async def search_command(url: str, arguments: argparse.Namespace, settings: Settings) -> str:
    """What to print, once the search is on record."""
    if not 0 < arguments.limit <= 100_000:
        raise ValueError("--limit: between 1 and 100000")
    started = time.perf_counter()
    where = audit_filter(arguments)
    hashers = hashers_in_use(settings)
    engine = store_engine(url)
    log = AuditLog(engine)
    try:
        found = await every_match(engine, where, hashers, arguments.limit)
        current = SubjectHasher(*settings.audit_key())
        subjects = [subject_identifier(where.subject)] if where.subject is not None else []
        read = [one.record.request_id for one in found]
        reading = reading_record(arguments.auditor, subjects, read, current, started)
        await log.write(reading)
    finally:
        await log.close()
        await engine.dispose()
    if arguments.format == "csv":
        return as_csv(found)
    if arguments.format == "jsonl":
        return as_jsonl(found)
    return table(found)


def reading_record(
    auditor: str,
    subjects: Sequence[str],
    read: Sequence[str],
    hasher: SubjectHasher,
    started: float,
) -> AuditRecord:
    """The record of an auditor's read: the request ids returned, the subjects asked for."""
    return AuditRecord(
        request_id=str(uuid.uuid4()),
        occurred_at=datetime.datetime.now(datetime.UTC),
        outcome="served",
        http_status=200,
        hash_key_id=hasher.key_id,
        catalog_version="-",
        policy_version="-",
        duration_ms=(time.perf_counter() - started) * 1000,
        caller_system=SYSTEM,
        operator=auditor,
        operation_name="audit search",
        fields=[FieldAccount("auditSearch", len(read), "clear", "command line")],
        records={
            READ_LOG: {
                "keys": hasher.hash_all(read),
                "subjects": hasher.hash_all(subjects),
            }
        },
    )


def table(found: Sequence[FoundRecord]) -> str:
    if not found:
        return "no audit record matches\n"
    lines = []
    for one in found:
        row = exported_row(one)
        caller = f"{row['caller_department']}/{row['caller_system']}".strip("/") or "public"
        who = f" {row['person']}" if row["person"] else ""
        why = f"{row['purpose']} {row['purpose_reference']}".strip() or "-"
        lines.append(
            f"{row['occurred_at']}  {caller}{who}  {why}  {row['outcome']}  "
            f"{row['resources'] or '-'}  [{row['items']}]  {row['request_id']}"
        )
    return "\n".join(lines) + f"\n{len(found)} records\n"
