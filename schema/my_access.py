"""The `myAccess` root field: a caller's own answer to "what may I see of this resource,
and why" — per data item, the access a query by it gets now for a purpose, the rule
line or grant that gives it, while which rules hold, and for a denied item the error
a query would get and the application it would take (`policies.access`).

It reads no department's database and shows only what the caller's schema holds (the
public sees the items it may query, nothing of what is withheld from it). `purpose`
asks for another purpose than the declared one (X-Purpose): a question about the
caller's own access, answered without serving any data.
"""

from __future__ import annotations

import datetime
import enum
from typing import Annotated, Any, cast

import strawberry
from strawberry.types.field import StrawberryField

from catalog import Resource, Shown, naming
from policies import Purpose
from policies.access import ItemAccess, item_access
from resolvers.context import RequestContext
from resolvers.denials import application_extension, field_denied


@strawberry.type(
    name=naming.APPLICATION_REQUEST,
    description=(
        "What to apply to the provider for (Art. 8): the same as the `application` of an "
        "APPLICATION_REQUIRED error."
    ),
)
class ApplicationRequestType:
    resource: str = strawberry.field(description="The resource's id, as rules name it.")
    resourceCode: str = strawberry.field(description="信息资源代码")
    resourceName: str
    provider: str = strawberry.field(description="The provider department's name.")
    providerCode: str = strawberry.field(description="Its unified social credit code.")
    fields: list[str] = strawberry.field(description="The items to apply for, by field name.")
    purpose: str
    conditions: str | None = strawberry.field(description="共享条件, as the provider states them.")


@strawberry.type(
    name=naming.ITEM_ACCESS,
    description="What a query by you gets of one data item now, for the purpose asked about.",
)
class ItemAccessType:
    item: str = strawberry.field(description="The field that serves it.")
    nameZh: str
    access: str = strawberry.field(
        description=(
            "clear, masked, verify_only (only the verify… field can check a value you "
            "hold) or denied."
        )
    )
    basis: str = strawberry.field(
        description=(
            "What decides it: the catalog's share type (`catalog:…`), a rule line "
            "(`file.csv:12`) or a grant (`grant:7`); ' | ' between one per scope."
        )
    )
    validFrom: datetime.datetime | None = strawberry.field(
        description="Since when the rules or grants it rests on hold; null: always."
    )
    validUntil: datetime.datetime | None = strawberry.field(
        description="Until when (exclusive); null: no end is set."
    )
    scoped: bool = strawberry.field(
        description="Whether `access` holds only for records inside your grant's scope."
    )
    scopes: list[str] = strawberry.field(
        description="The scopes, compared with your API key's attributes."
    )
    outsideScope: str | None = strawberry.field(
        description="When scoped: the outcome for the other records."
    )
    mask: str | None = strawberry.field(description="When masked: how the value is shown.")
    verifiable: bool = strawberry.field(
        description=(
            "Whether the verify… field answers for a value you hold (in your grant's "
            "scope, when scoped)."
        )
    )
    code: str | None = strawberry.field(
        description="When denied: the error code a query gets (README, Error codes)."
    )
    message: str | None = strawberry.field(description="When denied: that error's message.")
    application: ApplicationRequestType | None = strawberry.field(
        description="When APPLICATION_REQUIRED: what to apply for."
    )


def my_access_field(shown: Shown) -> StrawberryField:
    """The field over the resources `shown` holds; their ids are an enum, so a typo fails
    validation like any unknown name, suggesting only names this schema has."""
    resources = {resource.id: resource for resource in shown.resources}
    resource_ids = _enum(
        naming.RESOURCE_ID, list(resources), "A resource's id, as rules and grants name it."
    )

    def resolve(info: Any, resource: Any, purpose: Any = None) -> list[dict[str, Any]]:
        context: RequestContext = info.context
        asked = resources[resource.value]
        declared = Purpose(purpose.value) if purpose is not None else context.purpose
        now = datetime.datetime.now(datetime.UTC)
        return [
            _answer(asked, item_access(context.policy, context.caller, asked, item, declared, now))
            for item in shown.items[asked.id]
        ]

    # Strawberry reads argument types from annotations; these types exist only now.
    resolve.__annotations__ = {
        "info": strawberry.Info[RequestContext, Any],
        "resource": Annotated[
            resource_ids, strawberry.argument(description="The resource to ask about.")
        ],
        "purpose": Annotated[
            _PURPOSES | None,
            strawberry.argument(
                description="The purpose to ask about; without it, the declared X-Purpose."
            ),
        ],
        "return": list[ItemAccessType],
    }
    resolve.__name__ = "resolve_my_access"
    return strawberry.field(
        resolve,
        name=naming.MY_ACCESS_FIELD,
        description=(
            "What you may see of a resource, item by item, and why: your access now for a "
            "purpose, its basis and window, and for a denied item what to apply for."
        ),
    )


def _enum(name: str, values: list[str], description: str) -> Any:
    """A GraphQL enum whose values are `values` (names already valid in GraphQL)."""
    members = cast(type[enum.Enum], enum.Enum(name, {value: value for value in values}))
    return strawberry.enum(members, name=name, description=description)


_PURPOSES = _enum(
    naming.PURPOSE,
    [purpose.value for purpose in Purpose],
    "The purposes a consumer declares (Art. 8): X-Purpose takes the same.",
)


def _answer(resource: Resource, answer: ItemAccess) -> dict[str, Any]:
    denial = answer.denial
    return {
        "item": answer.item.name,
        "nameZh": answer.item.name_zh,
        "access": answer.access.value,
        "basis": answer.basis,
        "validFrom": answer.valid_from,
        "validUntil": answer.valid_until,
        "scoped": bool(answer.scopes),
        "scopes": [scope.text for scope in answer.scopes],
        "outsideScope": answer.outside_scope.value if answer.outside_scope else None,
        "mask": answer.mask.rule if answer.mask is not None else None,
        "verifiable": answer.verifiable,
        "code": denial.reason.value if denial is not None else None,
        "message": field_denied(denial).message if denial is not None else None,
        "application": (
            application_extension(denial.application) if denial and denial.application else None
        ),
    }
