"""The catalog's search over its views, with no GraphQL and no request: the entries a
view holds, and how a text finds and ranks them."""

from __future__ import annotations

from catalog import load_catalog
from schema.catalog_view import view_of
from schema.search import find
from settings import ROOT

CATALOG = load_catalog(ROOT / "catalog" / "departments")
DEPARTMENTS = view_of(CATALOG, public=False)
PUBLIC = view_of(CATALOG, public=True)


def found(text: str, public: bool = False) -> list[tuple[str, str]]:
    view = PUBLIC if public else DEPARTMENTS
    return [
        (f"{entry.resource.type_name}.{entry.item.name}", match)
        for entry, match in find(view.entries, text)
    ]


def test_a_view_holds_one_entry_per_item_it_shows() -> None:
    assert len(DEPARTMENTS.entries) == sum(len(r.items) for r in CATALOG.resources.values())
    assert {entry.resource.id for entry in PUBLIC.entries} == {
        r.id for r in CATALOG.resources.values() if r.open_to_public
    }


def test_exact_names_come_before_contained_and_overlapping_ones() -> None:
    assert found("公民身份号码")[0] == ("Person.idNumber", "exact")
    matches = found("身份证号码")
    assert matches[:3] == [
        ("Licence.holderIdNumber", "contains"),  # the closer name first: 持证人身份证号码
        ("Enterprise.legalRepIdNumber", "contains"),
        ("Person.idNumber", "overlap"),  # 公民身份号码 shares 身份 and 号码
    ]
    kinds = [match for _, match in matches]
    assert kinds == sorted(kinds, key=["exact", "contains", "overlap"].index)


def test_the_public_finds_only_what_is_open_to_it() -> None:
    assert ("Person.idNumber", "exact") not in found("公民身份号码", public=True)
    assert found("id number", public=True)[0] == ("Enterprise.legalRepIdNumber", "contains")


def test_blank_text_finds_nothing() -> None:
    assert find(DEPARTMENTS.entries, "  ") == []
