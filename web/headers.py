"""The request headers a caller states itself by: its purpose, and free text for the
audit record (who operates the system, which case the request is for).

HTTP carries header values as bytes and Starlette reads them as Latin-1, so raw UTF-8
would reach the audit record as mojibake. Free text therefore arrives percent-encoded
UTF-8 (RFC 3986, as RFC 8187 suggests for non-ASCII values): `张三` is sent as
`%E5%BC%A0%E4%B8%89`. Anything else is refused, never stored garbled.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any
from urllib.parse import unquote_to_bytes

import sqlalchemy as sa
from starlette.datastructures import Headers

from errors import BadHeader, BadPurpose
from policies import Purpose
from store.tables import audit_records

# Visible ASCII only: no raw bytes above 0x7E, no controls, and '%' only as '%XX'.
_PERCENT_ENCODED = re.compile(r"(?:[\x20-\x24\x26-\x7e]|%[0-9A-Fa-f]{2})*")


def audit_column_length(column: sa.Column[Any]) -> int:
    """What a text column of the audit record holds: a longer value would make the
    record's write fail on PostgreSQL, and the request with it."""
    assert isinstance(column.type, sa.String) and column.type.length is not None
    return column.type.length


OPERATOR = ("X-Operator", audit_column_length(audit_records.c.operator))
PURPOSE_REFERENCE = ("X-Purpose-Reference", audit_column_length(audit_records.c.purpose_reference))


def text_header(headers: Headers, header: tuple[str, int]) -> str | None:
    """The decoded text of a free-text header; None when absent or empty."""
    name, limit = header
    value = headers.get(name)
    if not value:
        return None
    expected = f"{name} must be percent-encoded UTF-8 (RFC 3986), e.g. %E5%BC%A0%E4%B8%89 for 张三"
    if not _PERCENT_ENCODED.fullmatch(value):
        raise BadHeader(expected, header=name)
    try:
        text = unquote_to_bytes(value).decode("utf-8")
    except UnicodeDecodeError:
        raise BadHeader(expected, header=name) from None
    if any(unicodedata.category(character) in ("Cc", "Cf") for character in text):
        raise BadHeader(f"{name} must not contain control or format characters", header=name)
    if len(text) > limit:
        raise BadHeader(f"{name} must be at most {limit} characters", header=name)
    return text


def purpose(headers: Headers) -> Purpose | None:
    declared = headers.get("x-purpose")
    if declared is None:
        return None
    try:
        return Purpose(declared.strip())
    except ValueError:
        allowed = ", ".join(p.value for p in Purpose)
        raise BadPurpose(f"X-Purpose must be one of: {allowed}") from None
