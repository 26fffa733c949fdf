"""The catalog guide's metadata: classification, format, release date, related resources."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from catalog import load_catalog
from errors import ConfigurationError
from settings import ROOT


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "catalog" / "departments", tmp_path / "departments")
    return tmp_path / "departments"


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ('code: "30501001/000001"', 'code: "30502001/000001"', "must start with 30501001/"),
        ("catalog_class: department", "catalog_class: theme", "must start with 20501001/"),
        ("format_class: database", "format_class: papers", "format_class"),
        ("share_method_class: shared_platform", "share_method_class: pigeon", "share_method_class"),
        ("release_date: 2021-03-31", "release_date: 2021-02-30", "day is out of range"),
        (
            'related_resources: ["10201001/000001"]',
            'related_resources: ["19999999/000001"]',
            "no resource has code",
        ),
        ('subheading: "001"', 'subheading: "1"', "subheading"),
    ],
)
def test_metadata_mistakes_are_refused(catalog_dir: Path, old: str, new: str, problem: str) -> None:
    path = catalog_dir / "taxation.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ConfigurationError) as raised:
        load_catalog(catalog_dir)
    assert raised.value.file.endswith("taxation.yaml")
    assert problem in f"{raised.value.where}: {raised.value.problem}"


def test_english_names_default_to_the_graphql_name_in_words() -> None:
    catalog = load_catalog(ROOT / "catalog" / "departments")
    person = catalog.resource("person")
    assert person.item("idNumber").english_name == "id number"
    assert person.item("householdAddress").english_name == "household address"
