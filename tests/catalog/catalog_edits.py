"""Break a copy of the real catalog in one place, and catch what loading it says."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from catalog import load_catalog
from errors import ConfigurationError
from settings import ROOT

CATALOG = ROOT / "catalog" / "departments"

Mutation = Callable[[dict[str, Any]], None]


def update(*path: str | int, **changes: Any) -> Mutation:
    """Set keys of the mapping at `path`: `update("resources", 0, key_item="x")`."""

    def mutate(data: dict[str, Any]) -> None:
        node: Any = data
        for step in path:
            node = node[step]
        node.update(changes)

    return mutate


def remove(*path: str | int, key: str) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        node: Any = data
        for step in path:
            node = node[step]
        del node[key]

    return mutate


def item(index: int, **changes: Any) -> Mutation:
    return update("resources", 0, "items", index, **changes)


def resource(**changes: Any) -> Mutation:
    return update("resources", 0, **changes)


def relationship(index: int, **changes: Any) -> Mutation:
    return update("resources", 0, "relationships", index, **changes)


def add_resource(copy_of: str, **changes: Any) -> Mutation:
    """Append a second resource to the file, a copy of `copy_of` with `changes`."""

    def mutate(data: dict[str, Any]) -> None:
        source = yaml.safe_load((CATALOG / copy_of).read_text(encoding="utf-8"))
        data["resources"].append({**copy.deepcopy(source["resources"][0]), **changes})

    return mutate


def edit(directory: Path, file: str, mutate: Mutation) -> None:
    path = directory / file
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    mutate(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def load_error(directory: Path) -> ConfigurationError:
    with pytest.raises(ConfigurationError) as raised:
        load_catalog(directory)
    return raised.value


@dataclass(frozen=True)
class Mistake:
    file: str
    mutate: Mutation
    where: tuple[str, ...]  # each must appear in error.where
    problem: tuple[str, ...]  # each must appear in error.problem
    blamed: str = ""  # the file the error names, when not the edited one

    def check(self, error: ConfigurationError) -> None:
        assert error.file.endswith(self.blamed or self.file), error
        for part in self.where:
            assert part in error.where, error
        for part in self.problem:
            assert part in error.problem, error
