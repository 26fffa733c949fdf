"""The INSERTs that append prepared records to audit_records, as driver SQL.

A batch is one multi-row INSERT (in parts only past the driver's parameter limit):
`insert().values(rows)` would be compiled anew for every batch, and compiling 23
columns a row cost more than the rest of the batch together (2.8 ms against 0.7 for a
batch's insert, bench/audit_cost.py's setup). The text here is a join, one per row
count, so the driver's own statement cache serves it; the values go through the
columns' bind processors, so what is stored is what SQLAlchemy stores, except the JSON
columns, which hold their canonical text already (`chain.prepare`).

The guarded form inserts the batch only if the chain's newest record is still the
head the batch was linked to: one statement in autocommit, the writer's common case
(see `AuditLog`). Its guard is read in the statement that writes: on SQLite the write
lock is taken when the statement starts; on PostgreSQL a record inserted after its
snapshot holds the same seq, and the unique (chain_id, seq) refuses the batch.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from audit.chain import JSON_COLUMNS
from store.tables import audit_records


def insert(connection: sa.Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert linked rows, in as few statements as the parameter limit allows; call
    inside `audit.lock.locked()`."""
    statements = _statements(connection.dialect)
    for start in range(0, len(rows), statements.rows_per_statement):
        part = rows[start : start + statements.rows_per_statement]
        connection.exec_driver_sql(statements.insert(len(part)), statements.parameters(part))


def fits_one_statement(connection: sa.Connection, rows: int) -> bool:
    """Whether `insert_if_head` can take this many rows (its guard takes two parameters)."""
    return rows <= _statements(connection.dialect).rows_per_guarded_statement


def insert_if_head(
    connection: sa.Connection, rows: Sequence[Mapping[str, Any]], head_hash: str
) -> bool:
    """Insert rows linked after the record hashed `head_hash` if that is still the
    newest record of their chain, in one statement; False (and nothing inserted) if it
    is not. The connection must be in autocommit: the statement is the transaction."""
    statements = _statements(connection.dialect)
    parameters = (*statements.parameters(rows), rows[0]["chain_id"], head_hash)
    result = connection.exec_driver_sql(statements.guarded(len(rows)), parameters)
    return result.rowcount == len(rows)


class _Statements:
    """The texts and parameters of one dialect: qmark (pysqlite) or numeric_dollar
    (asyncpg, with a cast on every parameter, as a VALUES list has no target type)."""

    def __init__(self, dialect: sa.Dialect) -> None:
        if dialect.paramstyle not in ("qmark", "numeric_dollar"):
            raise ValueError(f"no audit insert for paramstyle {dialect.paramstyle}")
        self._dialect = dialect
        self.columns = tuple(column for column in audit_records.c if not column.primary_key)
        limit = dialect.insertmanyvalues_max_parameters
        self.rows_per_statement = limit // len(self.columns)
        self.rows_per_guarded_statement = (limit - 2) // len(self.columns)
        self._texts: dict[tuple[int, bool], str] = {}
        self._processors = tuple(
            (column.name, None if column.name in JSON_COLUMNS else _processor(column, dialect))
            for column in self.columns
        )
        quote = dialect.identifier_preparer.quote
        self._into = (
            f"INSERT INTO {quote(audit_records.name)}"
            f" ({', '.join(quote(column.name) for column in self.columns)})"
        )
        table, c = audit_records.name, audit_records.c
        self._newest = (
            f"SELECT {c.record_hash.name} FROM {table} WHERE {c.chain_id.name} = {{chain}}"
            f" ORDER BY {c.seq.name} DESC LIMIT 1"
        )

    def insert(self, rows: int) -> str:
        return self._text(rows, guarded=False)

    def guarded(self, rows: int) -> str:
        return self._text(rows, guarded=True)

    def _text(self, rows: int, *, guarded: bool) -> str:
        text = self._texts.get((rows, guarded))
        if text is None:
            text = self._texts[(rows, guarded)] = self._made(rows, guarded)
        return text

    def _made(self, rows: int, guarded: bool) -> str:
        values = self._values(rows)
        if not guarded:
            return f"{self._into} VALUES {values}"
        n = rows * len(self.columns)
        chain = self._placeholder(n, audit_records.c.chain_id)
        head = self._placeholder(n + 1, audit_records.c.record_hash)
        newest = self._newest.format(chain=chain)
        return f"{self._into} SELECT * FROM (VALUES {values}) AS batch WHERE ({newest}) = {head}"

    def parameters(self, rows: Sequence[Mapping[str, Any]]) -> tuple[Any, ...]:
        """A tuple, row after row: exec_driver_sql would take a list for executemany."""
        values: list[Any] = []
        for row in rows:
            values.extend(
                row[name] if process is None else process(row[name])
                for name, process in self._processors
            )
        return tuple(values)

    def _values(self, rows: int) -> str:
        width = len(self.columns)
        return ", ".join(
            "("
            + ", ".join(
                self._placeholder(r * width + i, column) for i, column in enumerate(self.columns)
            )
            + ")"
            for r in range(rows)
        )

    def _placeholder(self, index: int, column: sa.Column[Any]) -> str:
        if self._dialect.paramstyle == "qmark":
            return "?"
        return f"${index + 1}::{column.type.compile(dialect=self._dialect)}"


def _processor(column: sa.Column[Any], dialect: sa.Dialect) -> Any:
    return column.type.dialect_impl(dialect).bind_processor(dialect)


@functools.lru_cache(maxsize=8)
def _statements(dialect: sa.Dialect) -> _Statements:
    return _Statements(dialect)
