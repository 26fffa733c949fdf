"""Malformed variable values through every kind of argument the schema has: each is
answered with a GraphQL error body carrying a code and the request id, and leaves its
audit record. A value that does not coerce is BAD_USER_INPUT, named by its variable or
argument and never quoted back; none of them is a 500 or an INTERNAL_ERROR."""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from auth import demo_key
from settings import ROOT, Settings
from tests.conftest import SEED, Gateway, serving, source_urls

pytestmark = pytest.mark.anyio

PERSON = "410581199001010011"
ENTERPRISES = "enterprises(first: 2, where: $w) { edges { node { creditCode } } }"
PARCELS = "landParcels(first: 2, where: $w) { edges { node { parcelCode } } }"


def where(resource: str, input_type: str) -> str:
    return f"query ($w: {input_type}) {{ {resource} }}"


def enterprises(**where: Any) -> tuple[str, dict[str, Any]]:
    return where_query(ENTERPRISES, "EnterpriseWhere", where)


def parcels(**where: Any) -> tuple[str, dict[str, Any]]:
    return where_query(PARCELS, "LandParcelWhere", where)


def where_query(field: str, input_type: str, value: Any) -> tuple[str, dict[str, Any]]:
    return f"query ($w: {input_type}) {{ {field} }}", {"w": value}


FIRST = "query ($n: Int) { persons(first: $n) { edges { node { name } } } }"
AFTER = "query ($a: String) { persons(first: 1, after: $a) { edges { node { name } } } }"
ORDER = "query ($o: [EnterpriseOrderBy!]) { enterprises(first: 2, orderBy: $o) { edges { node { name } } } }"
LOOKUP = "query ($id: String!) { person(idNumber: $id) { name } }"
VERIFY = 'query ($c: PersonClaims!) { verifyPerson(idNumber: "' + PERSON + '", claims: $c) }'
INCLUDE = (
    "query ($x: Boolean = true) { persons(first: 1) { edges { node { phone @include(if: $x) } } } }"
)
SKIP = "query ($x: Boolean = false) { persons(first: 1) { edges { node { name @skip(if: $x) } } } }"
ON_SPREAD = "query ($x: Boolean = true) { persons(first: 1) { edges { node { ...N @include(if: $x) } } } } fragment N on Person { name }"
ON_INLINE = "query ($x: Boolean = false) { persons(first: 1) { ... @skip(if: $x) { totalCount } } }"
IN_FRAGMENT = "query ($x: Boolean = true) { persons(first: 1) { ...P } } fragment P on PersonConnection { totalCount @include(if: $x) }"
INTROSPECTION = "query ($x: Boolean = true) { __schema { queryType { name @include(if: $x) } } }"
TYPE_NAME = 'query ($t: String = "Person") { __type(name: $t) { name } }'
REQUIRED = "query ($n: Int!) { persons(first: $n) { edges { node { name } } } }"


def nested(depth: int, value: dict[str, Any]) -> dict[str, Any]:
    for _ in range(depth):
        value = {"_not": value}
    return value


# (query, variables, the variable or argument its message names, a text it must not quote)
BAD_USER_INPUT: dict[str, tuple[str, dict[str, Any], str, str | None]] = {
    "first a string": (FIRST, {"n": "ten"}, "$n", "ten"),
    "first a float": (FIRST, {"n": 1.5}, "$n", "1.5"),
    "first null": (FIRST, {"n": None}, "first", None),
    "first 2**40": (FIRST, {"n": 2**40}, "$n", str(2**40)),
    "first required, missing": (REQUIRED, {}, "$n", None),
    "after a number": (AFTER, {"a": 410581}, "$a", "410581"),
    "string a number": (*enterprises(name={"_eq": 410581}), "$w", "410581"),
    "string a list": (*enterprises(name={"_like": ["%建筑%"]}), "$w", "建筑"),
    "where not an object": (*enterprises(name="某某建筑公司"), "$w", "某某建筑"),
    "unknown item": (*enterprises(nickname={"_eq": "x"}), "$w", None),
    "unknown operator": (*enterprises(name={"_regex": "^某某"}), "$w", "某某"),
    "in with a null": (*enterprises(status={"_in": ["存续", None]}), "$w", "存续"),
    "in a wrong type": (*enterprises(status={"_in": 410581}), "$w", "410581"),
    "is_null a string": (*enterprises(name={"_is_null": "yes"}), "$w", "yes"),
    "and not a list of objects": (*enterprises(_and=["某某建筑"]), "$w", "某某建筑"),
    "where nested too deeply": (
        *where_query(
            ENTERPRISES, "EnterpriseWhere", nested(250, {"name": {"_eq": "某某建筑公司"}})
        ),
        "$w",
        "某某",
    ),
    "float a string": (*parcels(area={"_gt": "big"}), "$w", "big"),
    "float NaN": (*parcels(area={"_gt": float("nan")}), "$w", "NaN"),
    "float infinite": (*parcels(area={"_lt": float("inf")}), "$w", "Infinity"),
    "decimal garbage": (*enterprises(registeredCapital={"_gt": "12abc"}), "$w", "12abc"),
    "decimal NaN": (*enterprises(registeredCapital={"_gt": "NaN"}), "$w", None),
    "decimal sNaN": (*enterprises(registeredCapital={"_eq": "sNaN"}), "$w", "sNaN"),
    "decimal infinite": (*enterprises(registeredCapital={"_lt": "-Infinity"}), "$w", "Infinity"),
    "decimal huge": (*enterprises(registeredCapital={"_gt": "1e999999"}), "$w", "999999"),
    "decimal in NaN": (*enterprises(registeredCapital={"_in": ["1", "NaN"]}), "$w", None),
    "decimal NaN in the document": (
        '{ enterprises(first: 2, where: {registeredCapital: {_gt: "NaN"}}) { totalCount } }',
        {},
        "where",
        None,
    ),
    "decimal a boolean": (*enterprises(registeredCapital={"_gt": True}), "$w", "True"),
    "date not a day": (*enterprises(establishedOn={"_gte": "2021-02-30"}), "$w", "2021-02-30"),
    "date a word": (*enterprises(establishedOn={"_lt": "yesterday"}), "$w", "yesterday"),
    "date a number": (*enterprises(establishedOn={"_eq": 20210101}), "$w", "20210101"),
    "order unknown direction": (ORDER, {"o": [{"name": "sideways"}]}, "$o", "sideways"),
    "order two keys in one": (ORDER, {"o": [{"name": "asc", "status": "desc"}]}, "$o", None),
    "order no key": (ORDER, {"o": [{}]}, "$o", None),
    "order a null direction": (ORDER, {"o": [{"name": None}]}, "$o", None),
    "order unknown item": (ORDER, {"o": [{"nickname": "asc"}]}, "$o", None),
    "lookup key a number": (LOOKUP, {"id": 410581199001010011}, "$id", "410581199001010011"),
    "lookup key null": (LOOKUP, {"id": None}, "$id", None),
    "claims a wrong type": (VERIFY, {"c": {"name": 410581}}, "$c", "410581"),
    "claims a bad date": (VERIFY, {"c": {"birthDate": "1990-02-30"}}, "$c", "1990-02-30"),
    "claims not an object": (VERIFY, {"c": "张伟"}, "$c", "张伟"),
    "claims an unknown item": (VERIFY, {"c": {"nickname": "伟伟"}}, "$c", "伟伟"),
    "claims empty": (VERIFY, {"c": {}}, "claims", None),
    "claims all null": (VERIFY, {"c": {"name": None}}, "claims", None),
    "include null": (INCLUDE, {"x": None}, "if", None),
    "skip null": (SKIP, {"x": None}, "if", None),
    "include null on a spread": (ON_SPREAD, {"x": None}, "if", None),
    "skip null on an inline fragment": (ON_INLINE, {"x": None}, "if", None),
    "include null in a fragment": (IN_FRAGMENT, {"x": None}, "if", None),
    "include null in introspection": (INTROSPECTION, {"x": None}, "if", None),
    "introspection argument null": (TYPE_NAME, {"t": None}, "name", None),
}


async def send(gateway: Gateway, query: str, variables: dict[str, Any]) -> httpx.Response:
    """As `Gateway.query`, but with JSON as Python writes it, NaN and Infinity included:
    a client may send them, and the server's JSON reader takes them."""
    headers = {
        "Accept": "application/graphql-response+json",
        "Content-Type": "application/json",
        "Authorization": f"Bearer {demo_key(SEED, 'marriage-registry')}",
        "X-Purpose": "administrative_basis",
    }
    body = json.dumps({"query": query, "variables": variables})
    return await gateway.client.post("/graphql", content=body, headers=headers)


async def answered(gateway: Gateway, response: httpx.Response) -> dict[str, Any]:
    """A GraphQL error body with a code per error, the request id, and a record."""
    assert response.status_code != 500
    body = response.json()
    assert body["extensions"]["requestId"] == response.headers["x-request-id"]
    codes = [error["extensions"]["code"] for error in body["errors"]]
    assert "INTERNAL_ERROR" not in codes
    record = await gateway.audit(response)
    assert record["error_codes"] == codes
    return body


@pytest.mark.parametrize(
    ("query", "variables", "named", "unquoted"),
    list(BAD_USER_INPUT.values()),
    ids=list(BAD_USER_INPUT),
)
async def test_a_value_that_does_not_coerce_is_bad_user_input(
    gateway: Gateway, query: str, variables: dict[str, Any], named: str, unquoted: str | None
) -> None:
    response = await send(gateway, query, variables)
    body = await answered(gateway, response)
    assert response.status_code == 400
    assert "data" not in body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert f"'{named}'" in error["message"]
    if unquoted is not None:
        assert unquoted not in error["message"]
    record = await gateway.audit(response)
    assert record["outcome"] == "invalid"


@pytest.mark.parametrize(
    ("query", "variables", "code"),
    [
        (FIRST, {"n": -1}, "LIMIT_EXCEEDED"),
        (FIRST, {"n": 5000}, "LIMIT_EXCEEDED"),
        (AFTER, {"a": "not-a-cursor"}, "BAD_CURSOR"),
        (AFTER, {"a": ""}, "BAD_CURSOR"),
    ],
    ids=["first negative", "first too large", "after garbage", "after empty"],
)
async def test_a_value_that_coerces_but_cannot_be_served_is_a_field_error(
    gateway: Gateway, query: str, variables: dict[str, Any], code: str
) -> None:
    response = await gateway.query(query, variables=variables)
    body = await answered(gateway, response)
    assert response.status_code == 200
    assert body["data"] == {"persons": None}
    assert [error["extensions"]["code"] for error in body["errors"]] == [code]


async def test_a_filter_nested_as_deep_as_allowed_is_served(gateway: Gateway) -> None:
    no_name = nested(195, {"name": {"_is_null": True}})  # an odd number of _not
    query, variables = where_query(ENTERPRISES, "EnterpriseWhere", no_name)
    body = (await send(gateway, query, variables)).json()
    assert "errors" not in body
    assert len(body["data"]["enterprises"]["edges"]) == 2


async def test_a_single_value_for_a_list_is_a_list_of_one(gateway: Gateway) -> None:
    """Input coercion per the GraphQL specification: `_in: "注销"` is `_in: ["注销"]`."""
    query, variables = enterprises(status={"_in": "注销"}, _and={"name": {"_is_null": False}})
    one = (await gateway.query(query, variables=variables)).json()
    query, variables = enterprises(status={"_in": ["注销"]}, _and=[{"name": {"_is_null": False}}])
    listed = (await gateway.query(query, variables=variables)).json()
    assert "errors" not in one and one == {**listed, "extensions": one["extensions"]}


EXTRA_ITEMS = """\
      - {name: householdSize, column: household_size, name_zh: 户内人数, data_type: I, length: 4, kind: business, share_type: unconditional}
      - {name: updatedAt, column: updated_at, name_zh: 更新时间, data_type: T, length: 14, kind: business, share_type: unconditional}
      - {name: deceased, column: deceased, name_zh: 是否死亡, data_type: L, length: 1, kind: business, share_type: unconditional}
    relationships:
"""


@pytest.fixture
async def every_scalar(tmp_path: Path, demo_dir: Path) -> AsyncIterator[Gateway]:
    """The demo catalog with an Int, a DateTime and a Boolean item added to persons:
    the demo has none, but a department's catalog may."""
    catalog = tmp_path / "departments"
    shutil.copytree(ROOT / "catalog" / "departments", catalog)
    people = catalog / "public_security.yaml"
    text = people.read_text(encoding="utf-8")
    people.write_text(text.replace("    relationships:\n", EXTRA_ITEMS, 1), encoding="utf-8")
    settings = Settings(
        demo=True, data_dir=tmp_path / "var", catalog_dir=catalog, sources=source_urls(demo_dir)
    )
    async with serving(settings) as running:
        yield running


PERSONS = "persons(first: 2, where: $w) { edges { node { name } } }"


@pytest.mark.parametrize(
    ("value", "unquoted"),
    [
        ({"householdSize": {"_eq": "three"}}, "three"),
        ({"householdSize": {"_gt": 2.5}}, "2.5"),
        ({"householdSize": {"_lt": 2**40}}, str(2**40)),
        ({"householdSize": {"_in": [1, None]}}, None),
        ({"updatedAt": {"_gte": "2021-02-30T08:00:00"}}, "2021-02-30"),
        ({"updatedAt": {"_lt": "noon"}}, "noon"),
        ({"updatedAt": {"_eq": 1612137600}}, "1612137600"),
        ({"deceased": {"_eq": "no"}}, None),
        ({"deceased": {"_eq": 0}}, None),
        ({"deceased": {"_gt": True}}, None),
    ],
)
async def test_int_datetime_and_boolean_items_refuse_bad_values(
    every_scalar: Gateway, value: dict[str, Any], unquoted: str | None
) -> None:
    query, variables = where_query(PERSONS, "PersonWhere", value)
    response = await every_scalar.query(query, variables=variables)
    body = await answered(every_scalar, response)
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "'$w'" in error["message"]
    if unquoted is not None:
        assert unquoted not in error["message"]
