"""A source that leaves a capability out of its tree is never sent a read needing it:
a masked value, a value only inside a scope, or a flag from a source that cannot
compute them is refused before the source is asked, never fetched clear."""

from __future__ import annotations

import pytest

from catalog import HideMiddle
from connectors import (
    Capabilities,
    Comparison,
    Computed,
    Computing,
    Flag,
    MemoryConnector,
    Operator,
    Page,
    Pagination,
    Read,
    ReadContext,
)
from errors import PushdownRefused

pytestmark = pytest.mark.anyio

CONTEXT = ReadContext("test-request", purpose="administrative_basis")

ROWS = [
    {"id_number": "410581199001010011", "phone": "13800000001", "township": "开元街道"},
    {"id_number": "410581199001010022", "phone": "13800000002", "township": "姚村镇"},
]
COLUMNS = ("id_number",)
MASK = HideMiddle(keep_start=3, keep_end=4)
INSIDE = Comparison("township", Operator.EQ, "开元街道")
MASKED = Read("person", COLUMNS, "id_number", computed=(Computed("_shown", "phone", MASK),))
SCOPED = Read("person", COLUMNS, "id_number", computed=(Computed("_shown", "phone", None, INSIDE),))
FLAGGED = Read("person", COLUMNS, "id_number", flags=(Flag("_inside", INSIDE),))


def people(capabilities: Capabilities) -> MemoryConnector:
    return MemoryConnector("public_security", {"person": ROWS}, capabilities)


@pytest.mark.parametrize(
    ("capabilities", "read", "needed"),
    [
        (Capabilities(computing=Computing(masks=None)), MASKED, "masks"),
        (Capabilities(computing=None), MASKED, "masks"),
        (Capabilities(computing=Computing(conditions=None)), SCOPED, "conditional values"),
        (Capabilities(computing=None), SCOPED, "conditional values"),
        (Capabilities(flags=None), FLAGGED, "flags"),
    ],
)
async def test_a_value_the_source_cannot_compute_is_refused_not_read(
    capabilities: Capabilities, read: Read, needed: str
) -> None:
    source = people(capabilities)
    with pytest.raises(PushdownRefused) as refused:
        await source.read(read, CONTEXT)
    assert str(refused.value) == f"source public_security cannot push down {needed}"
    assert refused.value.extensions == {"source": "public_security"}
    assert source.reads == []  # refused before anything was read


async def test_a_source_computes_what_it_advertises() -> None:
    source = people(Capabilities(computing=Computing(conditions=None), flags=None))
    [rows] = await source.read(MASKED, CONTEXT)
    assert [row["_shown"] for row in rows] == ["138****0001", "138****0002"]
    [rows] = await source.read(Read("person", ("id_number", "phone"), "id_number"), CONTEXT)
    assert [row["phone"] for row in rows] == ["13800000001", "13800000002"]


async def test_a_count_computes_nothing_so_needs_no_computing() -> None:
    source = people(Capabilities(computing=None, flags=None))
    read = Read("person", COLUMNS, "id_number", computed=MASKED.computed, flags=FLAGGED.flags)
    assert await source.count(read, CONTEXT) == [2]


async def test_without_pagination_no_page_is_read_per_parent_or_at_all() -> None:
    source = people(Capabilities(pagination=None))
    with pytest.raises(PushdownRefused, match=r"cannot push down pagination$"):
        await source.read(Read("person", COLUMNS, "id_number", page=Page(1)), CONTEXT)
    per_parent = Read("person", COLUMNS, "id_number", "township", ("姚村镇",), Page(1))
    with pytest.raises(PushdownRefused, match=r"cannot push down pagination$"):
        await source.read(per_parent, CONTEXT)
    source.capabilities = Capabilities(pagination=Pagination(per_parent=None))
    with pytest.raises(PushdownRefused, match=r"cannot push down per parent pagination$"):
        await source.read(per_parent, CONTEXT)
    assert source.reads == []
