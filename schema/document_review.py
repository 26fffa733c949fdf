"""A department system's manifest reviewed, then registered: the one way the command
line and the admin mutation both take.

Every operation must be valid against the schema the registering system is served,
within the server's limits; for each purpose asked about, the items of it the policy
in force would not give that system in clear are reported, so a reviewer sees before
go-live what the system will get. The decisions are the policy's own
(`policies.access.item_access`, what `myAccess` answers), for the system; an item only
checkable (数据校核), masked, or given within a grant's scope only is reported too.

An operation that does not parse, does not validate, or is not the type its manifest
says refuses the whole manifest, naming it; so does a change without its operator and
reason, checked as for a grant. Then all of it is registered, or none.
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

from documents.manifest import ManifestOperation, read_manifest
from documents.store import DocumentStore, Owner, RegistrationRefused, Terms
from grants.model import accountability_problems
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


async def register_manifest(
    store: DocumentStore,
    system: Caller,
    manifest: str,
    *,
    purposes: Iterable[Purpose],
    shared_with: Iterable[Owner],
    operator: str,
    reason: str,
    schema: GraphQLSchema,
    meanings: Mapping[Coordinate, Meaning],
    policy: Policy,
    limits: Limits,
) -> Sequence[Reviewed]:
    """Each operation's policy report, once all are registered; RegistrationRefused,
    with nothing registered, otherwise."""
    problems = accountability_problems(operator, reason)
    if problems:
        raise RegistrationRefused("; ".join(problems))
    assert system.department is not None and system.system is not None
    owner = Owner(system.department, system.system)
    bound = frozenset(purposes)
    shares = frozenset(shared_with) - {owner}
    operations = read_manifest(manifest)
    now = datetime.datetime.now(datetime.UTC)
    asked = bound or list(Purpose)
    reviewed = review(operations, schema, meanings, policy, system, asked, now, limits)
    terms = Terms(bound or None, shares, operator.strip(), reason.strip())
    await store.register_all(
        owner, [(r.operation.text, r.operation.custom_id, r.name) for r in reviewed], terms
    )
    return reviewed
