"""Registering a department system's manifest, the one way the command line and the
admin mutation both take: the operator and reason checked as for a grant, the system
known, every operation reviewed (`documents.review`), then all registered or none."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence

from graphql import GraphQLSchema
from sqlalchemy.ext.asyncio import AsyncEngine

from documents.manifest import read_manifest
from documents.review import Reviewed, review
from documents.store import DocumentStore, Owner, RegistrationRefused, Terms
from grants.command_line import holders
from grants.model import accountability_problems
from policies import Caller, Policy, Purpose
from resolvers import Limits
from resolvers.coordinates import Meaning
from resolvers.plan import Coordinate
from settings import Settings


def _pair(owner: Owner) -> tuple[str, str]:
    return owner.department, owner.system


def owner_named(text: str) -> Owner:
    """`<department code>/<system id>`, as grants name a system."""
    department, slash, system = text.partition("/")
    if not slash or len(department) != 18 or not system or "/" in system:
        raise RegistrationRefused(
            f"{text!r} is not a system: '<department code>/<system id>', such as "
            "11410581005000006G/marriage-registry"
        )
    return Owner(department, system)


async def registering_system(engine: AsyncEngine, settings: Settings, owner: Owner) -> Caller:
    """The system as a caller: what the policy report decides for (an item a grant gives
    within a scope is reported as scoped). A system holding no key in force is refused:
    nothing could call its documents."""
    for holder in await holders(engine, settings):
        if (holder.department, holder.system, holder.in_force) == (*_pair(owner), True):
            return Caller(department=owner.department, system=owner.system)
    raise RegistrationRefused(f"system {owner} holds no API key in force")


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
