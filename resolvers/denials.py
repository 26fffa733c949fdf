"""Word a policy's denial as the GraphQL error the caller gets: the one place its message
and `extensions` are made.

The policy answers in plain data (`policies.decision.Denial`); clients read what is
made of it here, so the messages, the extension names (camelCase, the GraphQL
convention) and their order are the platform's contract (README, "Error codes").
"""

from __future__ import annotations

from typing import Any

from errors import DenialReason, FieldDenied
from policies.decision import ApplicationRequest, Denial


def field_denied(denial: Denial) -> FieldDenied:
    """`extensions.field` is the field reported; a field resting on a denied item names
    that item in `restsOn` and carries the item's own reason."""
    details: dict[str, Any] = {}
    if denial.legal_basis is not None:
        details["legalBasis"] = denial.legal_basis
    if denial.application is not None:
        details["application"] = application_extension(denial.application)
    message = _message(denial)
    if denial.resting_field is None:
        return FieldDenied(denial.reason, message, field=denial.field, **details)
    return FieldDenied(
        denial.reason,
        f"{denial.resting_field} rests on {denial.field}: {message}",
        field=denial.resting_field,
        restsOn=denial.field,
        **details,
    )


def _message(denial: Denial) -> str:
    item = f"{denial.field} ({denial.name_zh})"
    match denial.reason:
        case DenialReason.NOT_SHARED:
            return f"{item} is not shared; legal basis: {denial.legal_basis}"
        case DenialReason.APPLICATION_REQUIRED:
            application = denial.application
            assert application is not None  # a Denial is made with one for this reason
            return (
                f"{item} is shared on conditions: apply to {application.provider_name} for "
                f"{application.resource_name_zh} ({application.resource_code}) "
                f"with purpose {application.purpose.value}"
            )
        case DenialReason.PURPOSE_REQUIRED:
            return f"{item} is shared on conditions: declare a purpose in X-Purpose"
        case DenialReason.NOT_OPEN:
            return (
                f"{denial.field} is not open to the public: present a department system's API key"
            )
        case DenialReason.MASKED_ONLY:
            # Filtering, ordering or counting on a masked item would reveal it bit by bit.
            return (
                f"{item} is shared with you masked: it cannot be filtered, ordered, counted "
                "or paged on"
            )
        case DenialReason.NOT_VERIFIABLE:
            return f"{item} cannot be verified by you: it needs a grant for data_verification"
        case DenialReason.OUT_OF_SCOPE:
            return f"{item} is withheld for records outside the scope of your grant"


def application_extension(application: ApplicationRequest) -> dict[str, Any]:
    """An application as clients read it: in an APPLICATION_REQUIRED error and in
    `myAccess`, with the same names, so a form is filled from either."""
    return {
        "resource": application.resource_id,
        "resourceCode": application.resource_code,
        "resourceName": application.resource_name_zh,
        "provider": application.provider_name,
        "providerCode": application.provider_code,
        "fields": list(application.items),
        "purpose": application.purpose.value,
        "conditions": application.conditions,
    }
