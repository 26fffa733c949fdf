"""The rooms of the platform depend on each other one way only.

A room is a top-level package or module (`catalog/`, `policies/`, `server.py`, ...).
The catalog is the leaf every room reads, so it loads no GraphQL, HTTP or database
library; `schema` builds GraphQL over `resolvers`, which ask `policies` and
`connectors`, which know nothing of GraphQL. The walk reads every module's imports with
`ast`, at the top and inside functions alike, so a lazy import cannot hide an edge.
`policies` is the pure decision code: what lives in the platform store (the grants, the
verification quota) is in rooms of their own above it, and it imports none of them. A
room's `__main__.py` is a command line that wires rooms, like `server.py`: its imports
are not its room's, but nothing may import it. The store's migrations are scripts
Alembic runs by path, each a step of the store's history that may use the room whose
records it rewrites (0002 chains old audit records with `audit.chain`): they are a node
of their own, `store.migrations`, which nothing imports.
"""

from __future__ import annotations

import ast
import itertools
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import catalog
import resolvers
from settings import ROOT

HARNESSES = {"tests"}
"""Code that imports rooms to test them, not a room (bench, which measures them, is one)."""
MIGRATIONS = "store.migrations"

FRAMEWORKS = ("strawberry", "graphql", "starlette", "uvicorn")
CATALOG_NEVER = (*FRAMEWORKS, "httpx", "sqlalchemy")
STORE_BACKED = (
    "store",
    "grants",
    "quota",
    "audit",
    "auth",
    "documents",
    "inventory",
    "applications",
    "notifications",
)
"""The rooms that read or write the platform store."""
FORBIDDEN: Mapping[str, frozenset[str]] = {
    "policies": frozenset({"resolvers", "schema", "web", "server"}),
    "connectors": frozenset({"resolvers", "schema", "web", "server"}),
    "resolvers": frozenset({"schema", "web", "server"}),
}
CATALOG_MAY_IMPORT = frozenset({"errors"})
POLICIES_TAKE_FROM_ERRORS = frozenset({"ConfigurationError", "DenialReason"})
"""A decision is plain data: the reasons it names, never an error to send."""


@dataclass(frozen=True)
class Import:
    file: Path
    line: int
    module: str
    """The module imported, dotted, as absolute as the file says it."""
    name: str | None = None
    """What `from module import name` takes from it; None for `import module`."""

    @property
    def room(self) -> str:
        return self.module.split(".")[0]

    @property
    def where(self) -> str:
        what = f"{self.name} from {self.module}" if self.name else self.module
        return f"{self.file.relative_to(ROOT)}:{self.line} imports {what}"


def rooms() -> frozenset[str]:
    packages = {
        path.parent.name for path in ROOT.glob("*/__init__.py") if path.parent.name not in HARNESSES
    }
    return frozenset(packages | {path.stem for path in ROOT.glob("*.py")})


def modules() -> Iterator[Path]:
    for room in sorted(rooms()):
        if (ROOT / f"{room}.py").is_file():
            yield ROOT / f"{room}.py"
        else:
            yield from sorted((ROOT / room).rglob("*.py"))


def imports(path: Path) -> Iterator[Import]:
    package = path.relative_to(ROOT).parent.parts
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(path, node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else ()
            stem = ".".join((*base, *filter(None, [node.module])))
            for alias in node.names:
                # `from audit import __main__` names a module, not an attribute.
                sub = f"{stem}.{alias.name}"
                if _module_file(sub) is not None:
                    yield Import(path, node.lineno, sub)
                else:
                    yield Import(path, node.lineno, stem, alias.name)


def _module_file(module: str) -> Path | None:
    parts = module.split(".")
    for candidate in (
        ROOT.joinpath(*parts).with_suffix(".py"),
        ROOT.joinpath(*parts, "__init__.py"),
    ):
        if candidate.is_file():
            return candidate
    return None


def room_of(path: Path) -> str:
    parts = path.relative_to(ROOT).parts
    if parts[:2] == ("store", "migrations"):
        return MIGRATIONS
    return parts[0].removesuffix(".py")


def target_of(imported: Import) -> str:
    return MIGRATIONS if imported.module.startswith(MIGRATIONS) else imported.room


def is_entry_point(path: Path) -> bool:
    return path.name == "__main__.py"


def edges() -> dict[tuple[str, str], list[Import]]:
    """(importer room, imported room) -> the imports that make the edge."""
    known = rooms() | {MIGRATIONS}
    found: dict[tuple[str, str], list[Import]] = {}
    for path in modules():
        if is_entry_point(path):
            continue
        source = room_of(path)
        for imported in dict.fromkeys(imports(path)):
            target = target_of(imported)
            if target in known and target != source:
                found.setdefault((source, target), []).append(imported)
    return found


def first_cycle(graph: Mapping[str, set[str]]) -> list[str] | None:
    """A path a -> ... -> a, or None: depth first, the first back edge closes it."""
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return None
        for target in sorted(graph.get(node, ())):
            cycle = visit(target, [*path, node])
            if cycle:
                return cycle
        done.add(node)
        return None

    for start in sorted(graph):
        cycle = visit(start, [])
        if cycle:
            return cycle
    return None


def test_the_rooms_form_no_cycle() -> None:
    found = edges()
    graph: dict[str, set[str]] = {}
    for source, target in found:
        graph.setdefault(source, set()).add(target)
    cycle = first_cycle(graph)
    if cycle is not None:
        steps = itertools.pairwise(cycle)
        evidence = "".join(f"\n  {a} -> {b}: {found[a, b][0].where}" for a, b in steps)
        raise AssertionError("rooms import each other: " + " -> ".join(cycle) + evidence)


def test_rooms_below_the_graphql_build_never_import_it() -> None:
    wrong = [
        imported.where
        for (source, target), found in sorted(edges().items())
        if target in FORBIDDEN.get(source, ())
        for imported in found
    ]
    assert not wrong, "\n".join(wrong)


def wrong_imports(room: str, may_import: frozenset[str], never: tuple[str, ...]) -> list[str]:
    """Where `room` imports another room it may not, or a library it must not."""
    known = rooms()
    return [
        imported.where
        for path in modules()
        if room_of(path) == room
        for imported in imports(path)
        if (imported.room in known and imported.room not in {room, *may_import})
        or imported.room in never
    ]


def test_the_catalog_imports_only_errors_and_no_framework() -> None:
    wrong = wrong_imports("catalog", CATALOG_MAY_IMPORT, CATALOG_NEVER)
    assert not wrong, "\n".join(wrong)


def test_the_throttle_knows_no_room_graphql_or_http() -> None:
    """It is told who asks (department, system, address) and answers whether they may."""
    wrong = wrong_imports("throttle", frozenset(), (*FRAMEWORKS, "httpx"))
    assert not wrong, "\n".join(wrong)


def test_other_rooms_use_only_the_catalogs_public_face() -> None:
    public = set(catalog.__all__)
    wrong = [
        imported.where
        for path in modules()
        if room_of(path) != "catalog"
        for imported in imports(path)
        if imported.room == "catalog"
        and not (
            (imported.module == "catalog" and imported.name in public)
            or imported.module.removeprefix("catalog.") in public
        )
    ]
    assert not wrong, "\n".join(wrong)


def test_only_the_graphql_build_reaches_into_the_resolvers() -> None:
    """The edge takes a finished outcome from the executor: no room but `schema`, which
    builds GraphQL over the resolvers, reads the request context, the plan, the
    decisions or the accounting behind it."""
    public = set(resolvers.__all__)
    wrong = [
        imported.where
        for path in modules()
        if room_of(path) not in {"resolvers", "schema"}
        for imported in imports(path)
        if imported.room == "resolvers"
        and not (imported.module == "resolvers" and imported.name in public)
    ]
    assert not wrong, "\n".join(wrong)


def test_no_module_imports_a_command_line_or_a_migration() -> None:
    wrong = [
        imported.where
        for path in modules()
        for imported in imports(path)
        if imported.module.split(".")[-1] == "__main__" or target_of(imported) == MIGRATIONS
    ]
    assert not wrong, "\n".join(wrong)


def _loaded_by(statement: str, prefixes: tuple[str, ...]) -> list[str]:
    """The modules a fresh interpreter holds after `statement`, among `prefixes`."""
    script = (
        f"import sys\n{statement}\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {set(prefixes)!r}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded: list[str] = ast.literal_eval(done.stdout)
    return loaded


def test_catalog_connectors_and_policies_load_no_graphql_or_http_framework() -> None:
    assert _loaded_by("import catalog, connectors, policies", FRAMEWORKS) == []


def test_the_catalog_alone_loads_no_database_library() -> None:
    assert _loaded_by("import catalog", CATALOG_NEVER) == []


def test_policies_decide_in_plain_data_and_word_no_error() -> None:
    """`resolvers.denials` words a denial as the GraphQL error the caller gets; the
    policy room takes from `errors` only the reasons and the start-up error."""
    wrong = [
        imported.where
        for path in modules()
        if room_of(path) == "policies" and not is_entry_point(path)
        for imported in imports(path)
        if imported.room == "errors" and imported.name not in POLICIES_TAKE_FROM_ERRORS
    ]
    assert not wrong, "\n".join(wrong)


def test_policies_import_nothing_of_the_store() -> None:
    """The decisions are made from the rules they are given, never read from a database."""
    wrong = [
        imported.where
        for (source, target), found in sorted(edges().items())
        if source == "policies" and target in STORE_BACKED
        for imported in found
    ]
    assert not wrong, "\n".join(wrong)
    assert _loaded_by("import policies", ("sqlalchemy", *STORE_BACKED)) == []
