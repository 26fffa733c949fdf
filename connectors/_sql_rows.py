"""What comes back from a SQL source, as the connector interface hands it on."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from connectors.base import Read, Row
from errors import SourceUnavailable

logger = logging.getLogger("gov_share.connectors")


def group_rows(rows: list[Row], read: Read) -> list[list[Row]]:
    """One row set per match value, in the order of the values (NDC's variables)."""
    if read.match_column is None:
        return [rows]
    groups: dict[Any, list[Row]] = {}
    for row in rows:
        groups.setdefault(row[read.match_column], []).append(row)
    return [groups.get(value, []) for value in read.match_values or ()]


def counts_per_match(result: Sequence[Sequence[Any]], read: Read) -> list[int]:
    """The rows of `count_statement`, as one count per match value (or one in all)."""
    if read.match_column is None:
        return [int(result[0][0])]
    counts = {row[0]: int(row[1]) for row in result}
    return [counts.get(value, 0) for value in read.match_values or ()]


def source_unavailable(source: str, exc: BaseException) -> SourceUnavailable:
    # The driver's message may quote values from the statement: log its class only.
    logger.warning("source unavailable", extra={"source": source, "error": type(exc).__name__})
    return SourceUnavailable(f"source {source} is unavailable", source=source)
