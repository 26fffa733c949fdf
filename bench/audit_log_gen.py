"""A generated audit log: a busy month of a city's traffic, written straight into a
platform store in bulk (not through HTTP), hash-chained as the writer chains it.

    uv run --frozen python bench/audit_log_gen.py --store-url URL --records N [--seed S]
        [--month 2026-11]

Records average ~4 KB (about ten records served, their subjects and some twenty-five
field paths each), from 40 consumer systems, a person named on one in five, purposes
and case references from a pool, outcomes mostly served, times weighted to working
hours (Asia/Shanghai), over the month and the four weeks before it (what the volume
signal compares with); half the records fall in the month. Subjects come from a pool
of 200,000 residents and firms, hashed with the bench key `KEY`, so a search can look
one up. Appends to what the store holds.
A PostgreSQL store of 1M such records takes ~5 GB with its indexes: mind the disk.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import asyncio
import calendar
import datetime
import random
import time
import uuid
from collections.abc import Sequence

import sqlalchemy as sa

from audit.chain import Prepared, link_prepared, prepare
from audit.insert import insert
from audit.lock import locked
from audit.reads import read_chain_id, read_head
from audit.record import AuditRecord, FieldAccount, SubjectHasher
from store import store_engine
from workdays.calendar import SHANGHAI

KEY = SubjectHasher("bench", b"the bench's subject key")
SUBJECTS = 200_000
FOLLOWED = 4242
"""The subject the benchmark searches for: in one record of 2,000."""
BEFORE_DAYS = 28
VERIFYING = "data_verification"
BATCH = 1000
PURPOSES = ("administrative_basis", "work_reference", "data_verification", "statistics")
ITEMS = (
    "name", "idNumber", "phone", "address", "birthDate", "creditCode", "legalRepName",
    "legalRepIdNumber", "registeredCapital", "licenceNumber", "licenceType", "parcelCode",
    "area", "holderCreditCode", "marriageDate", "spouseIdNumber", "employer", "insuranceBase",
)  # fmt: skip


def subject(number: int) -> str:
    """The identifier of subject `number` of the pool: 18 characters, as stored."""
    return f"41050019{number:010d}"


class Generator:
    def __init__(self, seed: int, month: datetime.date) -> None:
        self.random = random.Random(seed)
        self.month = month
        r = self.random
        self.systems = [(f"1141058100{n:07d}X", f"system-{n:02d}") for n in range(40)]
        self.persons = [f"staff-{n:03d}" for n in range(300)]
        self.hashes: dict[int, str] = {}
        self.days = calendar.monthrange(month.year, month.month)[1]
        self.resources = ("person", "enterprise", "licence", "land_parcel", "marriage")
        self.weights = [r.random() ** 3 for _ in self.systems]  # a few busy systems

    def hashed(self, number: int) -> str:
        found = self.hashes.get(number)
        if found is None:
            found = self.hashes[number] = KEY.hash(subject(number))
        return found

    def moment(self, person: bool) -> datetime.datetime:
        """Within the month or the four weeks before it (the signals' baseline); a
        system runs day and night now and then, a person nearly never."""
        r = self.random
        day = self.month + datetime.timedelta(days=r.randrange(-BEFORE_DAYS, self.days))
        working = r.random() < (0.999 if person else 0.9)
        minutes = r.randrange(8 * 60 + 30, 18 * 60) if working else r.randrange(24 * 60)
        local = datetime.datetime.combine(day, datetime.time(), SHANGHAI)
        moment = local + datetime.timedelta(minutes=minutes, seconds=r.random() * 60)
        return moment.astimezone(datetime.UTC)

    def record(self) -> AuditRecord:
        r = self.random
        department, system = r.choices(self.systems, self.weights)[0]
        resource = r.choice(self.resources)
        person = r.choice(self.persons) if r.random() < 0.2 else None
        purpose = r.choice(PURPOSES)
        if purpose == VERIFYING:  # a claim or two about one subject, by two systems
            department, system = self.systems[r.randrange(2)]
            served = [r.randrange(SUBJECTS)]
        else:
            served = [r.randrange(SUBJECTS) for _ in range(r.randint(6, 14))]
        # A case reference names the few subjects of its case (its own block of the pool).
        case = r.randrange(10_000_000)
        reference = f"（2026）林政字第{case}号" if r.random() < 0.7 else None
        if reference is not None:
            served = [(case * 10 + n % 10) % SUBJECTS for n in served]
        if r.random() < 1 / 2000:
            served.append(FOLLOWED)
        outcome = r.choices(("served", "partial", "forbidden", "refused"), (997, 1, 1, 1))[0]
        fields = [
            FieldAccount(
                f"{resource}s.edges.node.{item}",
                len(served),
                r.choices(("clear", "masked", "denied"), (880, 119, 1))[0],
                f"grant:{r.randrange(400)}" if r.random() < 0.6 else "catalog",
            )
            for item in r.sample(ITEMS, 14)
        ]
        fields += [
            FieldAccount(f"{resource}s{'.edges' * n}{'.node' * (n > 1)}", 1, "structure", "-")
            for n in range(3)
        ]
        hashes = [self.hashed(number) for number in served]
        return AuditRecord(
            request_id=str(uuid.UUID(int=r.getrandbits(128))),
            occurred_at=self.moment(person is not None),
            outcome=outcome,
            http_status=200 if outcome in ("served", "partial") else 403,
            hash_key_id=KEY.key_id,
            catalog_version="c" * 16,
            policy_version="p" * 16,
            duration_ms=r.random() * 40,
            caller_department=department,
            caller_system=system,
            person=person,
            purpose=purpose,
            purpose_reference=reference,
            operation_hash=f"{r.getrandbits(256):064x}",
            client_address=f"10.{r.randrange(256)}.{r.randrange(256)}.{r.randrange(256)}",
            fields=fields,
            records={resource: {"keys": sorted(hashes), "subjects": sorted(set(hashes))}},
        )


async def generate(url: str, records: int, seed: int, month: datetime.date) -> float:
    """Append `records` generated records; returns the seconds it took."""
    made = Generator(seed, month)
    engine = store_engine(url)
    started = time.perf_counter()
    try:
        left = records
        while left:
            size = min(BATCH, left)
            batch = sorted((made.record() for _ in range(size)), key=lambda r: r.occurred_at)
            entries = [prepare(record) for record in batch]
            async with engine.connect() as connection:
                await connection.run_sync(_append, entries)
            left -= size
    finally:
        await engine.dispose()
    return time.perf_counter() - started


def _append(connection: sa.Connection, entries: list[Prepared]) -> None:
    with locked(connection):
        chain_id = read_chain_id(connection)
        link_prepared(read_head(connection, chain_id), chain_id, entries)
        insert(connection, entries)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store-url", required=True, help="a migrated platform store")
    parser.add_argument("--records", type=int, required=True)
    parser.add_argument("--seed", type=int, default=20201)
    parser.add_argument("--month", default="2026-11", help="YYYY-MM")
    args = parser.parse_args(argv)
    month = datetime.date.fromisoformat(args.month + "-01")
    seconds = asyncio.run(generate(args.store_url, args.records, args.seed, month))
    print(f"{args.records} records in {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
