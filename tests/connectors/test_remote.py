"""The remote gov-share connector without an upstream: its options, what it tells the
upstream of the caller, how it reads an upstream's answer, and an upstream that does
not answer. `tests/test_remote_source.py` runs it against a second gov-share process."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

import platform_setup
from catalog import HideMiddle, load_catalog
from connectors import (
    SOURCE_KINDS,
    CircuitOptions,
    Computed,
    Connector,
    GuardedConnector,
    MemoryConnector,
    Read,
    ReadContext,
    RemoteConnector,
    RemoteOptions,
    RetryOptions,
)
from connectors._remote_answers import ListPage, counts, upstream_error
from connectors._remote_document import asked, counted
from connectors.remote import acting
from errors import ConfigurationError, FieldDenied, SourceUnavailable
from settings import ROOT, Settings
from tests.conftest import SOURCES, serving
from tests.processes import free_port

pytestmark = pytest.mark.anyio

URL = "graphql+https://share.henan.gov.cn/graphql"
PHONE = HideMiddle(keep_start=3, keep_end=4)


def remote_catalog(into: Path) -> Path:
    """The demo catalog with public security's resources served by another platform."""
    shutil.copytree(ROOT / "catalog" / "departments", into, dirs_exist_ok=True)
    path = into / "public_security.yaml"
    department = yaml.safe_load(path.read_text(encoding="utf-8"))
    for resource in department["resources"]:
        resource["remote"] = {"list_field": "persons", "type_name": "Person"}
    path.write_text(yaml.safe_dump(department, allow_unicode=True, sort_keys=False), "utf-8")
    return into


def endpoint_read(tmp_path: Path, **fields: Any) -> Read:
    person = load_catalog(remote_catalog(tmp_path)).resource("person")
    values: dict[str, Any] = {
        "table": "person",
        "columns": ("id_number", "name"),
        "key_column": "id_number",
        "endpoint": person.endpoint,
        **fields,
    }
    return Read(**values)


def refused(setting: dict[str, Any]) -> str:
    with pytest.raises(ConfigurationError) as raised:
        SOURCE_KINDS.options("province", setting, timeout_seconds=1)
    return raised.value.problem


def test_the_link_needs_its_key_and_a_graphql_url() -> None:
    _, options = SOURCE_KINDS.options(
        "province", {"url": URL, "api_key": "gsk_x"}, timeout_seconds=1
    )
    assert isinstance(options, RemoteOptions) and options.page_size == 1000
    assert "api_key: Field required" in refused({"url": URL})
    assert "no query" in refused({"url": URL + "?token=secret", "api_key": "k"})
    assert "secret" not in refused({"url": URL + "?token=secret", "api_key": "k"})


def test_the_caller_is_named_upstream_free_text_percent_encoded() -> None:
    context = ReadContext(
        "r-1",
        "11410581005000006G",
        "marriage-registry",
        "张三",
        "administrative_basis",
        "2026-MZ-0118",
        "李四",
    )
    assert acting(context) == {
        "X-Acting-Department": "11410581005000006G",
        "X-Acting-System": "marriage-registry",
        "X-Acting-Person": "%E6%9D%8E%E5%9B%9B",
        "X-Operator": "%E5%BC%A0%E4%B8%89",
        "X-Purpose": "administrative_basis",
        "X-Purpose-Reference": "2026-MZ-0118",
    }
    assert acting(ReadContext()) == {"X-Acting-Department": "public"}


def test_keys_travel_as_variables_never_in_the_document(tmp_path: Path) -> None:
    read = endpoint_read(
        tmp_path, match_column="id_number", match_values=("410581199001011234", "410581")
    )
    assert read.endpoint is not None
    wanted = asked(read, read.endpoint, "province")  # type: ignore[arg-type]
    assert "410581" not in wanted.document
    assert "persons(where: $where" in wanted.document
    assert wanted.variables["where"] == {
        "_and": [{"idNumber": {"_in": ["410581199001011234", "410581"]}}]
    }
    assert wanted.variables["orderBy"] == [{"idNumber": "asc"}]


def test_a_batch_is_counted_as_one_alias_per_key_in_one_document(tmp_path: Path) -> None:
    read = endpoint_read(tmp_path, match_column="id_number", match_values=("a", "b"))
    assert read.endpoint is not None
    wanted = counted(read, read.endpoint, ("a", "b"))  # type: ignore[arg-type]
    assert wanted.document == (
        "query Count($where0: PersonWhere, $where1: PersonWhere) { "
        "count0: persons(where: $where0) { totalCount } "
        "count1: persons(where: $where1) { totalCount } }"
    )
    assert wanted.variables["where1"] == {"_and": [{"idNumber": {"_eq": "b"}}]}
    body = {"data": {"count0": {"totalCount": 2}, "count1": {"totalCount": 0}}}
    assert counts(body, 2, "province") == [2, 0]
    with pytest.raises(FieldDenied):
        counts({"data": None, "errors": [NOT_SHARED]}, 2, "province")


def answer(nodes: list[dict[str, Any]], errors: list[dict[str, Any]]) -> dict[str, Any]:
    edges = [{"node": node} for node in nodes]
    listed = {"edges": edges, "pageInfo": {"hasNextPage": False, "endCursor": None}}
    return {"data": {"rows": listed}, "errors": errors}


NOT_SHARED = {
    "message": "Person.phone is not shared",
    "path": ["rows", "edges", 1, "node", "phone"],
    "extensions": {"code": "NOT_SHARED", "legalBasis": "…", "field": "Person.phone"},
}


def test_an_upstream_denial_stands_in_for_the_value_and_what_is_masked_from_it(
    tmp_path: Path,
) -> None:
    read = endpoint_read(tmp_path, computed=(Computed("_phone", "phone", PHONE),))
    nodes = [
        {"idNumber": "a", "name": "王芳", "phone": "13912342841"},
        {"idNumber": "b", "name": "李四", "phone": None},
    ]
    fields = {"id_number": "idNumber", "name": "name", "phone": "phone"}
    first, second = ListPage(answer(nodes, [NOT_SHARED]), read, fields, "province").rows
    assert first == {"id_number": "a", "name": "王芳", "_phone": "139****2841"}
    assert isinstance(second["_phone"], FieldDenied)
    assert second["_phone"].code == "NOT_SHARED"
    assert second["_phone"].extensions["legalBasis"] == "…"
    assert second["name"] == "李四"


def test_a_denied_key_or_an_unknown_code_fails_the_read(tmp_path: Path) -> None:
    read = endpoint_read(tmp_path)
    fields = {"id_number": "idNumber", "name": "name"}
    key_denied = {**NOT_SHARED, "path": ["rows", "edges", 0, "node", "idNumber"]}
    with pytest.raises(FieldDenied):
        ListPage(answer([{"idNumber": None, "name": "x"}], [key_denied]), read, fields, "p")
    failed = {"data": {"rows": None}, "errors": [{"message": "boom", "path": ["rows"]}]}
    with pytest.raises(SourceUnavailable):
        ListPage(failed, read, fields, "p")


async def test_an_upstream_that_does_not_answer_fails_its_fields_only(
    settings: Settings, tmp_path: Path
) -> None:
    dead = {"url": f"graphql+http://127.0.0.1:{free_port()}/graphql", "api_key": "gsk_x"}
    changed = settings.model_copy(
        update={
            "sources": {**settings.sources, "public_security": dead},
            "catalog_dir": remote_catalog(tmp_path / "catalog"),
        }
    )
    async with serving(changed) as gateway:
        response = await gateway.query(
            "{ enterprises(first: 2) { edges { node { name legalRepresentative { name } } } } }"
        )
    body = response.json()
    nodes = [edge["node"] for edge in body["data"]["enterprises"]["edges"]]
    assert len(nodes) == 2 and all(node["name"] for node in nodes)
    assert all(node["legalRepresentative"] is None for node in nodes)
    assert {error["extensions"]["code"] for error in body["errors"]} == {"SOURCE_UNAVAILABLE"}


async def test_a_resource_of_a_remote_source_without_its_block_is_refused(
    settings: Settings,
) -> None:
    catalog = load_catalog(settings.catalog_dir)
    sources: dict[str, Connector] = {name: MemoryConnector(name, {}) for name in SOURCES}
    sources["public_security"] = RemoteConnector(
        "public_security",
        RemoteOptions.model_validate({"url": URL, "api_key": "k", **{"timeout_seconds": 1}}),
    )
    guarded = {
        name: GuardedConnector(
            source, timeout_seconds=1, circuit=CircuitOptions(), retries=RetryOptions()
        )
        for name, source in sources.items()
    }
    try:
        with pytest.raises(ConfigurationError) as refused:
            platform_setup._serving(settings, guarded)(catalog)
    finally:
        await sources["public_security"].close()
    assert refused.value.where == "resources(person).remote"
    assert "another sharing platform" in refused.value.problem


def test_an_upstream_error_passes_on_only_the_extensions_this_platform_uses() -> None:
    """Whatever else an upstream puts in an error's extensions stays there: it never
    reaches the caller, and a name clashing with an error's own arguments (`message`,
    `failure`) cannot break building it."""
    told = {
        "code": "NOT_SHARED",
        "legalBasis": "Art. 5",
        "field": "householdAddress",
        "message": "clash",
        "failure": "clash",
        "value": "河南省林州市开元街道 1 号",
    }
    denied = upstream_error({"message": "not shared", "extensions": told}, "province")
    assert isinstance(denied, FieldDenied)
    assert denied.as_extensions() == {
        "code": "NOT_SHARED",
        "legalBasis": "Art. 5",
        "field": "householdAddress",
    }
    failing = {"code": "SOURCE_UNAVAILABLE", "failure": "clash", "value": "x"}
    unavailable = upstream_error({"message": "down", "extensions": failing}, "province")
    assert isinstance(unavailable, SourceUnavailable)
    assert unavailable.as_extensions() == {"code": "SOURCE_UNAVAILABLE", "source": "province"}
