"""A delivered file as a header and its rows, numbered as a spreadsheet numbers them
(the header is row 1): CSV with the standard library, XLSX with openpyxl.

openpyxl because in read-only mode it streams a sheet's XML row by row instead of
building the workbook in memory, gives cells typed as Excel stored them (a date as a
date, a number as a number, so an identity number Excel rounded can be told from
text), and is the maintained, pure-Python reader the ecosystem uses; no C extension
or whole-table library (pandas) for reading rows once.

A CSV's encoding is what the catalog declares, else found from its bytes: UTF-8, with
or without the byte-order mark Excel writes, when all of them decode as UTF-8; else
GB18030, which is what Chinese Excel and most government systems export as "CSV"
(GBK and GB2312 are subsets of it).
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from catalog import Drop

SUFFIXES = (".csv", ".xlsx")
CHUNK = 1 << 20
Cells = Sequence[Any]


class Unreadable(Exception):
    """The file cannot be read as CSV or XLSX at all; the words name no cell value."""


@dataclass(frozen=True)
class Delivered:
    header: tuple[str, ...]
    rows: Iterator[tuple[int, Cells]]
    """(row number, cells) of each row that is not empty, after the header."""


def column_letter(index: int) -> str:
    """A column as a spreadsheet names it: 0 → A, 26 → AA."""
    return get_column_letter(index + 1)


def digest(path: Path) -> str:
    """The file's SM3 digest (hex), stamped with its load."""
    hashed = hashlib.new("sm3")
    with path.open("rb") as file:
        while chunk := file.read(CHUNK):
            hashed.update(chunk)
    return hashed.hexdigest()


@contextlib.contextmanager
def delivered(path: Path, drop: Drop | None) -> Iterator[Delivered]:
    """The file's header and rows, open while the context lasts."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with _csv(path, drop.encoding if drop else None) as rows:
            yield _with_header(rows)
    elif suffix == ".xlsx":
        with _xlsx(path, drop.sheet if drop else None) as rows:
            yield _with_header(rows)
    else:
        raise Unreadable(f"not a CSV or XLSX file (a drop takes {', '.join(SUFFIXES)})")


def _with_header(rows: Iterator[tuple[int, Cells]]) -> Delivered:
    first = next(rows, None)
    if first is None:
        raise Unreadable("the file is empty: row 1 must be the header")
    number, cells = first
    if number != 1:
        raise Unreadable("row 1 is empty: it must be the header")
    header = tuple("" if cell is None else str(cell).strip() for cell in cells)
    while header and not header[-1]:
        header = header[:-1]
    return Delivered(header, rows)


@contextlib.contextmanager
def _csv(path: Path, declared: str | None) -> Iterator[Iterator[tuple[int, Cells]]]:
    encoding = _csv_encoding(path, declared)
    with path.open(encoding=encoding, newline="") as file:
        yield _csv_rows(csv.reader(file, strict=True), encoding)


def _csv_rows(reader: Iterator[list[str]], encoding: str) -> Iterator[tuple[int, Cells]]:
    number = 0
    try:
        for cells in reader:
            number += 1
            if any(cell.strip() for cell in cells):
                yield number, cells
    except UnicodeDecodeError:
        raise Unreadable(f"row {number + 1}: not {_named(encoding)} text") from None
    except csv.Error as error:
        raise Unreadable(f"row {number + 1}: not CSV ({error})") from None


def _csv_encoding(path: Path, declared: str | None) -> str:
    if declared is not None:
        return "utf-8-sig" if declared == "utf-8" else declared
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as file:
            while chunk := file.read(CHUNK):
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8-sig"


def _named(encoding: str) -> str:
    return "UTF-8" if encoding == "utf-8-sig" else encoding.upper()


@contextlib.contextmanager
def _xlsx(path: Path, sheet: str | None) -> Iterator[Iterator[tuple[int, Cells]]]:
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises zipfile's, KeyError, ValueError…
        raise Unreadable(f"not an XLSX workbook ({type(error).__name__})") from None
    try:
        if sheet is not None and sheet not in workbook.sheetnames:
            raise Unreadable(f"no sheet named {sheet!r} (the catalog's drop.sheet)")
        worksheet = workbook[sheet] if sheet is not None else workbook.worksheets[0]
        yield _xlsx_rows(worksheet.iter_rows(values_only=True))
    finally:
        workbook.close()


def _xlsx_rows(rows: Iterator[Cells]) -> Iterator[tuple[int, Cells]]:
    number = 0
    try:
        for number, cells in enumerate(rows, start=1):
            if any(cell is not None and str(cell).strip() for cell in cells):
                yield number, cells
    except Exception as error:  # a sheet's XML broken past its start
        raise Unreadable(f"row {number + 1}: not readable ({type(error).__name__})") from None
