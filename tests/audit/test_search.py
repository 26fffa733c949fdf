"""The auditors' search: each filter, on SQLite and PostgreSQL, through the indexes the
migration makes (facets filed by the writer with each record, 0015)."""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

import pytest
import sqlalchemy as sa

from audit import AuditLog, FieldAccount, SubjectHasher
from audit.__main__ import main
from audit.problems import FacetsDiffer
from audit.search import AuditFilter, as_csv, as_jsonl, every_match, search
from audit.verify import verify
from errors import BadUserInput
from store.tables import audit_facets
from tests.audit.conftest import NOW, Store, make_record

pytestmark = pytest.mark.anyio

OLD = SubjectHasher("k0", b"an older key")
NEW = SubjectHasher("k1", b"the key in use")
ZHANG = "41058119800101001X"
WANG = "410581198001010022"
FIRM = "91410581MA40000001"
CIVIL, TAX = "11410581005000006G", "11410581005000005D"


def served(hasher: SubjectHasher, **subjects: list[str]) -> dict[str, dict[str, list[str]]]:
    return {
        resource: {"keys": hasher.hash_all(values), "subjects": hasher.hash_all(values)}
        for resource, values in subjects.items()
    }


def records() -> list[Any]:
    """Six records, each the only one to match some filter below."""
    hour = datetime.timedelta(hours=1)
    return [
        make_record(  # 0: Zhang, under the older key
            0,
            hash_key_id="k0",
            occurred_at=NOW - 5 * hour,
            records=served(OLD, person=[ZHANG]),
        ),
        make_record(  # 1: Zhang through an enterprise's representative, under the new key
            1,
            hash_key_id="k1",
            occurred_at=NOW - 4 * hour,
            caller_department=TAX,
            caller_system="tax-admin",
            purpose="work_reference",
            purpose_reference="税字第7号",
            fields=[
                FieldAccount("enterprises", 1, "clear", "catalog:root"),
                FieldAccount("enterprises.edges", 1, "structure", ""),
                FieldAccount("enterprises.edges.node.legalRepIdNumber", 1, "clear", "grant:7"),
            ],
            records={
                "enterprise": {
                    "keys": NEW.hash_all([FIRM]),
                    "subjects": NEW.hash_all([FIRM, ZHANG]),
                }
            },
        ),
        make_record(
            2,
            hash_key_id="k1",
            occurred_at=NOW - 3 * hour,
            records=served(NEW, person=[WANG]),
            person="lisi-1",
        ),
        make_record(
            3,
            hash_key_id="k1",
            occurred_at=NOW - 2 * hour,
            outcome="refused",
            document_id="sha256:" + "ab" * 32,
            fields=[FieldAccount("persons.edges.node.phone", 1, "denied", "rules:no_match")],
            records={},
        ),
        make_record(
            4,
            hash_key_id="k1",
            occurred_at=NOW - hour,
            fields=[FieldAccount("persons.edges.node.phone", 2, "masked", "grant:3 & grant:9")],
            records=served(NEW, person=[WANG]),
        ),
    ]


async def written(store: Store) -> list[int]:
    """The ids of the records, in the order made."""
    log = AuditLog(store.engine)
    for record in records():
        await log.write(record)
    rows = await store.rows()
    return [row["id"] for row in rows]


async def ids(store: Store, **where: Any) -> list[int]:
    page = await search(store.engine, AuditFilter(**where), [OLD, NEW], first=100)
    return [found.id for found in page.records]


async def test_each_filter_finds_its_records(store: Store) -> None:
    made = await written(store)
    newest_first = list(reversed(made))
    assert await ids(store) == newest_first
    assert await ids(store, subject=ZHANG) == [made[1], made[0]]  # under both key ids
    assert await ids(store, subject=ZHANG.lower()) == [made[1], made[0]]
    assert await ids(store, subject=FIRM) == [made[1]]
    assert await ids(store, subject=WANG) == [made[4], made[2]]
    assert await ids(store, department=TAX) == [made[1]]
    assert await ids(store, system="tax-admin") == [made[1]]
    assert await ids(store, person="lisi-1") == [made[2]]
    assert await ids(store, resource="enterprise") == [made[1]]
    assert await ids(store, item="legalRepIdNumber") == [made[1]]
    assert await ids(store, item="edges") == []  # structure is no item
    assert await ids(store, purpose="work_reference") == [made[1]]
    assert await ids(store, reference="税字第7号") == [made[1]]
    assert await ids(store, outcome="refused") == [made[3]]
    assert await ids(store, decision="denied") == [made[3]]
    assert await ids(store, decision="masked") == [made[4]]
    assert await ids(store, grant=7) == [made[1]]
    assert await ids(store, grant=9) == [made[4]]
    assert await ids(store, grant=3) == [made[4]]
    assert await ids(store, grant=1) == []
    assert await ids(store, document_id="sha256:" + "ab" * 32) == [made[3]]
    hour = datetime.timedelta(hours=1)
    window = {"occurred_from": NOW - 4 * hour, "occurred_until": NOW - 2 * hour}
    assert await ids(store, **window) == [made[2], made[1]]
    assert await ids(store, subject=ZHANG, department=TAX, **window) == [made[1]]


async def test_a_subject_hashed_under_a_key_no_longer_held_is_not_found(store: Store) -> None:
    made = await written(store)
    page = await search(store.engine, AuditFilter(subject=ZHANG), [NEW])
    assert [found.id for found in page.records] == [made[1]]


async def test_pages_follow_cursors_newest_first(store: Store) -> None:
    made = await written(store)
    first = await search(store.engine, AuditFilter(), [NEW], first=2)
    assert [f.id for f in first.records] == [made[4], made[3]] and first.has_next_page
    second = await search(
        store.engine, AuditFilter(), [NEW], first=2, after=first.records[-1].cursor
    )
    assert [f.id for f in second.records] == [made[2], made[1]] and second.has_next_page
    everything = await every_match(store.engine, AuditFilter(), [NEW], limit=100)
    assert [f.id for f in everything] == list(reversed(made))


async def test_bad_input_is_refused_with_a_clear_error(store: Store) -> None:
    for where, kwargs, message in (
        (AuditFilter(subject="12345"), {}, "18-character"),
        (AuditFilter(), {"first": 0}, "first"),
        (AuditFilter(), {"after": "not-a-cursor"}, "cursor"),
        (AuditFilter(occurred_from=datetime.datetime(2026, 1, 1)), {}, "time zone"),
    ):
        with pytest.raises(BadUserInput, match=message):
            await search(store.engine, where, [NEW], **kwargs)


async def test_exports_carry_every_match(store: Store) -> None:
    await written(store)
    found = await every_match(store.engine, AuditFilter(subject=ZHANG), [OLD, NEW], limit=10)
    table = as_csv(found).splitlines()
    assert table[0].startswith("id,request_id,occurred_at,caller_department")
    assert len(table) == 3 and "legalRepIdNumber" in table[1] and ",7," in table[1]
    lines = as_jsonl(found).splitlines()
    assert len(lines) == 2 and ZHANG not in as_jsonl(found)


async def test_the_writer_files_facets_it_cannot_change_and_verify_catches_a_forged_one(
    postgres_store: Store,
) -> None:
    """The writer inserts a record's facets with it (0015) and can neither change nor
    remove any; the auditor only reads them. A facet the writer files falsely is an
    index entry, not evidence: `verify` recomputes the facets from the chained record."""
    writer = postgres_store.engine_as("writer")
    log = AuditLog(writer)
    await log.write(records()[1])
    auditor = postgres_store.engine_as("auditor")
    page = await search(auditor, AuditFilter(subject=ZHANG, grant=7), [NEW])
    assert len(page.records) == 1
    for engine in (writer, auditor):
        for statement in ("DELETE FROM audit_facets", "UPDATE audit_facets SET value = 'x'"):
            with pytest.raises(sa.exc.DBAPIError, match="permission denied"):
                async with engine.begin() as connection:
                    await connection.execute(sa.text(statement))
    forge = "INSERT INTO audit_facets VALUES (:id, 's', 'forged')"
    with pytest.raises(sa.exc.DBAPIError, match="permission denied"):
        async with auditor.begin() as connection:
            await connection.execute(sa.text(forge), {"id": page.records[0].id})
    async with postgres_store.engine.connect() as connection:
        facets = (await connection.execute(sa.select(audit_facets.c.facet))).scalars().all()
    assert sorted(set(facets)) == ["d", "g", "i", "r", "s"]
    assert (await verify(postgres_store.engine)).ok
    async with writer.begin() as connection:
        await connection.execute(sa.text(forge), {"id": page.records[0].id})
    found = await verify(postgres_store.engine)
    assert found.problem == FacetsDiffer(page.records[0].id)


async def test_verify_names_a_record_whose_facets_were_left_out(store: Store) -> None:
    ids = await written(store)
    assert (await verify(store.engine)).ok
    await store.tamper("DELETE FROM audit_facets WHERE record_id = :id", id=ids[2])
    assert (await verify(store.engine)).problem == FacetsDiffer(ids[2])


async def test_the_command_line_searches_on_record(
    store: Store, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    made = await written(store)
    monkeypatch.setenv("GOV_SHARE_DATA_DIR", str(store.tmp_path))
    monkeypatch.setenv("GOV_SHARE_AUDIT_KEY_ID", "k1")
    monkeypatch.setenv("GOV_SHARE_AUDIT_KEYS", '{"k0": "an older key", "k1": "the key in use"}')
    arguments = ["search", "--store-url", store.url, "--auditor", "审计员 刘", "--subject", ZHANG]
    assert await asyncio.to_thread(main, [*arguments, "--format", "csv"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert [row.split(",")[0] for row in table[1:]] == [str(made[1]), str(made[0])]
    assert await asyncio.to_thread(main, arguments) == 0
    printed = capsys.readouterr().out
    assert printed.endswith("3 records\n")  # the first search is on record: it is found too
    rows = await store.rows()
    assert rows[-1]["operator"] == "审计员 刘" and rows[-1]["caller_system"] == "audit-cli"
    assert rows[-1]["records"]["audit_records"]["subjects"] == NEW.hash_all([ZHANG])

    assert await asyncio.to_thread(main, [*arguments[:-1], "not-an-id"]) == 2
    assert "18-character" in capsys.readouterr().err
