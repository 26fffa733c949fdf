"""The subject access report: every access to one subject, across departments, grouped
by consumer and purpose with the grants and case references, as data and as a
printable page in Chinese with no outside asset."""

from __future__ import annotations

import asyncio
import datetime
import re

import pytest
import sqlalchemy as sa

from audit.__main__ import main
from audit.report_html import report_html
from audit.subject_report import subject_access_report
from store.tables import grants
from tests.audit.conftest import NOW, Store
from tests.audit.test_search import CIVIL, NEW, OLD, TAX, WANG, ZHANG, written

pytestmark = pytest.mark.anyio


async def with_grant(store: Store) -> None:
    async with store.engine.begin() as connection:
        await connection.execute(
            sa.insert(grants).values(
                id=7,
                consumer=TAX,
                resource_id="enterprise",
                items=["legalRepIdNumber"],
                action="read_clear",
                purposes=["work_reference"],
                scope="",
                reference="林市监准字〔2026〕7号",
                valid_until=NOW + datetime.timedelta(days=30),
                created_at=NOW,
                changed_at=NOW,
            )
        )


async def test_accesses_are_grouped_by_consumer_and_purpose_with_grants_and_cases(
    store: Store,
) -> None:
    await with_grant(store)
    made = await written(store)
    report = await subject_access_report(store.engine, ZHANG, [OLD, NEW])
    assert report.total == 2 and report.complete
    tax, civil = report.groups  # by department code
    assert (civil.department, civil.system, civil.purpose) == (
        CIVIL,
        "marriage-registry",
        "administrative_basis",
    )
    assert civil.count == 1 and civil.resources == {"person"} and not civil.grants
    assert civil.references == {"（2026）林民登字第118号"}
    assert (tax.department, tax.purpose, tax.count) == (TAX, "work_reference", 1)
    assert tax.items == {"enterprises", "legalRepIdNumber"}
    [grant] = tax.grants
    assert (grant.id, grant.reference) == (7, "林市监准字〔2026〕7号")
    assert tax.references == {"税字第7号"}
    assert len(made) == 5


async def test_the_printable_report_is_chinese_self_contained_and_hides_the_identifier(
    store: Store,
) -> None:
    await with_grant(store)
    await written(store)
    html = report_html(await subject_access_report(store.engine, ZHANG, [OLD, NEW]))
    assert "<h1>数据主体访问报告</h1>" in html and "访问共 2 次" in html
    assert "行政依据" in html and "工作参考" in html
    assert "授权 7（林市监准字〔2026〕7号）" in html and "税字第7号" in html
    assert ZHANG not in html and "410581********001X" in html
    assert not re.search(r"https?:|<script|\ssrc=|<link", html)


async def test_a_subject_nobody_read_has_an_empty_report(store: Store) -> None:
    await written(store)
    report = await subject_access_report(store.engine, "91410581MA4ZZZZZ99", [NEW])
    assert report.total == 0 and report.groups == []
    assert "没有访问该数据主体信息的记录" in report_html(report)


async def test_a_time_range_bounds_the_report(store: Store) -> None:
    await written(store)
    report = await subject_access_report(
        store.engine, WANG, [NEW], occurred_from=NOW - datetime.timedelta(minutes=90)
    )
    assert report.total == 1


async def test_the_command_line_prints_the_page_on_record(
    store: Store, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    await written(store)
    monkeypatch.setenv("GOV_SHARE_DATA_DIR", str(store.tmp_path))
    monkeypatch.setenv("GOV_SHARE_AUDIT_KEY_ID", "k1")
    monkeypatch.setenv("GOV_SHARE_AUDIT_KEYS", '{"k0": "an older key", "k1": "the key in use"}')
    arguments = ["report", "--store-url", store.url, "--auditor", "审计员 刘", "--subject", ZHANG]
    assert await asyncio.to_thread(main, arguments) == 0
    assert "访问共 2 次" in capsys.readouterr().out
    rows = await store.rows()
    assert rows[-1]["operation_name"] == "audit report"
    assert rows[-1]["records"]["audit_records"]["subjects"] == NEW.hash_all([ZHANG])
    assert await asyncio.to_thread(main, arguments) == 0
    assert "访问共 3 次" in capsys.readouterr().out  # the first report is an access too
