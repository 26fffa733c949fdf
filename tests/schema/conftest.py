"""A copy of the real catalog for each test to break."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.schema.catalog_edits import CATALOG


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Path:
    shutil.copytree(CATALOG, tmp_path, dirs_exist_ok=True)
    return tmp_path
