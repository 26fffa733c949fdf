"""The demo databases are made again when the generator changes, not only the seed or
the catalog: an older generator's databases may tell what the catalog withholds."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from catalog import Catalog, load_catalog
from platform_setup import _ensure_demo_data
from settings import ROOT, Settings

SEED = 20201
MADE = "taxation"  # the one source the test has made; the others point elsewhere


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(ROOT / "catalog" / "departments")


def settings(data_dir: Path, catalog: Catalog) -> Settings:
    elsewhere = {d.source: "sqlite://" for d in catalog.departments if d.source != MADE}
    return Settings(demo=True, seed=SEED, data_dir=data_dir, sources=elsewhere)


def tax_rows(path: Path) -> int:
    connection = sqlite3.connect(path)
    try:
        count: int = connection.execute("SELECT count(*) FROM tax_registration").fetchone()[0]
    finally:
        connection.close()
    return count


def test_databases_of_an_older_generator_are_made_again(tmp_path: Path, catalog: Catalog) -> None:
    """Stamped with this seed and catalog, as before generators were stamped."""
    config = settings(tmp_path, catalog)
    stamp = tmp_path / "sources" / "made-from.txt"
    stamp.parent.mkdir()
    stamp.write_text(f"seed={SEED} catalog={catalog.version}")
    old = config.demo_source_path(MADE)
    old.write_bytes(b"")  # stands for the old, leaking database

    _ensure_demo_data(config, catalog)

    assert tax_rows(old) > 0
    made_from = stamp.read_text()
    assert made_from.startswith(f"seed={SEED} catalog={catalog.version} generator=")

    before = old.stat().st_mtime_ns
    _ensure_demo_data(config, catalog)  # the same generator: nothing to make
    assert old.stat().st_mtime_ns == before
    assert stamp.read_text() == made_from
