"""A shape of read compiled once (`_sql_names.shape`): the statement's text as the
driver takes it, and what SQLAlchemy would do to the values on the way in (dates to
text on SQLite) and out (text to dates, to Decimal), done here without SQLAlchemy.

Building, cache-keying and compiling a Core statement for every read cost more than a
small read itself: on PostgreSQL 18% of an N=1 request (py-spy, issue 17). Each
connector keeps its shapes and binds every read's values itself; the text sent is the
same for every read of a shape, so a driver that prepares statements (asyncpg) prepares
it once per connection.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Self

import sqlalchemy as sa

from connectors.base import Read, Row

Build = Callable[[sa.Table, Read, str], sa.Select[Any]]
"""What builds a read's statement (`_sql_query.py`): part of a compiled shape's key."""
Processor = Callable[[Any], Any]
Fetched = Sequence[Sequence[Any]]
COMPILED_SHAPES = 512
"""Shapes kept per source; past that the oldest is compiled again when next read."""


@dataclass
class CompiledRead:
    """One shape's statement, compiled for one dialect."""

    sql: str
    names: tuple[str, ...]
    """The parameter of each placeholder, in order: a name `parameters` gives, or a constant."""
    binders: tuple[Processor | None, ...]
    constants: Mapping[str, Any]
    labels: tuple[str, ...]
    types: tuple[sa.types.TypeEngine[Any], ...]
    """The selected columns' types, for their result processors."""
    converters: tuple[tuple[str, Processor], ...] | None
    """What SQLAlchemy does to each column's values; None until the driver has described
    the columns (`described`): PostgreSQL's numerics are converted by their type code."""

    @classmethod
    def of(
        cls,
        statement: sa.Select[Any],
        dialect: sa.Dialect,
        named: dict[str, Any],
        *,
        described: bool = True,
    ) -> Self:
        """`described=False`: the converters are made from the first result's column
        type codes (`described`); SQLite's need none."""
        compiled = statement.compile(dialect=dialect)
        names = tuple(compiled.positiontup or ())
        # The names of `parameters` must be where the statement binds these values.
        assert all(compiled.params[name] == named[name] for name in names if name in named)
        binders = tuple(_bind_processor(compiled.binds[name], dialect) for name in names)
        constants = {
            name: _processed(binder, compiled.params[name])
            for name, binder in zip(names, binders, strict=True)
            if name not in named
        }
        columns = statement.selected_columns
        labels = tuple(columns.keys())
        types = tuple(column.type for column in columns)
        made = cls(str(compiled), names, binders, constants, labels, types, None)
        if described:
            made.described(dialect, [None] * len(types))
        return made

    def described(self, dialect: sa.Dialect, type_codes: Sequence[Any]) -> None:
        """The converters for columns of these driver type codes (a cursor's
        `description`), as SQLAlchemy makes them for a result."""
        self.converters = tuple(
            (label, converter)
            for label, type_, code in zip(self.labels, self.types, type_codes, strict=True)
            if (converter := type_.dialect_impl(dialect).result_processor(dialect, code))
        )

    def values(self, named: Mapping[str, Any]) -> tuple[Any, ...]:
        constants = self.constants
        # Inline, not `_processed`: a call per value took 15 µs for 100 keys, this 9.
        return tuple(
            [
                constants[name]
                if name in constants
                else named[name]
                if binder is None
                else binder(named[name])
                for name, binder in zip(self.names, self.binders, strict=True)
            ]
        )

    def rows(self, fetched: Fetched) -> list[Row]:
        # Each driver row has one value per label (the statement selects them): a strict
        # zip would cost ~0.15 µs more per row, a third of building it.
        rows = [dict(zip(self.labels, values, strict=False)) for values in fetched]
        assert self.converters is not None, "described before its first rows"
        for label, converter in self.converters:
            for row in rows:
                row[label] = converter(row[label])
        return rows


def _bind_processor(bind: sa.BindParameter[Any], dialect: sa.Dialect) -> Processor | None:
    processor: Processor | None = bind.type.dialect_impl(dialect).bind_processor(dialect)
    return processor


def _processed(binder: Processor | None, value: Any) -> Any:
    return value if binder is None else binder(value)
