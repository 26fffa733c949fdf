"""The department system a manifest is registered for, named as grants name it, and
known to the platform: what the command line and the admin mutation both ask first
(`schema.document_review` registers the manifest)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from documents.store import Owner, RegistrationRefused
from grants.command_line import holders
from policies import Caller
from settings import Settings


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
        if holder.in_force and Owner(holder.department, holder.system) == owner:
            return Caller(department=owner.department, system=owner.system)
    raise RegistrationRefused(f"system {owner} holds no API key in force")
