"""What comes back from a SQL source, as the connector interface hands it on, and how a
SQL or REST source failed to answer."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import httpx
from sqlalchemy.exc import DBAPIError

from connectors.base import Read, Row
from errors import SourceFailure, SourceUnavailable

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
    failure = failure_of(exc)
    logger.warning(
        "source unavailable",
        extra={"source": source, "error": type(exc).__name__, "failure": failure.value},
    )
    return SourceUnavailable(f"source {source} is unavailable", source=source, failure=failure)


def failure_of(exc: BaseException) -> SourceFailure:
    """How a read failed, for SQL and REST sources alike. TRANSIENT is only what another
    attempt may cure at once: a connection lost, reset or refused (SQLAlchemy tells a
    disconnect from the driver's other errors), a gateway's 502/503/504. A timeout has
    used the read's time; an error status or a statement the database refuses would
    fail again."""
    if isinstance(exc, TimeoutError | httpx.TimeoutException):
        return SourceFailure.TIMEOUT
    if isinstance(exc, httpx.HTTPStatusError):
        return SourceFailure.TRANSIENT if exc.response.status_code in _BUSY else SourceFailure.ERROR
    if isinstance(exc, httpx.TransportError | OSError):
        return SourceFailure.TRANSIENT
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return SourceFailure.TRANSIENT
    return SourceFailure.ERROR


_BUSY = frozenset({502, 503, 504})
