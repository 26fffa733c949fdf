"""What governing a document takes that no caller changes, made once per document.

Department systems send the same documents (persisted queries), each from many
consumers. Governing one for a caller rests on its decisions, and on much that no
caller changes: the plan, what each coordinate means, each connection's arguments
translated, and the projections its decisions lead to. A template holds that part,
made once per document, operation, variables and schema (the public's or the
departments') within one value in force, so a new caller makes only its own
decisions (`governance.govern`); and, compiled from the plan, the shape of the
response (`compiled.py`), which every caller's decisions fill. It holds no decision,
so it never outlives one: a grant still starts and ends at its exact time, and a
reload starts afresh.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from graphql import GraphQLSchema

from catalog import naming
from resolvers.compiled import Program, compile_plan
from resolvers.connections import ConnectionRead, connection_reads
from resolvers.coordinates import ItemField, Meaning, RelationshipField, VerifyField
from resolvers.plan import Coordinate, Plan, Selection
from resolvers.projection import Projector


@dataclass(frozen=True)
class Step:
    """One coordinate the plan touches and the catalog gives a meaning."""

    coordinate: Coordinate
    meaning: Meaning
    selections: list[Selection]
    reads: tuple[ConnectionRead, ...]
    """Its connection selections, translated; none for a field that is no connection."""
    field_name: str
    """What a denial of a field resting on other items names (`_joined`)."""


@dataclass(frozen=True)
class Template:
    plan: Plan
    steps: tuple[Step, ...]
    """In plan order: denials are reported in the order the document touches them."""
    projector: Projector
    program: Program | str
    """The response's shape compiled (`compiled.py`), or why graphql-core executes it."""


def template_of(
    plan: Plan, meanings: Mapping[Coordinate, Meaning], schema: GraphQLSchema
) -> Template:
    """`schema`: the one `plan` was made on (the public's or the departments')."""
    steps = tuple(
        Step(
            coordinate,
            meaning,
            selections,
            connection_reads(meaning, selections),
            _field_name(coordinate, meaning),
        )
        for coordinate, selections in plan.touched.items()
        if (meaning := meanings.get(coordinate)) is not None
    )
    projector = Projector([(step.coordinate, step.meaning) for step in steps])
    return Template(plan, steps, projector, compile_plan(plan, meanings, schema))


def _field_name(coordinate: Coordinate, meaning: Meaning) -> str:
    if isinstance(meaning, RelationshipField):
        return f"{meaning.resource.type_name}.{meaning.relationship.name}"
    if isinstance(meaning, VerifyField):
        return f"{naming.QUERY}.{meaning.resource.names.verify_field}"
    if isinstance(meaning, ItemField):
        return f"{coordinate[0]}.{coordinate[1]}"
    return f"{naming.QUERY}.{coordinate[1]}"
