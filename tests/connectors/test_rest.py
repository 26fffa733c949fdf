"""A department's REST API as a source, over real HTTP (`tests/department_api.py`):
keys go in as few calls as the API declares it takes, or one at a time never more than
the source's concurrency at once; pages are followed in each declared style; declared
filters are sent and anything else is refused before a call; masks are computed as each
record is parsed, unless the catalog keeps the item's mask in its source; a slow or
failing API is SOURCE_UNAVAILABLE; the secrets go as headers and nowhere else."""

from __future__ import annotations

import asyncio
import datetime
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from catalog import Api, ApiFilter, ApiOrdering, ApiPagination, DataType, Endpoint, HideMiddle
from catalog.api import Lookup
from connectors import (
    SOURCE_KINDS,
    And,
    Comparison,
    Computed,
    Flag,
    Not,
    Operator,
    Or,
    OrderKey,
    Page,
    Read,
    ReadContext,
    RestConnector,
)
from errors import ConfigurationError, PushdownRefused, SourceUnavailable
from tests.department_api import TOKEN, DepartmentApi, person_records, serving
from tests.processes import free_port

pytestmark = pytest.mark.anyio

CONTEXT = ReadContext("test-request", purpose="administrative_basis")
TOWNSHIPS = ["开元街道", "姚村镇", "河顺镇"]
ROWS = [
    {
        "id_number": f"41058119850304{number:03d}X",
        "name": f"居民{number}",
        "gender": "女" if number % 2 else "男",
        "ethnicity": "汉族",
        "birth_date": datetime.date(1980 + number, 3, 4),
        "township": TOWNSHIPS[number % 3],
        "household_address": f"河南省林州市{TOWNSHIPS[number % 3]}桃园村{number}号",
        "phone": f"1390372{number:04d}",
    }
    for number in range(1, 13)
]
IDS = [row["id_number"] for row in ROWS]
TYPES = {
    "id_number": DataType.CHARACTER,
    "name": DataType.CHARACTER,
    "gender": DataType.CHARACTER,
    "ethnicity": DataType.CHARACTER,
    "birth_date": DataType.DATE,
    "township": DataType.CHARACTER,
    "household_address": DataType.CHARACTER,
    "phone": DataType.CHARACTER,
}
FIELDS = {
    "id_number": "idNumber",
    "birth_date": "birthDate",
    "township": "address.township",
    "household_address": "address.household",
}
PHONE_MASK = HideMiddle(keep_start=3, keep_end=4)
COLUMNS = ("id_number", "name")


def endpoint(**changes: Any) -> Endpoint:
    """The persons API as its catalog entry would declare it, with `changes`."""
    declared: dict[str, Any] = {
        "path": "/persons",
        "records": "data",
        "fields": FIELDS,
        "lookups": [{"column": "id_number", "batch": "query", "parameter": "ids", "max_keys": 5}],
        "pagination": {"style": "page", "parameter": "page", "size_parameter": "per_page"},
        "filters": [
            {"column": "township", "parameters": {"eq": "township", "in": "townships"}},
            {"column": "birth_date", "parameters": {"gte": "born_from"}},
            {"column": "id_number", "parameters": {"gt": "id_after"}},
        ],
        "ordering": {"parameter": "sort", "columns": ["id_number", "birth_date"]},
        "fields_parameter": "fields",
    }
    in_source_only = changes.pop("in_source_only", frozenset())
    declared.update(changes)
    return Endpoint(Api.model_validate(declared), TYPES, in_source_only)


def read(**fields: Any) -> Read:
    fields.setdefault("endpoint", endpoint())
    return Read("person", fields.pop("columns", COLUMNS), "id_number", **fields)


def by_keys(keys: list[str], **fields: Any) -> Read:
    return read(match_column="id_number", match_values=tuple(keys), **fields)


def expected(row: dict[str, Any], columns: tuple[str, ...] = COLUMNS) -> dict[str, Any]:
    return {column: row[column] for column in columns}


@pytest.fixture
def api() -> Iterator[DepartmentApi]:
    with serving(DepartmentApi(person_records(ROWS))) as running:
        yield running


def open_source(api: DepartmentApi, **options: Any) -> RestConnector:
    setting = {"url": api.url, "token": TOKEN, **options}
    connector = SOURCE_KINDS.open("public_security", setting, timeout_seconds=5).source
    assert isinstance(connector, RestConnector)
    return connector


@pytest.fixture
async def source(api: DepartmentApi) -> AsyncIterator[RestConnector]:
    connector = open_source(api)
    yield connector
    await connector.close()


async def test_keys_are_read_in_batches_of_the_declared_size(
    source: RestConnector, api: DepartmentApi
) -> None:
    keys = [*IDS[:7], "410581000000000000"]
    row_sets = await source.read(by_keys(keys), CONTEXT)
    assert row_sets == [[expected(row)] for row in ROWS[:7]] + [[]]
    assert [dict(seen.query)["ids"] for seen in api.seen] == [
        ",".join(keys[:5]),
        ",".join(keys[5:]),
    ]
    assert all(seen.headers["authorization"] == f"Bearer {TOKEN}" for seen in api.seen)


async def test_keys_go_in_a_post_body_where_the_api_takes_them_so(
    source: RestConnector, api: DepartmentApi
) -> None:
    lookup = {"column": "id_number", "batch": "body", "parameter": "ids", "path": "/persons/search"}
    row_sets = await source.read(by_keys(IDS[:3], endpoint=endpoint(lookups=[lookup])), CONTEXT)
    assert row_sets == [[expected(row)] for row in ROWS[:3]]
    [seen] = api.seen
    assert (seen.method, seen.path, seen.body) == ("POST", "/persons/search", {"ids": IDS[:3]})


async def test_one_key_per_call_never_more_than_the_concurrency_at_once(
    api: DepartmentApi,
) -> None:
    api.delay_seconds = 0.05
    source = open_source(api, concurrency=2)
    single = endpoint(
        lookups=[{"column": "id_number", "batch": "single", "path": "/persons/{key}"}]
    )
    try:
        first, second = await asyncio.gather(
            source.read(by_keys([*IDS[:5], "410581000000000000"], endpoint=single), CONTEXT),
            source.read(by_keys(IDS[5:9], endpoint=single), CONTEXT),
        )
    finally:
        await source.close()
    assert first == [[expected(row)] for row in ROWS[:5]] + [[]]  # a 404 is no record
    assert second == [[expected(row)] for row in ROWS[5:9]]
    assert len(api.seen) == 10
    assert api.most_in_flight == 2  # both reads together, one source's bound


@pytest.mark.parametrize(
    "pagination",
    [
        {"style": "page", "parameter": "page", "size_parameter": "per_page", "max_size": 2},
        {"style": "offset", "parameter": "offset", "size_parameter": "limit", "max_size": 2},
        {
            "style": "cursor",
            "parameter": "cursor",
            "size_parameter": "limit",
            "max_size": 2,
            "next": "meta.next_cursor",
        },
        {"style": "next_link", "size_parameter": "limit", "max_size": 2, "next": "meta.next"},
    ],
    ids=lambda pagination: pagination["style"],
)
async def test_pages_are_followed_in_the_declared_style(
    source: RestConnector, api: DepartmentApi, pagination: dict[str, Any]
) -> None:
    [rows] = await source.read(
        read(endpoint=endpoint(pagination=pagination), page=Page(4)), CONTEXT
    )
    assert rows == [expected(row) for row in ROWS[:5]]  # the page and its probe row
    assert len(api.seen) == 3
    assert all(dict(seen.query)["sort"] == "idNumber" for seen in api.seen)


async def test_a_page_after_a_cursor_is_asked_of_the_api(
    source: RestConnector, api: DepartmentApi
) -> None:
    [rows] = await source.read(read(page=Page(2, after=(IDS[3],))), CONTEXT)
    assert rows == [expected(row) for row in ROWS[4:7]]
    assert dict(api.seen[0].query)["id_after"] == IDS[3]


async def test_a_next_link_to_another_host_is_not_followed(
    source: RestConnector, api: DepartmentApi
) -> None:
    api.next_link = "http://127.0.0.2:9/persons?cursor=2"
    pagination = {
        "style": "next_link",
        "size_parameter": "limit",
        "max_size": 2,
        "next": "meta.next",
    }
    with pytest.raises(SourceUnavailable):
        await source.read(read(endpoint=endpoint(pagination=pagination), page=Page(4)), CONTEXT)
    assert len(api.seen) == 1


async def test_declared_filters_and_orderings_are_pushed_down(
    source: RestConnector, api: DepartmentApi
) -> None:
    either = (
        Comparison("township", Operator.EQ, "姚村镇"),
        Comparison("township", Operator.EQ, "河顺镇"),
    )
    filtered = And((Comparison("birth_date", Operator.GTE, datetime.date(1985, 1, 1)), Or(either)))
    order = (OrderKey("birth_date", descending=True),)
    [rows] = await source.read(read(predicate=filtered, order=order, page=Page(20)), CONTEXT)
    chosen = [r for r in ROWS if r["birth_date"].year >= 1985 and r["township"] != "开元街道"]
    assert rows == [
        expected(row) for row in sorted(chosen, key=lambda r: r["birth_date"], reverse=True)
    ]
    assert chosen
    query = dict(api.seen[0].query)
    assert query["born_from"] == "1985-01-01"
    assert query["townships"] == "姚村镇,河顺镇"
    assert query["sort"] == "-birthDate,idNumber"


@pytest.mark.parametrize(
    ("predicate", "order", "refusal"),
    [
        (Comparison("name", Operator.LIKE, "居民1%"), (), "filters on name (like)"),
        (Comparison("township", Operator.GT, "a"), (), "filters on township (gt)"),
        (Not(Comparison("township", Operator.EQ, "姚村镇")), (), "negated filters"),
        (
            Or(
                (
                    Comparison("township", Operator.EQ, "姚村镇"),
                    Comparison("name", Operator.EQ, "x"),
                )
            ),
            (),
            "alternatives (OR) other than equalities on one column",
        ),
        (None, (OrderKey("name"),), "ordering on name"),
    ],
)
async def test_what_the_api_does_not_declare_is_refused_before_any_call(
    source: RestConnector, api: DepartmentApi, predicate: Any, order: Any, refusal: str
) -> None:
    with pytest.raises(PushdownRefused) as refused:
        await source.read(read(predicate=predicate, order=order, page=Page(5)), CONTEXT)
    assert str(refused.value) == f"source public_security cannot push down {refusal} for person"
    assert api.seen == []


async def test_an_api_without_declared_lookups_or_counts_is_refused_them(
    source: RestConnector, api: DepartmentApi
) -> None:
    with pytest.raises(PushdownRefused, match="cannot look up person by name"):
        await source.read(read(match_column="name", match_values=("居民1",)), CONTEXT)
    with pytest.raises(PushdownRefused, match="cannot push down counting"):
        await source.count(read(), CONTEXT)
    assert api.seen == []


async def test_a_mask_is_computed_as_the_record_arrives_and_the_clear_value_dropped(
    source: RestConnector, api: DepartmentApi
) -> None:
    masked = by_keys(IDS[:2], computed=(Computed("_shown_phone", "phone", PHONE_MASK),))
    row_sets = await source.read(masked, CONTEXT)
    assert row_sets == [
        [{**expected(row), "_shown_phone": PHONE_MASK.apply(row["phone"])}] for row in ROWS[:2]
    ]
    assert "phone" not in row_sets[0][0]
    # Only what the read needs is asked for: the address the policy withholds is not.
    assert dict(api.seen[0].query)["fields"] == "idNumber,name,phone"


async def test_a_scope_and_a_flag_are_computed_as_the_record_arrives(
    source: RestConnector,
) -> None:
    inside = Comparison("township", Operator.EQ, "姚村镇")
    scoped = by_keys(
        IDS[:3],
        computed=(Computed("_shown_phone", "phone", None, inside),),
        flags=(Flag("_inside", inside),),
    )
    rows = [rows[0] for rows in await source.read(scoped, CONTEXT)]
    assert [(row["_shown_phone"], row["_inside"]) for row in rows] == [
        (row["phone"], 1) if row["township"] == "姚村镇" else (None, 0) for row in ROWS[:3]
    ]
    assert all(set(row) == {"id_number", "name", "_shown_phone", "_inside"} for row in rows)


async def test_without_a_fields_parameter_values_not_asked_for_are_never_kept(
    source: RestConnector, api: DepartmentApi
) -> None:
    [rows] = await source.read(by_keys(IDS[:1], endpoint=endpoint(fields_parameter=None)), CONTEXT)
    assert rows == [expected(ROWS[0])]
    assert "fields" not in dict(api.seen[0].query)


async def test_an_item_whose_mask_the_catalog_keeps_in_the_source_is_refused(
    source: RestConnector, api: DepartmentApi
) -> None:
    kept = endpoint(in_source_only=frozenset({"phone"}))
    masked = by_keys(
        IDS[:1], endpoint=kept, computed=(Computed("_shown_phone", "phone", PHONE_MASK),)
    )
    with pytest.raises(PushdownRefused) as refused:
        await source.read(masked, CONTEXT)
    assert str(refused.value) == (
        "source public_security cannot compute phone itself, and the catalog keeps its clear "
        "value in the source"
    )
    assert api.seen == []
    # Read unmasked (a caller granted the clear value), the item is served.
    assert await source.read(
        by_keys(IDS[:1], endpoint=kept, columns=("id_number", "phone")), CONTEXT
    )


async def test_a_slow_api_is_unavailable_after_the_sources_timeout(api: DepartmentApi) -> None:
    api.delay_seconds = 2
    source = open_source(api, timeout_seconds=0.2)
    try:
        with pytest.raises(SourceUnavailable) as unavailable:
            await source.read(by_keys(IDS[:1]), CONTEXT)
    finally:
        await source.close()
    assert str(unavailable.value) == "source public_security is unavailable"
    assert unavailable.value.as_extensions() == {
        "code": "SOURCE_UNAVAILABLE",
        "source": "public_security",
    }


async def test_a_malformed_answer_is_unavailable_without_quoting_it(
    source: RestConnector, api: DepartmentApi
) -> None:
    for answer in [{"data": "x"}, {"data": [{"idNumber": 41058119850304}]}, [1]]:
        api.answer = answer
        with pytest.raises(SourceUnavailable) as unavailable:
            await source.read(by_keys(IDS[:1]), CONTEXT)
        assert str(unavailable.value) == "source public_security is unavailable"


async def test_the_secrets_go_as_headers_and_never_into_errors_or_logs(
    api: DepartmentApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = open_source(api, token="tok-wrong-0000", api_key="key-9d8e7f6a", api_key_header="X-Key")
    try:
        with pytest.raises(SourceUnavailable) as unavailable:
            await wrong.read(by_keys(IDS[:2]), CONTEXT)
    finally:
        await wrong.close()
    [seen] = api.seen
    assert seen.headers["authorization"] == "Bearer tok-wrong-0000"
    assert seen.headers["x-key"] == "key-9d8e7f6a"
    assert "tok-wrong" not in seen.query.__repr__() and "key-9d8e" not in seen.query.__repr__()
    told = str(unavailable.value) + caplog.text
    assert "source unavailable" in caplog.text  # the failure is logged, as its class
    for secret in ("tok-wrong-0000", "key-9d8e7f6a", api.url, IDS[0], IDS[1]):
        assert secret not in told


async def test_ping_tells_whether_the_api_answers(api: DepartmentApi) -> None:
    source = open_source(api, health_path="/health")
    try:
        await source.ping()
    finally:
        await source.close()
    down = SOURCE_KINDS.open(
        "public_security", f"http://127.0.0.1:{free_port()}", timeout_seconds=5
    )
    try:
        with pytest.raises(SourceUnavailable):
            await down.ping()
    finally:
        await down.close()


@pytest.mark.parametrize(
    ("setting", "problem"),
    [
        ({"url": "http://api.gov.cn/v1?key=tok-x", "token": "t"}, "an http:// or https:// URL"),
        ({"url": "https://api.gov.cn", "tokn": "tok-x"}, "unknown option 'tokn'"),
        ({"url": "https://api.gov.cn", "concurrency": 0}, "concurrency: Input should be greater"),
    ],
)
def test_bad_options_are_refused_naming_the_source(setting: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        SOURCE_KINDS.options("public_security", setting, timeout_seconds=5)
    assert problem in refused.value.problem
    assert "tok-x" not in str(refused.value)


def test_a_lookup_must_say_where_its_keys_go() -> None:
    with pytest.raises(ValueError, match="names the parameter that carries its keys"):
        Lookup(column="id_number", batch="query")
    with pytest.raises(ValueError, match="names a parameter or a path with"):
        Lookup(column="id_number", batch="single")
    with pytest.raises(ValueError, match="says where the body gives the next one"):
        ApiPagination(style="cursor", parameter="cursor", size_parameter="limit")
    assert ApiFilter(column="a", parameters={"eq": "a"}) and ApiOrdering(
        parameter="s", columns=("a",)
    )
