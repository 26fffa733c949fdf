"""The server's JSON log lines: every extra a log call passes, and nothing that may
quote a value."""

from __future__ import annotations

import datetime
import json
import logging
import sys
from typing import Any

import pytest

from logs import JsonLogFormatter

SECRET = "410581199003071234"


def line(message: str = "graphql request", **extra: Any) -> dict[str, Any]:
    return formatted(logging.INFO, message, extra)


def formatted(level: int, message: str, extra: dict[str, Any], exc_info: Any = None) -> Any:
    logger = logging.getLogger("gov_share.test")
    record = logger.makeRecord(logger.name, level, "here.py", 1, message, (), exc_info, extra=extra)
    text = JsonLogFormatter().format(record)
    assert "\n" not in text

    def refuse(constant: str) -> None:
        raise AssertionError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def test_an_extra_no_one_listed_reaches_the_line() -> None:
    logged = line(request_id="r-1", records=3, brand_new={"nested": ["值", 1.5, None]})
    assert logged["records"] == 3
    assert logged["brand_new"] == {"nested": ["值", 1.5, None]}
    assert logged["request_id"] == "r-1"
    assert (logged["level"], logged["logger"], logged["message"]) == (
        "INFO",
        "gov_share.test",
        "graphql request",
    )


def test_only_extras_join_the_line() -> None:
    assert set(line()) == {"time", "level", "logger", "message"}


def test_what_json_cannot_carry_is_text() -> None:
    logged = line(codes=("A", "B"), when=datetime.date(2026, 12, 8), kind=object)
    assert logged["codes"] == ["A", "B"]
    assert logged["when"] == "2026-12-08"
    assert logged["kind"] == "<class 'object'>"


def test_a_value_json_cannot_encode_leaves_the_line_json() -> None:
    logged = line(took=float("nan"), keyed={("a", 1): 2}, records=3)
    assert (logged["took"], logged["keyed"], logged["records"]) == ("nan", "{('a', 1): 2}", "3")
    assert logged["message"] == "graphql request"


def test_an_exception_is_named_by_its_type_never_its_message() -> None:
    try:
        raise LookupError(f"no person {SECRET}")
    except LookupError as exc:
        as_extra = line("audit write failed", failure=exc)
        with_info = formatted(logging.ERROR, "failed", {}, exc_info=sys.exc_info())
    assert as_extra["failure"] == "LookupError"
    assert with_info["error"] == "LookupError"
    assert SECRET not in json.dumps([as_extra, with_info])


@pytest.mark.parametrize("name", ["time", "level", "logger"])
def test_an_extra_cannot_pass_for_the_lines_own_fields(name: str) -> None:
    logged = line(**{name: "forged"})
    assert logged[name] != "forged"
