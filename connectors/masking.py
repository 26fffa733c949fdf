"""Masking rules as SQL, so a masked field's clear value never leaves the department's
database. Each expression gives exactly the strings of the rule's `apply` in
`catalog/masks.py` on SQLite, PostgreSQL and MariaDB.

Only positions and lengths in characters are used (`substr`, `char_length` and
`instr`/`strpos`), never `right()` or negative offsets, which the three engines do not
share. Concatenation is SQLAlchemy's string `+`: `||` on SQLite and PostgreSQL,
`concat()` on MariaDB, where `||` is a logical OR. The rule's words (fill, markers,
band labels) and numbers travel as bound parameters.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from catalog import Band, HideMiddle, KeepThrough, Mask, Surname

DIALECTS = ("sqlite", "postgresql", "mysql", "mariadb")


def masked_expression(
    mask: Mask, column: sa.ColumnElement[Any], dialect_name: str
) -> sa.ColumnElement[str]:
    """The masked value of `column` under `mask`, computed by the database; NULL stays NULL."""
    if dialect_name not in DIALECTS:
        raise ValueError(f"no masking SQL for the {dialect_name!r} dialect")
    match mask:
        case HideMiddle():
            masked = _hide_middle(mask, column)
        case KeepThrough():
            masked = _keep_through(mask, column, dialect_name)
        case Band():
            masked = _band(mask, column)
        case Surname():
            masked = _substr(column, 1, 1) + _text("**")
    return sa.case((column.is_(None), sa.null()), else_=masked)


def _hide_middle(mask: HideMiddle, column: sa.ColumnElement[Any]) -> sa.ColumnElement[str]:
    length = sa.func.char_length(column)  # SQLAlchemy writes length() for SQLite
    kept = (
        _substr(column, 1, mask.keep_start)
        + _text(mask.fill)
        + _substr(column, length - _number(mask.keep_end - 1))
    )
    return sa.case(
        (length > _number(mask.keep_start + mask.keep_end), kept), else_=_text(mask.fill)
    )


def _keep_through(
    mask: KeepThrough, column: sa.ColumnElement[Any], dialect_name: str
) -> sa.ColumnElement[str]:
    position = sa.func.strpos if dialect_name == "postgresql" else sa.func.instr
    whens = []
    for marker in mask.markers:
        found = position(column, _text(marker), type_=sa.Integer)
        kept = _substr(column, 1, found + _number(len(marker) - 1)) + _text(mask.fill)
        whens.append((found > _number(0), kept))
    return sa.case(*whens, else_=_text(mask.fill))


def _band(mask: Band, column: sa.ColumnElement[Any]) -> sa.ColumnElement[str]:
    labels = mask.labels()
    whens = [
        (column < sa.literal(bound, sa.Numeric()), _text(label))
        for bound, label in zip(mask.bounds, labels, strict=False)
    ]
    return sa.case(*whens, else_=_text(labels[-1]))


def _substr(
    column: sa.ColumnElement[Any],
    start: int | sa.ColumnElement[Any],
    length: int | sa.ColumnElement[Any] | None = None,
) -> sa.ColumnElement[str]:
    """`substr` in characters from a 1-based start, on every engine."""
    arguments = [column, _number(start) if isinstance(start, int) else start]
    if length is not None:
        arguments.append(_number(length) if isinstance(length, int) else length)
    return sa.func.substr(*arguments, type_=sa.String)


def _text(value: str) -> sa.ColumnElement[str]:
    return sa.literal(value, sa.String())


def _number(value: int) -> sa.ColumnElement[int]:
    return sa.literal(value, sa.Integer())
