"""Who may do what with an application (Art. 8), decided as the sharing policy is: from
the caller alone, as plain data, so that the schema only asks.

A consumer department's systems and people apply, withdraw, escalate and read their
own; the provider department's approvers (a person signed in with `provider_approver`)
answer and respond to escalations of those addressed to it; the coordination office (a
person signed in with `coordination_office`) reads every application and decides
escalations. Roles count only for a person a sign-on token names, verified.
"""

from __future__ import annotations

from policies.caller import Caller, Role


def signed_in_as(caller: Caller, role: Role) -> bool:
    return caller.person is not None and role in caller.roles


def may_apply(caller: Caller) -> bool:
    return not caller.is_public


def may_answer(caller: Caller, provider_code: str) -> bool:
    return signed_in_as(caller, Role.PROVIDER_APPROVER) and caller.department == provider_code


def may_read(caller: Caller, consumer_department: str, provider_code: str) -> bool:
    return (
        signed_in_as(caller, Role.COORDINATION_OFFICE)
        or caller.department == consumer_department
        or caller.department == provider_code
    )


def may_coordinate(caller: Caller) -> bool:
    return signed_in_as(caller, Role.COORDINATION_OFFICE)
