"""A delivered cell as its item's value: text from a CSV, or what openpyxl read from an
XLSX cell (numbers, dates, booleans already typed). A cell that is not a value of its
item's data type is a `ValueError` whose words never quote the cell: the problem is
logged, and a cell may hold personal data."""

from __future__ import annotations

import datetime
import decimal
import re
from collections.abc import Callable
from typing import Any

from catalog import DataItem, DataType

Parse = Callable[[Any], Any]
EXCEL_DIGITS = 15
"""Excel keeps 15 significant digits of a number: an identity number typed as a number
has lost its last three."""
CENT = decimal.Decimal("0.01")
_DATE = re.compile(r"(\d{4})[-/.]?(\d{1,2})[-/.]?(\d{1,2})")
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?")
_TRUE = frozenset({"true", "1", "y", "yes", "是", "t"})
_FALSE = frozenset({"false", "0", "n", "no", "否", "f"})


def parser(item: DataItem) -> Parse:
    """How a cell becomes a value of `item`; an empty cell is NULL whatever the type."""
    typed = _PARSERS[item.data_type]
    limit = item.length if item.data_type is DataType.CHARACTER else None

    def parse(cell: Any) -> Any:
        if cell is None or (isinstance(cell, str) and not cell.strip()):
            return None
        value = typed(cell)
        if limit is not None and len(value) > limit:
            raise ValueError(f"longer than the item's length ({limit} characters)")
        return value

    return parse


def _text(cell: Any) -> str:
    if isinstance(cell, str):
        return cell.strip()
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    if isinstance(cell, bool) or not isinstance(cell, int):
        raise ValueError("not text: format the column as text in the spreadsheet")
    if len(str(abs(cell))) > EXCEL_DIGITS:
        raise ValueError(
            "a number of more than 15 digits, which Excel has rounded: "
            "format the column as text in the spreadsheet"
        )
    return str(cell)


def _integer(cell: Any) -> int:
    if isinstance(cell, float) and cell.is_integer():
        return int(cell)
    if isinstance(cell, int) and not isinstance(cell, bool):
        return cell
    try:
        return int(str(cell).strip().replace(",", ""))
    except ValueError:
        raise ValueError("not a whole number") from None


def _decimal(cell: Any) -> decimal.Decimal:
    if isinstance(cell, bool):
        raise ValueError("not a number")
    try:
        value = decimal.Decimal(str(cell).strip().replace(",", ""))
    except decimal.InvalidOperation:
        raise ValueError("not a number") from None
    if not value.is_finite():
        raise ValueError("not a number")
    return value


def _currency(cell: Any) -> decimal.Decimal:
    """An amount in yuan, to the fen: a third decimal place would be rounded away."""
    value = _decimal(cell)
    if value != value.quantize(CENT):
        raise ValueError("an amount with more than two decimal places")
    return value


def _float(cell: Any) -> float:
    return float(_decimal(cell))


def _date(cell: Any) -> datetime.date:
    if isinstance(cell, datetime.datetime):
        if cell.time() != datetime.time():
            raise ValueError("a date and time where the item is a date")
        return cell.date()
    if isinstance(cell, datetime.date):
        return cell
    match = _DATE.fullmatch(str(cell).strip())
    try:
        if match is None:
            raise ValueError
        return datetime.date(*(int(part) for part in match.groups()))
    except ValueError:
        raise ValueError("not a date (2026-12-07, 2026/12/07 or 20261207)") from None


def _datetime(cell: Any) -> datetime.datetime:
    """Without a zone, as the department's files give it (Asia/Shanghai local time)."""
    if isinstance(cell, datetime.datetime):
        return cell
    text = str(cell).strip()
    day, _, clock = text.replace("T", " ").partition(" ")
    time = _TIME.fullmatch(clock.strip())
    try:
        if time is None:
            raise ValueError
        hour, minute, second, fraction = time.groups()
        return datetime.datetime.combine(
            _date(day),
            datetime.time(
                int(hour), int(minute), int(second or 0), int((fraction or "0").ljust(6, "0"))
            ),
        )
    except ValueError:
        raise ValueError("not a date and time (2026-12-07 09:30:00)") from None


def _logical(cell: Any) -> bool:
    if isinstance(cell, bool):
        return cell
    text = str(cell).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError("not a logical value (true/false, 1/0, 是/否)")


_PARSERS: dict[DataType, Parse] = {
    DataType.CHARACTER: _text,
    DataType.MEMO: _text,
    DataType.INTEGER: _integer,
    DataType.CURRENCY: _currency,
    DataType.NUMERIC: _float,
    DataType.DOUBLE: _float,
    DataType.FLOAT: _float,
    DataType.DATE: _date,
    DataType.DATETIME: _datetime,
    DataType.LOGICAL: _logical,
}
