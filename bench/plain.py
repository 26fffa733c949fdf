"""(b) Plain graphql-core: the platform's SDL, plain resolvers, per-request DataLoaders
whose batch functions return rows loaded into memory before timing. Pure execution
cost: no SQL, no policy, no strawberry.

The document is parsed and validated once per query text and then executed, as the
platform does with strawberry's `ParserCache` and `ValidationCache`; without the
cache every request would also pay validation (~1 ms), which would flatter the ratio.
"""

from __future__ import annotations

import inspect
import sqlite3
from collections.abc import Awaitable
from contextlib import closing
from pathlib import Path
from typing import Any

import graphql
from aiodataloader import DataLoader

from bench.workload import query

Json = dict[str, Any]


class Rows:
    """Everything the query can reach, keyed as the loaders look it up."""

    def __init__(self, paths: dict[str, Path]) -> None:
        self.enterprises: list[Json] = _select(
            paths["market_regulation"],
            "SELECT credit_code AS creditCode, name, legal_rep_name AS legalRepName,"
            " legal_rep_id_number AS legalRepIdNumber FROM enterprise ORDER BY credit_code",
        )
        persons = _select(
            paths["public_security"], "SELECT id_number AS idNumber, name FROM person"
        )
        self.persons: dict[str, Json] = {row["idNumber"]: row for row in persons}
        self.licences = _grouped(
            paths["licence_office"],
            "SELECT holder_id_number AS holder, licence_number AS licenceNumber,"
            " licence_type AS licenceType FROM licence ORDER BY holder_id_number, licence_number",
        )
        self.parcels = _grouped(
            paths["natural_resources"],
            "SELECT holder_credit_code AS holder, parcel_code AS parcelCode, area"
            " FROM land_parcel ORDER BY holder_credit_code, parcel_code",
        )


class Loaders:
    """One set per request, as the platform's."""

    def __init__(self, rows: Rows) -> None:
        self.rows = rows
        self.persons: DataLoader[str, Json | None] = DataLoader(self._persons)
        self._pages: dict[tuple[str, int], DataLoader[str, list[Json]]] = {}

    async def _persons(self, keys: list[str]) -> list[Json | None]:
        return [self.rows.persons.get(key) for key in keys]

    def page(self, table: str, first: int) -> DataLoader[str, list[Json]]:
        loader = self._pages.get((table, first))
        if loader is None:
            grouped: dict[str, list[Json]] = getattr(self.rows, table)

            async def batch(keys: list[str]) -> list[list[Json]]:
                return [grouped.get(key, [])[:first] for key in keys]

            loader = self._pages[(table, first)] = DataLoader(batch)
        return loader


class PlainGraphQL:
    name = "(b) plain graphql-core"

    def __init__(self, sdl: str, rows: Rows) -> None:
        self.schema = graphql.build_schema(sdl)
        self.rows = rows
        self.statements = 0
        self._documents: dict[str, graphql.DocumentNode] = {}
        self._attach()

    def _attach(self) -> None:
        def field(type_name: str, name: str) -> graphql.GraphQLField:
            named = self.schema.get_type(type_name)
            assert isinstance(named, graphql.GraphQLObjectType)
            found: graphql.GraphQLField = named.fields[name]
            return found

        field("Query", "enterprises").resolve = self._enterprises
        field("Enterprise", "legalRepresentative").resolve = _legal_representative
        field("Enterprise", "landParcels").resolve = _many("parcels", "creditCode")
        field("Person", "licences").resolve = _many("licences", "idNumber")

    async def _enterprises(
        self, _root: None, _info: graphql.GraphQLResolveInfo[Loaders], first: int, **_others: Any
    ) -> Json:
        return _connection(self.rows.enterprises[:first])

    def document(self, query: str) -> graphql.DocumentNode:
        document = self._documents.get(query)
        if document is None:
            document = graphql.parse(query)
            errors = graphql.validate(self.schema, document)
            if errors:
                raise ValueError(f"invalid benchmark query: {errors[0].message}")
            self._documents[query] = document
        return document

    async def execute(self, query: str) -> Json:
        result = graphql.execute(
            self.schema, self.document(query), context_value=Loaders(self.rows)
        )
        if inspect.isawaitable(result):
            result = await result
        assert isinstance(result, graphql.ExecutionResult)
        if result.errors:
            raise RuntimeError(f"plain graphql-core failed: {result.errors[0]}")
        assert result.data is not None
        return result.data

    async def run(self, n: int) -> Json:
        return await self.execute(query(n))

    async def close(self) -> None:
        return None


def _legal_representative(
    root: Json, info: graphql.GraphQLResolveInfo[Loaders]
) -> Awaitable[Json | None] | None:
    key = root.get("legalRepIdNumber")
    if key is None:
        return None
    return info.context.persons.load(key)


def _many(table: str, from_field: str) -> graphql.GraphQLFieldResolver:
    async def resolve(
        root: Json, info: graphql.GraphQLResolveInfo[Loaders], first: int, **_others: Any
    ) -> Json:
        return _connection(await info.context.page(table, first).load(root[from_field]))

    return resolve


def _connection(rows: list[Json]) -> Json:
    return {"edges": [{"node": row} for row in rows]}


def _select(path: Path, sql: str) -> list[Json]:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
        connection.row_factory = sqlite3.Row
        return [dict(row) for row in connection.execute(sql)]


def _grouped(path: Path, sql: str) -> dict[str, list[Json]]:
    grouped: dict[str, list[Json]] = {}
    for row in _select(path, sql):
        grouped.setdefault(row.pop("holder"), []).append(row)
    return grouped
