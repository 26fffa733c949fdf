"""A read's values are bound under the names `parameters` gives, and its `shape` is
everything else: two reads of one shape differ only in those values."""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, sqlite

from connectors import And, Comparison, Computed, Flag, Not, Operator, Or, OrderKey, Page, Read
from connectors._sql_names import parameters, shape
from connectors._sql_query import count_statement, select_statement

TABLE = sa.Table(
    "licence",
    sa.MetaData(),
    sa.Column("licence_number", sa.String, primary_key=True),
    sa.Column("holder_id_number", sa.String),
    sa.Column("licence_type", sa.String, nullable=True),
    sa.Column("valid_until", sa.Date, nullable=True),
)
COLUMNS = ("licence_number", "holder_id_number", "licence_type")
FILTER = And(
    (
        Comparison("licence_type", Operator.IN, ("A", "B", "C")),
        Or(
            (
                Comparison("valid_until", Operator.GTE, datetime.date(2030, 1, 1)),
                Not(Comparison("licence_number", Operator.LIKE, "L%")),
                Comparison("valid_until", Operator.IS_NULL, True),
            )
        ),
        Comparison("holder_id_number", Operator.EQ, "43"),
    )
)
PAGED = Read(
    "licence",
    COLUMNS,
    "licence_number",
    "holder_id_number",
    ("41", "42"),
    Page(5, ("T", None, "L9")),
    FILTER,
    (OrderKey("licence_type"), OrderKey("valid_until", descending=True)),
)


def _bound(statement: sa.Select[Any], dialect: sa.Dialect) -> dict[str, object]:
    compiled = statement.compile(dialect=dialect)
    return {name: compiled.params[name] for name in compiled.params if not name.startswith("param")}


def test_parameters_name_every_value_where_the_statement_binds_it() -> None:
    for dialect in (sqlite.dialect(), mysql.dialect()):
        named = parameters(PAGED)
        assert _bound(select_statement(TABLE, PAGED, dialect.name), dialect) == named
        assert len(set(map(str, named.values()))) == len(named)  # no value bound twice
        counted = dataclasses.replace(PAGED, page=None)
        assert _bound(count_statement(TABLE, counted, dialect.name), dialect) == parameters(counted)


def test_reads_that_differ_only_in_values_share_a_shape() -> None:
    other = Read(
        "licence",
        COLUMNS,
        "licence_number",
        "holder_id_number",
        ("51", "52"),
        Page(9, ("U", None, "M0")),
        dataclasses.replace(
            FILTER,
            operands=(
                Comparison("licence_type", Operator.IN, ("D", "E", "F")),
                *FILTER.operands[1:-1],
                Comparison("holder_id_number", Operator.EQ, "53"),
            ),
        ),
        PAGED.order,
    )
    assert shape(other) == shape(PAGED)
    text = str(select_statement(TABLE, PAGED, "sqlite").compile(dialect=sqlite.dialect()))
    assert "41" not in text and "L9" not in text  # values are parameters, never SQL text


def test_what_changes_the_statement_changes_the_shape() -> None:
    assert PAGED.page is not None
    variants = [
        dataclasses.replace(PAGED, match_values=("41",)),
        dataclasses.replace(PAGED, page=Page(5, ("T", "2030-01-01", "L9"))),
        dataclasses.replace(PAGED, page=Page(5)),
        dataclasses.replace(PAGED, page=None),
        dataclasses.replace(PAGED, predicate=Comparison("licence_type", Operator.IN, ("A",))),
        dataclasses.replace(PAGED, predicate=Comparison("valid_until", Operator.IS_NULL, False)),
        dataclasses.replace(PAGED, columns=COLUMNS[:2]),
        dataclasses.replace(PAGED, order=PAGED.order[:1]),
    ]
    shapes = {shape(read) for read in variants}
    assert shape(PAGED) not in shapes and len(shapes) == len(variants)


def test_values_of_computed_columns_and_flags_are_parameters_not_shape() -> None:
    """A verification's claims and a scope's attributes are the caller's values: bound
    like the filter's, so one compiled statement serves every caller and none is kept."""

    def checking(holder: str, township: str) -> Read:
        inside = Comparison("licence_type", Operator.EQ, township)
        return Read(
            "licence",
            ("licence_number",),
            "licence_number",
            predicate=Comparison("licence_number", Operator.EQ, "L1"),
            page=Page(1, probe=False),
            computed=(Computed("_shown_holder", "holder_id_number", condition=inside),),
            flags=(Flag("_matches", Comparison("holder_id_number", Operator.EQ, holder)),),
        )

    one, other = (
        checking("41058119800101001X", "开元街道"),
        checking("410581199001010011", "横水镇"),
    )
    assert shape(one) == shape(other)
    for dialect in (sqlite.dialect(), mysql.dialect()):
        assert _bound(select_statement(TABLE, one, dialect.name), dialect) == parameters(one)
    assert parameters(other) == {
        "where_0": "L1",
        "computed_0_0": "横水镇",
        "flag_0_0": "410581199001010011",
        "limit": 1,
    }
