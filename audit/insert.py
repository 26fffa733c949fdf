"""The INSERTs that append prepared records to audit_records, with their facets
(`audit.facets`), as driver SQL: one statement a batch either way.

On PostgreSQL the records' INSERT is a data-modifying WITH whose RETURNING ids the
facets' INSERT takes, the facets passed as three arrays (seq, facet, value) for the
whole batch, so the statement's text depends on the row count only. On SQLite, which
has no such WITH, the rows go into the view `audit_appends` (0015): its INSTEAD OF
trigger inserts each record and then its facets, given as a JSON array of
facet-and-value strings in the view's `facets` column, under the record's new id;
nothing but the record is stored in the log.

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
import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from audit.chain import JSON_COLUMNS, Prepared
from store.tables import audit_records

_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_SQLITE_APPENDS = "audit_appends"
_EXTRA = 5
"""Parameters a statement takes beside its rows: the guard's two, the facet arrays' three."""


def insert(connection: sa.Connection, entries: Sequence[Prepared]) -> None:
    """Insert linked records and their facets, in as few statements as the parameter
    limit allows; call inside `audit.lock.locked()`."""
    statements = _statements(connection.dialect)
    for start in range(0, len(entries), statements.rows_per_statement):
        part = entries[start : start + statements.rows_per_statement]
        connection.exec_driver_sql(statements.insert(len(part)), statements.parameters(part))


def fits_one_statement(connection: sa.Connection, rows: int) -> bool:
    """Whether `insert_if_head` can take this many rows."""
    return rows <= _statements(connection.dialect).rows_per_statement


def insert_if_head(connection: sa.Connection, entries: Sequence[Prepared], head_hash: str) -> bool:
    """Insert linked records (and their facets) after the record hashed `head_hash` if
    that is still the newest record of their chain, in one statement; False (and
    nothing inserted) if it is not. The connection must be in autocommit: the
    statement is the transaction."""
    statements = _statements(connection.dialect)
    guard = (entries[0].row["chain_id"], head_hash)
    if statements.sqlite:
        # Rows inserted by the view's trigger are not counted in the statement's
        # rowcount; the connection's total (read without a statement) counts them.
        raw = connection.connection.dbapi_connection
        before = raw.total_changes  # type: ignore[union-attr]
        parameters = (*statements.parameters(entries), *guard)
        connection.exec_driver_sql(statements.guarded(len(entries)), parameters)
        return bool(raw.total_changes > before)  # type: ignore[union-attr]
    parameters = statements.parameters(entries, guard)
    inserted = connection.exec_driver_sql(statements.guarded(len(entries)), parameters)
    return bool(inserted.scalar_one() == len(entries))


class _Statements:
    """The texts and parameters of one dialect: qmark (pysqlite) or numeric_dollar
    (asyncpg, with a cast on every parameter, as a VALUES list has no target type)."""

    def __init__(self, dialect: sa.Dialect) -> None:
        if dialect.paramstyle not in ("qmark", "numeric_dollar"):
            raise ValueError(f"no audit insert for paramstyle {dialect.paramstyle}")
        self._dialect = dialect
        self.sqlite = dialect.paramstyle == "qmark"
        self.columns = tuple(column for column in audit_records.c if not column.primary_key)
        self._width = len(self.columns) + (1 if self.sqlite else 0)
        self.rows_per_statement = (dialect.insertmanyvalues_max_parameters - _EXTRA) // self._width
        self._texts: dict[tuple[int, bool], str] = {}
        self._processors = tuple(
            (column.name, None if column.name in JSON_COLUMNS else _processor(column, dialect))
            for column in self.columns
        )
        quote = dialect.identifier_preparer.quote
        names = [quote(column.name) for column in self.columns]
        if self.sqlite:
            self._into = f"INSERT INTO {_SQLITE_APPENDS} ({', '.join([*names, 'facets'])})"
        else:
            self._into = f"INSERT INTO {quote(audit_records.name)} ({', '.join(names)})"
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
        n = rows * self._width
        if guarded:
            chain = self._placeholder(n, self._type(audit_records.c.chain_id))
            head = self._placeholder(n + 1, self._type(audit_records.c.record_hash))
            newest = self._newest.format(chain=chain)
            records = (
                f"{self._into} SELECT * FROM (VALUES {values}) AS batch WHERE ({newest}) = {head}"
            )
            n += 2
        else:
            records = f"{self._into} VALUES {values}"
        if self.sqlite:
            return records
        seqs, facets, texts = (
            self._placeholder(n + i, kind)
            for i, kind in enumerate(("bigint[]", "varchar[]", "text[]"))
        )
        return (
            f"WITH appended AS ({records} RETURNING id, seq), "
            "filed AS (INSERT INTO audit_facets (record_id, facet, value)"
            " SELECT appended.id, f.facet, f.value FROM appended"
            f" JOIN unnest({seqs}, {facets}, {texts}) AS f(seq, facet, value)"
            " ON f.seq = appended.seq) "
            "SELECT count(*) FROM appended"
        )

    def parameters(
        self, entries: Sequence[Prepared], guard: tuple[str, str] | tuple[()] = ()
    ) -> tuple[Any, ...]:
        """A tuple, row after row (exec_driver_sql would take a list for executemany),
        then the guard's, then on PostgreSQL the batch's facets as three arrays."""
        values: list[Any] = []
        for entry in entries:
            row = entry.row
            values.extend(
                row[name] if process is None else process(row[name])
                for name, process in self._processors
            )
            if self.sqlite:
                values.append(_ENCODE([facet + value for facet, value in entry.facets]))
        values.extend(guard)
        if not self.sqlite:
            seqs: list[int] = []
            facets: list[str] = []
            texts: list[str] = []
            for entry in entries:
                seq = entry.row["seq"]
                for facet, value in entry.facets:
                    seqs.append(seq)
                    facets.append(facet)
                    texts.append(value)
            values.extend((seqs, facets, texts))
        return tuple(values)

    def _values(self, rows: int) -> str:
        width = self._width
        types = [self._type(column) for column in self.columns]
        return ", ".join(
            "("
            + ", ".join(self._placeholder(r * width + i, kind) for i, kind in enumerate(types))
            + (", ?" if self.sqlite else "")
            + ")"
            for r in range(rows)
        )

    def _type(self, column: sa.Column[Any]) -> str:
        return column.type.compile(dialect=self._dialect)

    def _placeholder(self, index: int, kind: str) -> str:
        if self.sqlite:
            return "?"
        return f"${index + 1}::{kind}"


def _processor(column: sa.Column[Any], dialect: sa.Dialect) -> Any:
    return column.type.dialect_impl(dialect).bind_processor(dialect)


@functools.lru_cache(maxsize=8)
def _statements(dialect: sa.Dialect) -> _Statements:
    return _Statements(dialect)
