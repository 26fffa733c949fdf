"""A manifest reviewed before it is registered: every operation valid against the
schema the registering system is served, and, per purpose, the items of it the policy
in force would deny that system — so a reviewer sees before go-live what the system
will get.

The decisions are the policy's own (`policies.access.item_access`, what `myAccess`
answers), for the registering system with its key's attributes; an item that is only
checkable (数据校核) or withheld outside a grant's scope is reported too. An operation
that does not parse, does not validate, or is not the type its manifest says refuses
the whole manifest.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    parse,
    specified_rules,
    validate,
    visit,
)

from documents.manifest import ManifestOperation
from documents.store import RegistrationRefused
from policies import Caller, Policy, Purpose
from policies.access import Access, item_access
from resolvers import Limits
from resolvers.coordinates import ItemField, Meaning
from resolvers.denials import field_denied
from resolvers.plan import Coordinate


@dataclass(frozen=True)
class Withheld:
    """One item an operation selects that a query by the system would not get in clear."""

    resource: str
    item: str
    access: Access
    code: str | None
    message: str | None


@dataclass(frozen=True)
class PurposeReport:
    purpose: Purpose
    withheld: tuple[Withheld, ...]


@dataclass(frozen=True)
class Reviewed:
    operation: ManifestOperation
    name: str | None
    operation_type: str
    report: tuple[PurposeReport, ...]


def review(
    operations: Sequence[ManifestOperation],
    schema: GraphQLSchema,
    meanings: Mapping[Coordinate, Meaning],
    policy: Policy,
    system: Caller,
    purposes: Iterable[Purpose],
    now: datetime.datetime,
    limits: Limits,
) -> list[Reviewed]:
    """Each operation's report; RegistrationRefused, naming the operation, for the first
    that cannot run: one the server's limits (tokens, depth, aliases) would refuse
    included."""
    asked = tuple(purposes)
    rules = (*specified_rules, *limits.rules)
    reviewed = []
    for operation in operations:
        document = _valid(operation, schema, rules, limits.max_tokens)
        [definition] = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        kind = definition.operation.value
        if operation.operation_type is not None and operation.operation_type != kind:
            raise RegistrationRefused(
                f"{operation.label}: the manifest says {operation.operation_type}, "
                f"the text is a {kind}"
            )
        items = _items(document, schema, meanings)
        report = tuple(
            PurposeReport(purpose, _withheld(items, policy, system, purpose, now))
            for purpose in asked
        )
        name = definition.name.value if definition.name else operation.name
        reviewed.append(Reviewed(operation, name, kind, report))
    return reviewed


def _valid(
    operation: ManifestOperation,
    schema: GraphQLSchema,
    rules: Sequence[type[ASTValidationRule]],
    max_tokens: int,
) -> DocumentNode:
    try:
        document = parse(operation.text, no_location=True, max_tokens=max_tokens)
    except GraphQLError as error:
        raise RegistrationRefused(f"{operation.label}: does not parse: {error.message}") from None
    errors = validate(schema, document, rules)
    if errors:
        raise RegistrationRefused(f"{operation.label}: does not validate: {errors[0].message}")
    count = sum(isinstance(d, OperationDefinitionNode) for d in document.definitions)
    if count != 1:
        raise RegistrationRefused(f"{operation.label}: holds {count} operations; register one each")
    return document


def _items(
    document: DocumentNode, schema: GraphQLSchema, meanings: Mapping[Coordinate, Meaning]
) -> list[ItemField]:
    """The data items the document selects, in the order first met, each once."""
    type_info = TypeInfo(schema)
    found: dict[Coordinate, ItemField] = {}

    class Fields(Visitor):
        def enter_field(self, node: FieldNode, *_: object) -> None:
            parent = type_info.get_parent_type()
            if parent is None:
                return
            meaning = meanings.get((parent.name, node.name.value))
            if isinstance(meaning, ItemField):
                found.setdefault((parent.name, node.name.value), meaning)

    visit(document, TypeInfoVisitor(type_info, Fields()))
    return list(found.values())


def _withheld(
    items: Sequence[ItemField],
    policy: Policy,
    system: Caller,
    purpose: Purpose,
    now: datetime.datetime,
) -> tuple[Withheld, ...]:
    withheld = []
    for meaning in items:
        answer = item_access(policy, system, meaning.resource, meaning.item, purpose, now)
        if answer.access is Access.CLEAR and not answer.scopes:
            continue
        denial = answer.denial
        withheld.append(
            Withheld(
                meaning.resource.id,
                meaning.item.name,
                answer.access,
                denial.reason.value if denial is not None else None,
                field_denied(denial).message if denial is not None else None,
            )
        )
    return tuple(withheld)
