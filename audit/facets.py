"""What a record holds inside its JSON, as the rows of `audit_facets` the search reads.

One (facet, value) pair per distinct thing a record names:

    s  a data subject's keyed hash (`records.*.subjects`)
    r  a resource served (`records` keys)
    i  an item decided (the last part of a field path whose decision is not structure)
    d  a decision (clear, masked, denied)
    g  a basis naming a grant (`grant:<id>`, or several joined by ` & `)

The writer computes them from the record it already holds, in Python, and inserts them
in the statement that appends the record (`audit.insert`): a trigger parsing each
record's JSON again in the database cost the writer half its throughput
(0015_audit_facets_by_writer). The facets are not chained; `audit verify` recomputes
them from the chained records and names the first record whose stored facets differ,
so a facet forged, dropped or altered by whoever can write the store is caught.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from audit.record import AuditRecord
from store.tables import audit_facets, audit_records

Facet = tuple[str, str]


def facets_of(record: AuditRecord) -> list[Facet]:
    """The record's facets, sorted, each once."""
    return facets_from(record.records, [account.__dict__ for account in record.fields])


def facets_from(
    records: Mapping[str, Mapping[str, Sequence[str]]], fields: Sequence[Mapping[str, Any]]
) -> list[Facet]:
    """The facets of a record's `records` and `fields` as stored (decoded JSON)."""
    found: set[Facet] = set()
    for resource, hashes in records.items():
        found.add(("r", resource))
        found.update(("s", subject) for subject in hashes.get("subjects", ()))
    for account in fields:
        decision, basis = account["decision"], account["basis"]
        if decision != "structure":
            found.add(("i", account["path"].rsplit(".", 1)[-1]))
            found.add(("d", decision))
        if "grant:" in basis:
            found.add(("g", basis))
    return sorted(found)


async def first_differing(connection: AsyncConnection, *, page: int = 1000) -> int | None:
    """The id of the first record whose stored facets are not the ones its chained
    content gives; None when all agree. Reads the log and the facets in id pages, side
    by side: memory stays flat. A facet naming no stored record finds nothing (a search
    returns records), so it is no concern here; records removed unlike retention does
    are the chain walk's to catch."""
    records, facets = audit_records.c, audit_facets.c
    after = 0
    while True:
        rows = (
            await connection.execute(
                sa.select(records.id, records.records, records.fields)
                .where(records.id > after)
                .order_by(records.id)
                .limit(page)
            )
        ).all()
        until = rows[-1].id if len(rows) == page else None
        stored: dict[int, list[Facet]] = defaultdict(list)
        query = sa.select(facets.record_id, facets.facet, facets.value).where(
            facets.record_id > after
        )
        if until is not None:
            query = query.where(facets.record_id <= until)
        for record_id, facet, value in await connection.execute(query):
            stored[record_id].append((facet, value))
        for row in rows:
            if sorted(stored.pop(row.id, [])) != facets_from(row.records, row.fields):
                return int(row.id)
        if until is None:
            return None
        after = until
