"""Masking rules: the Python meaning on worked examples, and the SQL that departments'
databases run held to it on SQLite, PostgreSQL and MariaDB, value for value."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Sequence
from decimal import Decimal
from itertools import zip_longest
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from catalog import Band, HideMiddle, KeepThrough, Mask, Surname
from connectors.masking import masked_expression
from tests.engines import ENGINES, engine_database

pytestmark = pytest.mark.anyio

PHONE = HideMiddle(keep_start=3, keep_end=4)
ADDRESS = KeepThrough(markers=("街道", "镇", "乡"))
INCOME = Band(bounds=(Decimal(3000), Decimal(5000), Decimal(10000)), unit="元")
NAME = Surname()
MASKS = TypeAdapter[Mask](Mask)

TextMask = HideMiddle | KeepThrough | Surname
TEXT_MASKS: tuple[TextMask, ...] = (
    PHONE,
    ADDRESS,
    NAME,
    HideMiddle(keep_start=0, keep_end=0, fill="*"),
    HideMiddle(keep_start=1, keep_end=0, fill=""),
    HideMiddle(keep_start=0, keep_end=2),
    KeepThrough(markers=("号", "村", "Road"), fill=""),
)
AMOUNT_MASKS: tuple[Band, ...] = (
    INCOME,
    Band(bounds=(Decimal("-100.50"), Decimal("0"), Decimal("2999.99"))),
    Band(bounds=(Decimal("1E+3"),), unit=" yuan"),
)

ALPHABET = "街道镇乡村号河南省林州市横水东岗姚村张王李欧阳 0123456789-aAzZ😀é"
TEXTS = [
    "13812345678",
    "0372-6012345",
    "1234567",
    "12345678",
    "",
    "张",
    "张三",
    "欧阳娜娜",
    "河南省林州市横水镇东岗村12号",
    "河南省林州市开元街道红旗渠大道1号",
    "林州市姚村镇乡村路",
    "临淇镇",
    "北京市朝阳区建国路88号",
    "12 Main Road, Anytown",
    " 街道 ",
    "😀😀😀😀😀😀😀😀",
    "éé",
    None,
]
AMOUNTS = [
    Decimal(v)
    for v in (
        "2999.99", "3000", "3000.00", "3000.01", "4999.99", "5000", "9999.99", "10000",
        "10000.01", "0", "-0.01", "-100.50", "-100.51", "-100.49", "-5000", "999.99", "1000",
        "0.01", "1234567890123456.78", "-1234567890123456.78",
    )
]  # fmt: skip


Row = tuple[str | None, Decimal | None]


def random_corpus(size: int) -> list[Row]:
    """The worked values and seeded random ones, so every engine sees the same many values."""
    draw = random.Random(20201)
    pieces = [*ALPHABET, "街道"]
    texts = ["".join(draw.choices(pieces, k=draw.randint(0, 24))) for _ in range(size)]
    amounts = [Decimal(draw.randint(-1_500_000, 1_500_000)) / 100 for _ in range(size)]
    return list(zip_longest([*TEXTS, *texts], [*AMOUNTS, None, *amounts]))


METADATA = sa.MetaData()
SAMPLES = sa.Table(
    "samples",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("text", sa.String(200)),
    sa.Column("amount", sa.Numeric(18, 2)),
)


# Python meaning


@pytest.mark.parametrize(
    ("mask", "value", "expected"),
    [
        (PHONE, "13812345678", "138****5678"),
        (PHONE, "12345678", "123****5678"),
        (PHONE, "1234567", "****"),
        (PHONE, "", "****"),
        (PHONE, None, None),
        (HideMiddle(keep_start=0, keep_end=2), "abcd", "****cd"),
        (HideMiddle(keep_start=2, keep_end=0, fill="#"), "abcd", "ab#"),
        (HideMiddle(keep_start=0, keep_end=0), "abcd", "****"),
        (ADDRESS, "河南省林州市横水镇东岗村12号", "河南省林州市横水镇***"),
        (ADDRESS, "河南省林州市开元街道红旗渠大道1号", "河南省林州市开元街道***"),
        (ADDRESS, "林州市姚村镇乡村路", "林州市姚村镇***"),
        (ADDRESS, "林州市乡村振兴街道5号", "林州市乡村振兴街道***"),
        (ADDRESS, "林州市镇西路", "林州市镇***"),
        (ADDRESS, "北京市朝阳区建国路88号", "***"),
        (ADDRESS, "", "***"),
        (ADDRESS, None, None),
        (KeepThrough(markers=("村",), fill=""), "东岗村前村", "东岗村"),
        (NAME, "张三", "张**"),
        (NAME, "欧阳娜娜", "欧**"),
        (NAME, "张", "张**"),
        (NAME, "", "**"),
        (NAME, None, None),
    ],
)
def test_a_text_mask_gives_its_worked_example(
    mask: TextMask, value: str | None, expected: str | None
) -> None:
    assert mask.apply(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("2999.99"), "<3000元"),
        (Decimal("-5"), "<3000元"),
        (Decimal("3000"), "3000-5000元"),
        (Decimal("3000.00"), "3000-5000元"),
        (Decimal("4999.99"), "3000-5000元"),
        (Decimal("5000"), "5000-10000元"),
        (Decimal("9999.99"), "5000-10000元"),
        (Decimal("10000"), "≥10000元"),
        (Decimal("1E+9"), "≥10000元"),
        (3000, "3000-5000元"),
        (2999.99, "<3000元"),
        (10000.0, "≥10000元"),
        (None, None),
    ],
)
def test_an_income_becomes_its_band(value: Decimal | int | float | None, expected: str) -> None:
    assert INCOME.apply(value) == expected


def test_band_labels_are_plain_decimal_text() -> None:
    band = Band(bounds=(Decimal("-0.50"), Decimal("-0"), Decimal("3E+3"), Decimal("2999.5E+1")))
    assert band.labels() == ("<-0.5", "-0.5-0", "0-3000", "3000-29995", "≥29995")
    assert Band(bounds=(Decimal("0.7"),)).apply(0.7) == "≥0.7"


def test_masks_are_read_by_their_rule() -> None:
    assert MASKS.validate_python({"rule": "band", "bounds": ["3000", 5000]}) == Band(
        bounds=(Decimal(3000), Decimal(5000))
    )
    assert MASKS.validate_python({"rule": "surname"}) == NAME
    assert MASKS.validate_json('{"rule": "keep_through", "markers": ["镇"]}') == KeepThrough(
        markers=("镇",)
    )
    with pytest.raises(ValidationError):
        PHONE.fill = "#"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"rule": "band", "bounds": ["5000", "3000"]}, "strictly increasing: 3000 follows 5000"),
        ({"rule": "band", "bounds": ["3000", "3000.00"]}, "strictly increasing: 3000 follows 3000"),
        ({"rule": "band", "bounds": []}, "at least 1 item"),
        ({"rule": "band", "bounds": ["NaN"]}, "finite number"),
        ({"rule": "hide_middle", "keep_start": -1, "keep_end": 4}, "greater than or equal to 0"),
        ({"rule": "hide_middle", "keep_start": 3}, "keep_end\n  Field required"),
        ({"rule": "keep_through", "markers": []}, "at least 1 item"),
        ({"rule": "keep_through", "markers": ["镇", ""]}, "at least 1 character"),
        ({"rule": "surname", "fill": "*"}, "Extra inputs are not permitted"),
        ({"rule": "hash"}, "does not match any of the expected tags"),
    ],
)
def test_an_invalid_mask_is_refused_with_its_reason(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        MASKS.validate_python(data)


def test_an_unknown_dialect_is_refused() -> None:
    with pytest.raises(ValueError, match="no masking SQL for the 'oracle' dialect"):
        masked_expression(NAME, SAMPLES.c.text, "oracle")


# The same meaning as SQL, on each engine


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    """Module-wide, so one database per engine serves every example of this module."""
    return "asyncio"


@pytest.fixture(scope="module", params=ENGINES)
async def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[AsyncEngine]:
    folder = tmp_path_factory.mktemp("masks")
    async for url in engine_database(request.param, str(folder / "masks.db")):
        engine = create_async_engine(url)
        try:
            async with engine.begin() as connection:
                await connection.run_sync(METADATA.create_all)
            yield engine
        finally:
            await engine.dispose()


async def masked_in_database(
    engine: AsyncEngine, rows: Sequence[Row], text_masks: Sequence[TextMask], bands: Sequence[Band]
) -> list[tuple[str | None, ...]]:
    """Store the rows, then read them back as the database masks them under every mask."""
    dialect = engine.dialect.name
    columns = [masked_expression(m, SAMPLES.c.text, dialect) for m in text_masks] + [
        masked_expression(m, SAMPLES.c.amount, dialect) for m in bands
    ]
    stored = [{"id": i, "text": text, "amount": amount} for i, (text, amount) in enumerate(rows)]
    async with engine.begin() as connection:
        await connection.execute(SAMPLES.delete())
        await connection.execute(SAMPLES.insert(), stored)
        result = await connection.execute(sa.select(*columns).order_by(SAMPLES.c.id))
        return [tuple(row) for row in result]


def masked_in_python(
    rows: Sequence[Row], text_masks: Sequence[TextMask], bands: Sequence[Band]
) -> list[tuple[str | None, ...]]:
    return [
        tuple(m.apply(text) for m in text_masks) + tuple(m.apply(amount) for m in bands)
        for text, amount in rows
    ]


async def test_the_database_masks_as_python_does(database: AsyncEngine) -> None:
    rows = random_corpus(300)
    stored = await masked_in_database(database, rows, TEXT_MASKS, AMOUNT_MASKS)
    expected = masked_in_python(rows, TEXT_MASKS, AMOUNT_MASKS)
    assert len(stored) == len(rows)
    for row, got, want in zip(rows, stored, expected, strict=True):
        assert got == want, row


FRAGMENTS = ("街道", "镇", "乡", "村", "号", "林州市", "a", "A", "12", " ")
TEXT = st.lists(
    st.sampled_from(FRAGMENTS) | st.characters(codec="utf-8", exclude_characters="\0"), max_size=12
).map("".join)
AMOUNT = st.decimals(min_value=-(10**9), max_value=10**9, places=2)
MARKERS = st.lists(st.sampled_from(FRAGMENTS) | TEXT.filter(bool), min_size=1, max_size=3).map(
    tuple
)
FILL = st.text(st.sampled_from(ALPHABET), max_size=4)


@st.composite
def amounts_and_bands(draw: st.DrawFn) -> tuple[list[Decimal | None], Band]:
    """Bands over random bounds, and amounts that often sit exactly on one."""
    bounds = sorted(draw(st.lists(AMOUNT, min_size=1, max_size=4, unique=True)))
    near = st.sampled_from(bounds).flatmap(lambda b: st.sampled_from((b, b - Decimal("0.01"))))
    amounts = draw(st.lists(AMOUNT | near | st.none(), min_size=1, max_size=8))
    return amounts, Band(bounds=tuple(bounds), unit=draw(st.sampled_from(("", "元"))))


@settings(derandomize=True, max_examples=150, deadline=None)
@given(
    texts=st.lists(st.none() | TEXT.map(lambda t: t[:200]), min_size=1, max_size=8),
    amounts_band=amounts_and_bands(),
    hide=st.builds(HideMiddle, keep_start=st.integers(0, 6), keep_end=st.integers(0, 6), fill=FILL),
    keep=st.builds(KeepThrough, markers=MARKERS, fill=FILL),
)
async def test_the_database_masks_any_value_as_python_does(
    database: AsyncEngine,
    texts: list[str | None],
    amounts_band: tuple[list[Decimal | None], Band],
    hide: HideMiddle,
    keep: KeepThrough,
) -> None:
    amounts, band = amounts_band
    rows: list[Row] = list(zip_longest(texts, amounts))
    text_masks = (hide, keep, NAME)
    stored = await masked_in_database(database, rows, text_masks, [band])
    assert stored == masked_in_python(rows, text_masks, [band])
