"""Load and check the catalog files; a bad file stops start-up with file, place and problem."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from catalog._collisions import first_collision
from catalog.model import Catalog, DepartmentCatalog, Relationship, Resource
from catalog.terms import SubjectKind
from errors import ConfigurationError


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML keeps the last of two equal keys; in a catalog that could silently turn a
    not_shared item unconditional, so a repeated key is an error."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} is written twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_catalog(directory: Path) -> Catalog:
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise ConfigurationError(str(directory), "", "no catalog files (*.yaml) found")
    departments = tuple(_load_file(path) for path in files)
    file_of = {d.department.code: path for d, path in zip(departments, files, strict=True)}
    catalog = Catalog(departments, version=files_version(files), files=file_of)
    _check_across_files(catalog, file_of)
    collision = first_collision(list(zip(files, departments, strict=True)))
    if collision is not None:
        raise ConfigurationError(str(collision.file), collision.place, collision.problem)
    return catalog


def _load_file(path: Path) -> DepartmentCatalog:
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else ""
        raise ConfigurationError(str(path), where, f"not valid YAML: {exc}") from None
    except ValueError as exc:  # PyYAML's own constructors, e.g. a date like 2021-02-30
        raise ConfigurationError(str(path), "", f"not valid YAML: {exc}") from None
    try:
        return DepartmentCatalog.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigurationError(str(path), _where(raw, first["loc"]), first["msg"]) from None


def _where(raw: Any, loc: tuple[int | str, ...]) -> str:
    """A readable place in the file: `resources[0](person).items[6](phone).conditions`."""
    parts: list[str] = []
    node = raw
    for step in loc:
        if isinstance(step, int):
            parts[-1] += f"[{step}]"
            node = node[step] if isinstance(node, list) and step < len(node) else None
            name = node.get("name", node.get("id")) if isinstance(node, dict) else None
            if name:
                parts[-1] += f"({name})"
        else:
            parts.append(step)
            node = node.get(step) if isinstance(node, dict) else None
    return ".".join(parts)


def files_version(files: list[Path]) -> str:
    """A short SM3 digest of file names and contents, recorded with every audit record."""
    digest = hashlib.new("sm3")
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _check_across_files(catalog: Catalog, file_of: dict[str, Path]) -> None:
    for department_code, where, problem in _cross_file_problems(catalog):
        raise ConfigurationError(str(file_of[department_code]), where, problem)


def _duplicate_ids(departments: tuple[DepartmentCatalog, ...]) -> Iterator[tuple[str, str, str]]:
    """Checked before anything else: the catalog keeps one resource per id, so a
    duplicate would make later checks blame the wrong file."""
    seen_ids: set[str] = set()
    for department in departments:
        for resource in department.resources:
            if resource.id in seen_ids:
                where = f"resources({resource.id}).id"
                yield (
                    department.department.code,
                    where,
                    f"resource id {resource.id!r} is declared twice",
                )
            seen_ids.add(resource.id)


def _cross_file_problems(catalog: Catalog) -> Iterator[tuple[str, str, str]]:
    yield from _duplicate_ids(catalog.departments)
    seen_codes: set[str] = set()
    known_codes = {r.code for r in catalog.resources.values()}
    for department in catalog.departments:
        code = department.department.code
        if code in seen_codes:
            yield code, "department.code", f"department code {code} is declared twice"
        seen_codes.add(code)
        for resource in department.resources:
            where = f"resources({resource.id})"
            for rel in resource.relationships:
                problem = _relationship_problem(catalog, rel.to_resource, rel.to_item)
                problem = problem or _identifies_problem(catalog, resource, rel)
                if problem:
                    yield code, f"{where}.relationships({rel.name})", problem
            for related in resource.related_resources:
                if related not in known_codes:
                    yield code, f"{where}.related_resources", f"no resource has code {related!r}"
    yield from _element_subjects(catalog)


def _identifies_problem(catalog: Catalog, resource: Resource, rel: Relationship) -> str | None:
    """Two ends of a join hold one identifier: if one says whom it names, both must,
    alike, or an identifier served through the other end would escape the audit
    record's subjects (`LandParcel.holderCreditCode` joins `Enterprise.creditCode`)."""
    here = resource.item(rel.from_item).identifies
    there = catalog.resources[rel.to_resource].item(rel.to_item).identifies
    if here == there:
        return None
    return (
        f"from_item {rel.from_item!r} identifies {_kind(here)} but to_item "
        f"{rel.to_resource}.{rel.to_item} identifies {_kind(there)}: declare `identifies` "
        "alike on both"
    )


def _element_subjects(catalog: Catalog) -> Iterator[tuple[str, str, str]]:
    """Items naming one data element hold one fact: they identify the same kind."""
    first: dict[str, tuple[str, SubjectKind | None]] = {}
    for department in catalog.departments:
        for resource in department.resources:
            for item in resource.items:
                if item.element is None:
                    continue
                place = f"{resource.id}.{item.name}"
                seen = first.setdefault(item.element, (place, item.identifies))
                if seen[1] != item.identifies:
                    yield (
                        department.department.code,
                        f"resources({resource.id}).items({item.name}).identifies",
                        f"element {item.element} is identifying {_kind(seen[1])} at {seen[0]} "
                        f"but {_kind(item.identifies)} here",
                    )


def _kind(kind: SubjectKind | None) -> str:
    return kind.value if kind is not None else "nobody"


def _relationship_problem(catalog: Catalog, to_resource: str, to_item: str) -> str | None:
    if to_resource not in catalog.resources:
        return f"to_resource {to_resource!r} is not declared in any catalog file"
    target = catalog.resources[to_resource]
    if to_item not in {item.name for item in target.items}:
        return f"to_item {to_item!r} is not a data item of {to_resource!r}"
    return None
