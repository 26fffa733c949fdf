"""Nested lists cost levels x ceil(records / bound) statements per resource, not one per row;
and the statements select only permitted columns."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import event

from connectors import SqlConnector, SqliteConnector
from settings import Settings
from tests.conftest import Gateway, source_urls

pytestmark = pytest.mark.anyio

NESTED = """
{
  enterprises(first: 1000) {
    edges { node {
      creditCode
      legalRepresentative { idNumber name licences(first: 2) { edges { node { licenceNumber } } } }
      landParcels(first: 3) { edges { node { parcelCode holderCreditCode } } }
    } }
  }
}
"""


def _record_statements(gateway: Gateway) -> list[tuple[str, str]]:
    sent: list[tuple[str, str]] = []
    for name, guarded in gateway.platform.sources.items():
        connector = guarded.source
        assert isinstance(connector, SqlConnector | SqliteConnector)

        def remember(*args: object, name: str = name) -> None:
            sent.append((name, str(args[2])))

        event.listen(connector.sync_engine, "before_cursor_execute", remember)
    return sent


@pytest.fixture
def settings(tmp_path: Path, demo_dir: Path) -> Settings:
    return Settings(demo=True, data_dir=tmp_path, sources=source_urls(demo_dir), batch_bound=300)


async def test_three_levels_over_1000_enterprises_batch_per_level(gateway: Gateway) -> None:
    await gateway.query(NESTED.replace("1000", "1"))  # tables are reflected once, on first use
    sent = _record_statements(gateway)
    body = (await gateway.query(NESTED)).json()
    enterprises = body["data"]["enterprises"]["edges"]
    assert len(enterprises) == 1000 and "errors" not in body
    persons = {e["node"]["legalRepresentative"]["idNumber"] for e in enterprises}

    per_source = Counter(name for name, _ in sent)
    bound = 300
    assert set(per_source) == {
        "market_regulation",
        "public_security",
        "licence_office",
        "natural_resources",
    }
    assert per_source["market_regulation"] == 1
    assert per_source["public_security"] == math.ceil(len(persons) / bound)
    # A batch of per-parent pages takes a second statement when its parents' rows do
    # not fit in their pages (`SqliteConnector._pages_cut`); which do depends on how
    # the batches fall, so only the bounds are certain.
    for source, parents in (("licence_office", len(persons)), ("natural_resources", 1000)):
        batches = math.ceil(parents / bound)
        assert batches <= per_source[source] <= 2 * batches
    # the nested first: applies per parent, in the same statement (a window, or a limit
    # on all the parents' rows that the pages are cut from)
    assert all(
        "row_number" in sql.lower() or "LIMIT" in sql
        for name, sql in sent
        if name in ("licence_office", "natural_resources")
    )
    for edge in enterprises:
        assert len(edge["node"]["landParcels"]["edges"]) <= 3
        assert all(
            p["node"]["holderCreditCode"] == edge["node"]["creditCode"]
            for p in edge["node"]["landParcels"]["edges"]
        )


async def test_denied_columns_are_never_selected(gateway: Gateway) -> None:
    await gateway.query("{ taxRegistrations(first: 1) { edges { node { creditCode } } } }")
    sent = _record_statements(gateway)
    query = "{ taxRegistrations(first: 5) { edges { node { creditCode annualTaxPaid bankAccount creditRating } } } }"
    await gateway.query(query, system="marriage-registry")
    [(source, sql)] = sent
    assert source == "taxation"
    for column in ("annual_tax_paid", "bank_account", "credit_rating"):
        assert column not in sql
    assert "credit_code" in sql


async def test_a_relationship_is_not_reached_through_a_withheld_join_item(gateway: Gateway) -> None:
    """The education bureau has no grant on enterprise.legalRepIdNumber, so it cannot walk
    from an enterprise to its legal representative: that would disclose the ID number."""
    await gateway.query(
        "{ enterprises(first: 1) { edges { node { creditCode } } } }", system="school-enrolment"
    )
    sent = _record_statements(gateway)
    body = (
        await gateway.query(
            "{ enterprises(first: 5) { edges { node { name legalRepresentative { idNumber } } } } }",
            system="school-enrolment",
        )
    ).json()
    assert [e["node"]["legalRepresentative"] for e in body["data"]["enterprises"]["edges"]] == [
        None
    ] * 5
    [error] = body["errors"]
    assert error["extensions"]["code"] == "APPLICATION_REQUIRED"
    assert error["extensions"]["field"] == "Enterprise.legalRepresentative"
    assert error["extensions"]["restsOn"] == "Enterprise.legalRepIdNumber"
    assert error["extensions"]["application"]["fields"] == ["legalRepIdNumber"]
    assert [name for name, _ in sent] == ["market_regulation"]
    assert "legal_rep_id_number" not in sent[0][1]
