"""Accept and Content-Type values as RFC 9110 reads them: quality values, the most
specific matching range, case-insensitive names, and UTF-8 only."""

from __future__ import annotations

import pytest

from web.media import GRAPHQL_RESPONSE, JSON, negotiate, parse_media_type, prefers_html


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, GRAPHQL_RESPONSE),
        ("", GRAPHQL_RESPONSE),
        ("*/*", GRAPHQL_RESPONSE),
        (f"{JSON};q=1.000, {GRAPHQL_RESPONSE};q=0.999", JSON),
        (f"{GRAPHQL_RESPONSE};q=0.0, */*", JSON),  # the exact range wins over the wildcard
        (f"application/*;q=0, {JSON}", JSON),
        (f"{JSON}; charset=latin-1, {GRAPHQL_RESPONSE};q=0.1", GRAPHQL_RESPONSE),
        (f"{JSON};q=2, {GRAPHQL_RESPONSE};q=0.1", GRAPHQL_RESPONSE),  # q=2 is malformed
        (f"{JSON};q=abc", None),
        ("text/*, image/png", None),
        ("garbage", None),
        (f'{GRAPHQL_RESPONSE}; charset="UTF-8"', GRAPHQL_RESPONSE),
    ],
)
def test_negotiate(accept: str | None, chosen: str | None) -> None:
    assert negotiate(accept) == chosen


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", True),
        ("TEXT/HTML", True),
        ("*/*", False),  # curl: no page unless asked for one
        (f"text/html;q=0.5, {JSON}", False),
        ("text/html;q=0", False),
        (None, False),
    ],
)
def test_prefers_html(accept: str | None, html: bool) -> None:
    assert prefers_html(accept) is html


def test_parse_media_type() -> None:
    assert parse_media_type("Application/JSON; Charset=UTF-8") == (JSON, {"charset": "utf-8"})
    assert parse_media_type("") == ("", {})
