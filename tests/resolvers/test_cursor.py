"""Cursors carry record keys: unreadable, unforgeable, and bound to one department's list."""

from __future__ import annotations

import datetime
import decimal

import pytest

from errors import BadCursor
from resolvers.cursor import CursorCodec

KEY = bytes(range(16))


def test_a_cursor_round_trips_and_hides_the_key() -> None:
    codec = CursorCodec(KEY, "11410581005000006G")
    cursor = codec.encode("person", ["410581199001011234"])
    assert "410581199001011234" not in cursor
    assert codec.decode("person", cursor) == ("410581199001011234",)
    assert codec.encode("person", ["410581199001011234"]) != cursor  # fresh nonce each time


def test_sort_values_keep_their_types() -> None:
    codec = CursorCodec(KEY, "11410581005000006G")
    values = (datetime.date(2020, 1, 2), decimal.Decimal("12.50"), None, "x", 3)
    cursor = codec.encode("enterprise", values, "established_on:desc")
    assert codec.decode("enterprise", cursor, "established_on:desc", length=5) == values


def test_a_cursor_is_bound_to_its_ordering() -> None:
    codec = CursorCodec(KEY, "11410581005000006G")
    cursor = codec.encode("person", ["张三", "410581199001011234"], "name:asc")
    with pytest.raises(BadCursor):
        codec.decode("person", cursor, "name:desc", length=2)
    with pytest.raises(BadCursor):
        codec.decode("person", cursor, "name:asc", length=1)


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda c: c[:-2] + ("A" if c[-2] != "A" else "B") + c[-1], id="flipped"),
        pytest.param(lambda c: c[:20], id="truncated"),
        pytest.param(lambda c: "not-a-cursor!", id="garbage"),
        pytest.param(lambda c: "", id="empty"),
    ],
)
def test_a_tampered_cursor_is_refused(tamper: object) -> None:
    codec = CursorCodec(KEY, "11410581005000006G")
    cursor = codec.encode("person", ["410581199001011234"])
    with pytest.raises(BadCursor):
        codec.decode("person", tamper(cursor))  # type: ignore[operator]


def test_a_cursor_is_refused_for_another_list_or_department() -> None:
    ours = CursorCodec(KEY, "11410581005000006G")
    cursor = ours.encode("person", ["410581199001011234"])
    with pytest.raises(BadCursor):
        ours.decode("licence", cursor)
    with pytest.raises(BadCursor):
        CursorCodec(KEY, "11410581005000008N").decode("person", cursor)
    with pytest.raises(BadCursor):
        CursorCodec(bytes(16), "11410581005000006G").decode("person", cursor)
