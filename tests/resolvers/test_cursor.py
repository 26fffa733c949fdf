"""Cursors carry record keys: unreadable, unforgeable, and bound to one caller's list."""

from __future__ import annotations

import dataclasses
import datetime
import decimal

import pytest

from errors import BadCursor
from policies import Caller, Purpose
from resolvers.cursor import CursorCodec, audience

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


def test_a_cursor_is_bound_to_the_key_its_attributes_and_the_purpose() -> None:
    """Not to the operator: a person's name is asserted, and does not shape the page."""
    caller = Caller("11410581005000006G", "林州市民政局", "marriage-registry", "mz-0231", (), "k1")
    basis = Purpose.ADMINISTRATIVE_BASIS
    cursor = CursorCodec(KEY, audience(caller, basis)).encode("person", ["410581199001011234"])
    others = [
        audience(dataclasses.replace(caller, credential="k2"), basis),
        audience(dataclasses.replace(caller, attributes=(("township", "开元街道"),)), basis),
        audience(dataclasses.replace(caller, system="marriage-archive"), basis),
        audience(caller, Purpose.WORK_REFERENCE),
        audience(caller, None),
    ]
    for other in others:
        with pytest.raises(BadCursor):
            CursorCodec(KEY, other).decode("person", cursor)
    operator = audience(dataclasses.replace(caller, operator="mz-0232"), basis)
    assert CursorCodec(KEY, operator).decode("person", cursor) == ("410581199001011234",)
