"""A document's plan compiled into the shape of its response, once per template.

graphql-core resolves every field of every row through a resolver call, and every
async one through a task of its own: at N=100 that was most of a request. Once a
document is planned, the shape of its response is known: which records each level
reads, through which loader, and which key of each object holds which item. A
`Program` holds that shape, so a request can read its batches level by level and
build the response straight from the records (`shaping.py`), with the same reads,
projections, scopes and masks, decided by the same governance.

Only what the program knows how to shape is compiled: root lists and lookups, their
items and relationships, and the connection plumbing (edges, node, cursor, pageInfo,
totalCount). Anything else — the catalog, myAccess, verification, `__typename` or
introspection, an unknown coordinate — leaves the document to graphql-core, decided
here, once: `compile_plan` answers with the reason instead of a program.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLObjectType, GraphQLScalarType, GraphQLSchema, Undefined, get_named_type

from catalog import Cardinality, DataItem, Resource, naming
from resolvers.coordinates import ItemField, ListField, LookupField, Meaning, RelationshipField
from resolvers.plan import Coordinate, Plan, Selection


class Unshaped(Exception):
    """Raised while shaping when a value is one graphql-core would report as an error
    (an exception as a value, a value its scalar cannot serialize): the request is
    answered by graphql-core instead, so the error is reported as it always is."""


@dataclass(frozen=True)
class Leaf:
    """An item of a record, under its response key."""

    key: str
    name: str
    """The item's name: what the record holds its value by."""
    serialize: Callable[[Any], Any]
    text: bool
    """A String field: a `str` value is served as it is, without a call."""


@dataclass(frozen=True)
class Join:
    """A relationship of a record: one record (`node`) or a connection (`connection`)."""

    key: str
    coordinate: Coordinate
    from_column: str
    target: Resource
    match: DataItem
    node: Node | None
    connection: Connection | None


@dataclass(frozen=True)
class Node:
    """A record's object: its response keys in order, then its items and relationships
    apart, so shaping a record makes no choice per key."""

    keys: tuple[str, ...]
    leaves: tuple[Leaf, ...]
    joins: tuple[Join, ...]


@dataclass(frozen=True)
class EdgeField:
    key: str
    node: Node | None
    """None: the edge's cursor."""


@dataclass(frozen=True)
class Part:
    """One response key of a connection object."""

    key: str
    name: str
    """`edges`, `pageInfo` or `totalCount`."""
    edge: tuple[EdgeField, ...] = ()
    page_info: tuple[tuple[str, str], ...] = ()
    """(response key, PageInfo field name)."""


@dataclass(frozen=True)
class Connection:
    selection: Selection
    """The connection's own selection: its path finds its query, its arguments its page."""
    resource: Resource
    parts: tuple[Part, ...]
    counted: bool
    """This selection asks for totalCount."""


@dataclass(frozen=True)
class Root:
    key: str
    coordinate: Coordinate
    resource: Resource
    selection: Selection
    node: Node | None
    """A lookup's record."""
    connection: Connection | None
    """A list's connection."""
    match: DataItem | None = None
    """The item a lookup matches its argument with."""


@dataclass(frozen=True)
class Program:
    roots: tuple[Root, ...]


class _Refused(Exception):
    """What the program cannot shape: the document is left to graphql-core."""


def compile_plan(
    plan: Plan, meanings: Mapping[Coordinate, Meaning], schema: GraphQLSchema
) -> Program | str:
    """The program of `plan`, or why there is none (graphql-core then executes it)."""
    if plan.meta:
        return f"selects {', '.join(sorted(plan.meta))}"
    try:
        return Program(tuple(_root(s, meanings, schema) for s in plan.root.values()))
    except _Refused as refused:
        return str(refused)
    except Exception as error:  # a shape not foreseen: graphql-core answers, never wrongly
        return f"not compiled: {type(error).__name__}"


def _root(
    selection: Selection, meanings: Mapping[Coordinate, Meaning], schema: GraphQLSchema
) -> Root:
    meaning = meanings.get(selection.coordinate)
    compiler = _Compiler(meanings, schema)
    if isinstance(meaning, ListField):
        connection = compiler.connection(selection, meaning.resource)
        return Root(
            selection.key, selection.coordinate, meaning.resource, selection, None, connection
        )
    if isinstance(meaning, LookupField):
        resource = meaning.resource
        node = compiler.node(selection, resource)
        match = resource.item(resource.key_item)
        return Root(selection.key, selection.coordinate, resource, selection, node, None, match)
    raise _Refused(f"root field {'.'.join(selection.coordinate)}")


@dataclass(frozen=True)
class _Compiler:
    meanings: Mapping[Coordinate, Meaning]
    schema: GraphQLSchema

    def node(self, selection: Selection, resource: Resource) -> Node:
        children: list[Leaf | Join] = []
        for child in selection.children.values():
            meaning = self.meanings.get(child.coordinate)
            if child.coordinate[0] != resource.type_name:
                raise _Refused(f"{'.'.join(child.coordinate)} on {resource.type_name}")
            if isinstance(meaning, ItemField) and not child.children:
                children.append(self.leaf(child, meaning))
            elif isinstance(meaning, RelationshipField):
                children.append(self.join(child, meaning))
            else:
                raise _Refused(f"field {'.'.join(child.coordinate)}")
        leaves = tuple(child for child in children if isinstance(child, Leaf))
        joins = tuple(child for child in children if isinstance(child, Join))
        return Node(tuple(child.key for child in children), leaves, joins)

    def leaf(self, selection: Selection, meaning: ItemField) -> Leaf:
        type_name, name = selection.coordinate
        parent = self.schema.type_map.get(type_name)
        if not isinstance(parent, GraphQLObjectType) or name not in parent.fields:
            raise _Refused(f"field {type_name}.{name} is not in the schema")
        scalar = get_named_type(parent.fields[name].type)
        if not isinstance(scalar, GraphQLScalarType):
            raise _Refused(f"field {type_name}.{name} is no scalar")
        return Leaf(selection.key, name, _checked(scalar), scalar.name == "String")

    def join(self, selection: Selection, meaning: RelationshipField) -> Join:
        many = meaning.relationship.cardinality is Cardinality.MANY
        target = meaning.target
        return Join(
            selection.key,
            selection.coordinate,
            meaning.from_item.column,
            target,
            meaning.to_item,
            None if many else self.node(selection, target),
            self.connection(selection, target) if many else None,
        )

    def connection(self, selection: Selection, resource: Resource) -> Connection:
        names = resource.names
        parts: list[Part] = []
        for child in selection.children.values():
            owner, name = child.coordinate
            if owner != names.connection:
                raise _Refused(f"{owner}.{name} in a connection of {resource.type_name}")
            if name == "edges":
                parts.append(Part(child.key, name, edge=self.edge(child, resource)))
            elif name == "pageInfo":
                parts.append(Part(child.key, name, page_info=_page_info(child)))
            elif name == "totalCount":
                parts.append(Part(child.key, name))
            else:
                raise _Refused(f"field {owner}.{name}")
        counted = any(part.name == "totalCount" for part in parts)
        return Connection(selection, resource, tuple(parts), counted)

    def edge(self, selection: Selection, resource: Resource) -> tuple[EdgeField, ...]:
        fields = []
        for child in selection.children.values():
            owner, name = child.coordinate
            if owner != resource.names.edge or name not in ("node", "cursor"):
                raise _Refused(f"field {owner}.{name}")
            node = self.node(child, resource) if name == "node" else None
            fields.append(EdgeField(child.key, node))
        return tuple(fields)


_PAGE_INFO = ("hasNextPage", "hasPreviousPage", "startCursor", "endCursor")


def _page_info(selection: Selection) -> tuple[tuple[str, str], ...]:
    fields = []
    for child in selection.children.values():
        owner, name = child.coordinate
        if owner != naming.PAGE_INFO or name not in _PAGE_INFO:
            raise _Refused(f"field {owner}.{name}")
        fields.append((child.key, name))
    return tuple(fields)


def _checked(scalar: GraphQLScalarType) -> Callable[[Any], Any]:
    """The scalar's serializer, raising `Unshaped` where graphql-core would report an
    error instead of a value."""
    serialize = scalar.serialize

    def checked(value: Any) -> Any:
        if isinstance(value, Exception):
            raise Unshaped(type(value).__name__)
        try:
            serialized = serialize(value)
        except Exception as error:
            raise Unshaped(scalar.name) from error
        if serialized is None or serialized is Undefined:
            raise Unshaped(scalar.name)
        return serialized

    return checked
