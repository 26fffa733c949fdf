"""(a) The SQL floor: the governed query's batched statements, hand-written, no GraphQL.

The same four statements the platform's loaders send (an enterprise page; persons by
`IN`; licences and parcels per parent with a window function), in the same order of
dependency, on raw aiosqlite, assembled into the same nested shape as the response.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiosqlite

from bench.workload import NESTED_FIRST

Json = dict[str, Any]

ENTERPRISES = (
    "SELECT credit_code, name, legal_rep_name, legal_rep_id_number"
    " FROM enterprise ORDER BY credit_code LIMIT ?"
)
PERSONS = "SELECT id_number, name FROM person WHERE id_number IN ({marks})"
LICENCES = (
    "SELECT holder_id_number, licence_number, licence_type FROM ("
    " SELECT holder_id_number, licence_number, licence_type, row_number() OVER"
    " (PARTITION BY holder_id_number ORDER BY licence_number) AS position"
    " FROM licence WHERE holder_id_number IN ({marks})"
    ") WHERE position <= ? ORDER BY holder_id_number, licence_number"
)
PARCELS = (
    "SELECT holder_credit_code, parcel_code, area FROM ("
    " SELECT holder_credit_code, parcel_code, area, row_number() OVER"
    " (PARTITION BY holder_credit_code ORDER BY parcel_code) AS position"
    " FROM land_parcel WHERE holder_credit_code IN ({marks})"
    ") WHERE position <= ? ORDER BY holder_credit_code, parcel_code"
)


class Pool:
    """Up to `size` read-only connections to one SQLite file, opened on demand
    (the platform's SQLAlchemy pool allows 5 + 10 overflow)."""

    def __init__(self, path: Path, size: int = 15) -> None:
        self.uri = f"file:{path}?mode=ro"
        self.size = size
        self.idle: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        self.opened: list[aiosqlite.Connection] = []

    async def fetch(self, sql: str, parameters: Sequence[Any]) -> list[Any]:
        if self.idle.empty() and len(self.opened) < self.size:
            connection = await aiosqlite.connect(self.uri, uri=True)
            self.opened.append(connection)
        else:
            connection = await self.idle.get()
        try:
            async with connection.execute(sql, parameters) as cursor:
                return list(await cursor.fetchall())
        finally:
            self.idle.put_nowait(connection)

    async def close(self) -> None:
        for connection in self.opened:
            await connection.close()


class SqlFloor:
    name = "(a) SQL floor"

    def __init__(self, paths: dict[str, Path]) -> None:
        self.pools = {name: Pool(path) for name, path in paths.items()}
        self.statements = 0

    async def _fetch(self, source: str, sql: str, parameters: Sequence[Any]) -> list[Any]:
        self.statements += 1
        return await self.pools[source].fetch(sql, parameters)

    async def run(self, n: int) -> Json:
        enterprises = await self._fetch("market_regulation", ENTERPRISES, (n,))
        person_ids = list(dict.fromkeys(row[3] for row in enterprises if row[3] is not None))
        credit_codes = [row[0] for row in enterprises]
        (persons, licences), parcels = await asyncio.gather(
            self._persons_and_licences(person_ids), self._parcels(credit_codes)
        )
        edges = []
        for credit_code, name, legal_rep_name, legal_rep_id in enterprises:
            person = persons.get(legal_rep_id) if legal_rep_id is not None else None
            representative = None
            if person is not None:
                representative = {
                    "name": person,
                    "idNumber": legal_rep_id,
                    "licences": {"edges": licences.get(legal_rep_id, [])},
                }
            node = {
                "name": name,
                "creditCode": credit_code,
                "legalRepName": legal_rep_name,
                "legalRepresentative": representative,
                "landParcels": {"edges": parcels.get(credit_code, [])},
            }
            edges.append({"node": node})
        return {"enterprises": {"edges": edges}}

    async def _persons_and_licences(
        self, ids: list[str]
    ) -> tuple[dict[str, str], dict[str, list[Json]]]:
        if not ids:
            return {}, {}
        rows = await self._fetch("public_security", _in(PERSONS, len(ids)), ids)
        persons = {id_number: name for id_number, name in rows}
        found = list(persons)
        licences: dict[str, list[Json]] = {}
        if found:
            sql = _in(LICENCES, len(found))
            for holder, number, kind in await self._fetch(
                "licence_office", sql, [*found, NESTED_FIRST]
            ):
                licences.setdefault(holder, []).append(
                    {"node": {"licenceNumber": number, "licenceType": kind}}
                )
        return persons, licences

    async def _parcels(self, credit_codes: list[str]) -> dict[str, list[Json]]:
        if not credit_codes:
            return {}
        parcels: dict[str, list[Json]] = {}
        sql = _in(PARCELS, len(credit_codes))
        for holder, code, area in await self._fetch(
            "natural_resources", sql, [*credit_codes, NESTED_FIRST]
        ):
            parcels.setdefault(holder, []).append({"node": {"parcelCode": code, "area": area}})
        return parcels

    async def close(self) -> None:
        for pool in self.pools.values():
            await pool.close()


def _in(template: str, count: int) -> str:
    return template.format(marks=", ".join("?" * count))
