"""Plain text tables for the admin's terminal: columns aligned by display width, so
Chinese text (two columns a character) lines up too."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def aligned(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """The header, then the rows, two spaces between columns; no trailing spaces."""
    table = [list(headers), *(list(row) for row in rows)]
    widths = [max(width(row[column]) for row in table) for column in range(len(headers))]
    return "\n".join(
        "  ".join(
            cell + " " * (widths[column] - width(cell)) for column, cell in enumerate(row)
        ).rstrip()
        for row in table
    )
