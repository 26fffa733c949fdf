"""The first two names of the schema a catalog would build that are the same.

Every name `naming.py` gives is claimed in a fixed order: the platform's own names,
then file by file and resource by resource. The later of two equal claims is the one
blamed, and the error names the earlier one with its file and place, so an editor sees
both ends of the clash. Within a resource the generated root fields are claimed before
the declared list field, so a list field named `verifyEnterprise` is blamed on the line
that says so.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from catalog import naming
from catalog.model import DepartmentCatalog, Resource

TYPES = "types"
ROOT_FIELDS = "root fields"


@dataclass(frozen=True)
class Claim:
    space: str
    """Where the name must be unique: every type, the root fields, one type's fields, or
    one field's arguments."""
    label: str
    """The name as a message calls it: `root field 'enterprises'`."""
    what: str
    """What holds the name: `the list_field of resource enterprise`."""
    file: Path | None = None
    """None for the platform's own names."""
    place: str = ""
    generated: bool = False

    @property
    def origin(self) -> str:
        return f" ({self.file.name} {self.place})" if self.file is not None else ""


@dataclass(frozen=True)
class Collision:
    file: Path
    place: str
    problem: str


def first_collision(files: Sequence[tuple[Path, DepartmentCatalog]]) -> Collision | None:
    seen: dict[tuple[str, str], Claim] = {}
    for claim in _claims(files):
        key = (claim.space, claim.label)
        earlier = seen.setdefault(key, claim)
        if earlier is not claim:
            assert claim.file is not None  # the platform's own names are claimed first
            own = f", {claim.what}," if claim.generated else ""
            problem = f"{claim.label}{own} collides with {earlier.what}{earlier.origin}"
            return Collision(claim.file, claim.place, problem)
    return None


def _claims(files: Sequence[tuple[Path, DepartmentCatalog]]) -> Iterator[Claim]:
    for name in naming.FIXED_TYPES:
        yield Claim(TYPES, _type(name), "a type the platform always has")
    yield Claim(ROOT_FIELDS, _root(naming.CATALOG_FIELD), "the catalog browser's root field")
    yield Claim(ROOT_FIELDS, _root(naming.MY_ACCESS_FIELD), "a caller's own view of its access")
    for path, department in files:
        for resource in department.resources:
            yield from _resource_claims(path, resource)


def _resource_claims(path: Path, resource: Resource) -> Iterator[Claim]:
    names, where = resource.names, f"resources({resource.id})"
    of_resource = f"of resource {resource.id}"
    generated = f"generated for resource {resource.id}"

    def declared(space: str, label: str, what: str, place: str) -> Claim:
        return Claim(space, label, f"{what} {of_resource}", path, f"{where}.{place}")

    def made(space: str, label: str, what: str) -> Claim:
        return Claim(space, label, f"{what} {generated}", path, f"{where}.type_name", True)

    yield declared(TYPES, _type(names.type), "the type_name", "type_name")
    for name, what in names.generated_types():
        yield made(TYPES, _type(name), what)
    for name, what in names.generated_root_fields():
        yield made(ROOT_FIELDS, _root(name), what)
    yield declared(ROOT_FIELDS, _root(names.list_field), "the list_field", "list_field")
    fields = f"fields of {names.type}"
    for item in resource.items:
        label = f"field '{item.name}' of type {names.type}"
        yield declared(fields, label, f"data item {item.name}", f"items({item.name}).name")
    for rel in resource.relationships:
        label = f"field '{rel.name}' of type {names.type}"
        place = f"relationships({rel.name}).name"
        yield declared(fields, label, f"relationship {rel.name}", place)
    arguments = f"arguments of {names.verify_field}"
    argument = f"argument '{naming.CLAIMS_ARGUMENT}' of {names.verify_field}"
    yield made(arguments, argument, "the claims argument")
    argument = f"argument '{resource.key_item}' of {names.verify_field}"
    yield declared(arguments, argument, "the key_item", "key_item")


def _type(name: str) -> str:
    return f"type '{name}'"


def _root(name: str) -> str:
    return f"root field '{name}'"
