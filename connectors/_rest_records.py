"""Records of a REST API's response as rows: each value taken from its JSON field,
typed as its item's data type, and the row computed (`arrival.shaped`) as the record
is parsed, so a clear value the read only computes from is dropped there and a value
not asked for is never taken at all.

A response that is not what the catalog declares (not JSON, no list where the records
should be, a value of the wrong type) is the source failing: `Malformed`, which the
connector reports as SOURCE_UNAVAILABLE without quoting the value.
"""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Callable, Mapping
from typing import Any

from catalog import DataType, Endpoint
from connectors.arrival import shaped
from connectors.base import Read, Row


class Malformed(ValueError):
    """The body does not hold what the catalog declares; says where, never the value."""


def records(body: Any, path: str | None) -> list[Any]:
    found = dig(body, path)
    if not isinstance(found, list):
        raise Malformed(f"no list of records at {path or 'the top of the body'}")
    return found


def rows(found: list[Any], read: Read, endpoint: Endpoint, columns: tuple[str, ...]) -> list[Row]:
    """Each record as the row `read` asks for; `columns` are the ones it reads."""
    fields = endpoint.api.fields
    parsed = []
    for record in found:
        if not isinstance(record, dict):
            raise Malformed("a record is not a JSON object")
        clear = {
            column: typed(dig(record, fields.get(column, column)), endpoint.types[column], column)
            for column in columns
        }
        parsed.append(shaped(clear, read))
    return parsed


def dig(value: Any, path: str | None) -> Any:
    """The value at a dot path; an absent key is null, as many APIs leave nulls out."""
    if path is None:
        return value
    for key in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def typed(value: Any, data_type: DataType, column: str) -> Any:
    """A JSON value as its item's data type (an upstream platform's answer too)."""
    if value is None:
        return None
    try:
        return _PARSERS[data_type](value)
    except (TypeError, ValueError, decimal.InvalidOperation):
        raise Malformed(f"{column} is not of its catalog type {data_type.value}") from None


def _text(value: Any) -> str:
    """Text only: a code sent as a number (an identity number) may have lost digits."""
    if not isinstance(value, str):
        raise TypeError
    return value


def _integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError
    return int(value)


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError
    return float(value)


def _amount(value: Any) -> decimal.Decimal:
    """Exact, whether the API writes 12.5 or "12.5" (a float's shortest text)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError
    return decimal.Decimal(repr(value) if isinstance(value, float) else value)


def _date(value: Any) -> datetime.date:
    if not isinstance(value, str):
        raise TypeError
    return datetime.date.fromisoformat(value)


def _datetime(value: Any) -> datetime.datetime:
    if not isinstance(value, str):
        raise TypeError
    return datetime.datetime.fromisoformat(value)


def _logical(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError
    return value


_PARSERS: Mapping[DataType, Callable[[Any], Any]] = {
    DataType.CHARACTER: _text,
    DataType.MEMO: _text,
    DataType.INTEGER: _integer,
    DataType.NUMERIC: _number,
    DataType.DOUBLE: _number,
    DataType.FLOAT: _number,
    DataType.CURRENCY: _amount,
    DataType.DATE: _date,
    DataType.DATETIME: _datetime,
    DataType.LOGICAL: _logical,
}
