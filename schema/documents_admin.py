"""The policy admins' schema: register a department system's manifest, and list what
a system has registered. Served only to a person signed in with the role
`policy_admin` (`web.admin`); every other caller's schema has none of it.

A registration is the command line's (`documents.registration`): reviewed against the
departments' schema and the policy in force, all or nothing, with the signed-in person
as its operator; its answer is the policy report, typed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncEngine

from documents import TrustedDocuments
from documents.registration import owner_named, registering_system
from documents.store import Registered, RegistrationRefused
from errors import ManifestRefused
from policies import Caller, Policy, Purpose
from resolvers import Limits, Served
from schema.document_review import Reviewed, register_manifest
from settings import Settings

ADMIN_FIELDS = frozenset({"registerDocuments", "registeredDocuments"})
"""The admin schema's root fields: an operation selecting one is the admins'."""


@dataclass(frozen=True)
class AdminContext:
    caller: Caller
    trusted: TrustedDocuments
    engine: AsyncEngine
    settings: Settings
    policy: Policy
    served: Served
    limits: Limits


@strawberry.type(description="An item an operation selects that the system would not get in clear.")
class WithheldItem:
    resource: str
    item: str
    access: str = strawberry.field(description="masked, verify_only or denied; clear when scoped.")
    code: str | None = strawberry.field(description="When denied: the error code a query gets.")
    message: str | None


@strawberry.type(description="What the policy in force withholds for one purpose.")
class PurposeReport:
    purpose: str
    withheld: list[WithheldItem]


@strawberry.type(description="One operation registered, with its policy report.")
class RegisteredOperation:
    id: str = strawberry.field(
        description="What a call names it by: `sha256:<hex>` or the manifest's id."
    )
    name: str | None
    operationType: str
    report: list[PurposeReport]


@strawberry.type(description="A manifest registered for a system.")
class DocumentRegistration:
    system: str
    operations: list[RegisteredOperation]


@strawberry.type(description="A document a system may call.")
class RegisteredDocument:
    id: str
    name: str | None
    operationType: str | None
    purposes: list[str] | None = strawberry.field(
        description="The purposes it is bound to; null: any."
    )
    sharedWith: list[str]


async def _registered_documents(
    info: strawberry.Info[AdminContext, Any], system: str
) -> list[RegisteredDocument]:
    try:
        owner = owner_named(system)
    except RegistrationRefused as refused:
        raise ManifestRefused(str(refused)) from None
    return [
        _listed(document, shares)
        for document, shares in await info.context.trusted.store.listed(owner)
    ]


async def _register_documents(
    info: strawberry.Info[AdminContext, Any],
    system: str,
    manifest: str,
    reason: str,
    purposes: list[str] | None = None,
    sharedWith: list[str] | None = None,
) -> DocumentRegistration:
    context = info.context
    try:
        owner = owner_named(system)
        bound = [_purpose(p) for p in purposes or []]
        shares = [owner_named(shared) for shared in sharedWith or []]
        registering = await registering_system(context.engine, context.settings, owner)
        reviewed = await register_manifest(
            context.trusted.store,
            registering,
            manifest,
            purposes=bound,
            shared_with=shares,
            operator=context.caller.person or "",
            reason=reason,
            schema=context.served.schema,
            meanings=context.served.meanings,
            policy=context.policy,
            limits=context.limits,
        )
    except RegistrationRefused as refused:
        raise ManifestRefused(str(refused)) from None
    await context.trusted.announce()
    return DocumentRegistration(system=str(owner), operations=[_operation(r) for r in reviewed])


@strawberry.type(name="Query")
class AdminQuery:
    registeredDocuments: list[RegisteredDocument] = strawberry.field(
        resolver=_registered_documents,
        description="The documents a system registered (`<department code>/<system id>`).",
    )


@strawberry.type(name="Mutation")
class AdminMutation:
    registerDocuments: DocumentRegistration = strawberry.mutation(
        resolver=_register_documents,
        description=(
            "Register a system's manifest (Apollo's apollo-persisted-query-manifest or "
            "Relay's id → text JSON, as a string), all operations or none, and report per "
            "purpose what the policy in force withholds from the system; the signed-in "
            "person is its operator."
        ),
    )


ADMIN_SCHEMA = strawberry.Schema(query=AdminQuery, mutation=AdminMutation)


def _purpose(text: str) -> Purpose:
    try:
        return Purpose(text)
    except ValueError:
        known = ", ".join(p.value for p in Purpose)
        raise RegistrationRefused(f"purpose {text!r} is not one of {known}") from None


def _operation(reviewed: Reviewed) -> RegisteredOperation:
    operation = reviewed.operation
    return RegisteredOperation(
        id=operation.document_id,
        name=reviewed.name,
        operationType=reviewed.operation_type,
        report=[
            PurposeReport(
                purpose=report.purpose.value,
                withheld=[
                    WithheldItem(
                        resource=item.resource,
                        item=item.item,
                        access=item.access.value,
                        code=item.code,
                        message=item.message,
                    )
                    for item in report.withheld
                ],
            )
            for report in reviewed.report
        ],
    )


def _listed(document: Registered, shares: list[Any]) -> RegisteredDocument:
    return RegisteredDocument(
        id=document.document_id,
        name=document.name,
        operationType=document.operation_type,
        purposes=sorted(document.purposes) if document.purposes is not None else None,
        sharedWith=[str(shared) for shared in shares],
    )
