"""Response bodies from orjson are the bytes the standard library wrote, Chinese text
included, and what it refused is refused still."""

from __future__ import annotations

import dataclasses
import datetime
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from web.encoding import encoded


def _standard(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


BODY = {
    "data": {
        "enterprises": {
            "edges": [
                {"node": {"name": "林州市太源房地产开发有限公司", "registeredCapital": 1234567.5}},
                {"node": {"name": '红旗渠\u2028"引号"\\', "employees": 12, "listed": False}},
            ],
            "pageInfo": {"hasNextPage": True, "endCursor": None},
        }
    },
    "errors": [{"message": "权限不足", "path": ["enterprises", 0, "x"], "extensions": {}}],
    "extensions": {"requestId": "162e289a-7826-4e9e-ae52-3f40042d8872"},
}

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def test_a_response_body_is_byte_for_byte_the_standard_librarys() -> None:
    assert encoded(BODY) == _standard(BODY)
    assert "林州市".encode() in encoded(BODY)  # UTF-8, not \\u escapes


@given(JSON_VALUES)
def test_any_json_body_reads_back_the_same_and_is_the_same_bytes_but_exponents(
    body: Any,
) -> None:
    assert json.loads(encoded(body)) == body
    standard = _standard(body)
    if b"e-0" not in standard and b"e+0" not in standard:
        assert encoded(body) == standard


def test_an_integer_past_64_bits_is_written_by_the_standard_library() -> None:
    assert encoded({"n": 2**70}) == b'{"n":1180591620717411303424}'


@dataclasses.dataclass
class _Row:
    value: int


@pytest.mark.parametrize("value", [datetime.datetime(2026, 1, 1), _Row(1)])
def test_what_the_standard_library_refused_is_refused(value: object) -> None:
    with pytest.raises(TypeError):
        encoded({"data": value})
