"""How a caller gets a data item it found in the catalog (Art. 8), answered from its
own view of the item (`policies.access`: the decision a query by it would get now,
for its declared purpose), so the catalog never tells a department to apply for what
it already reads, nor to query what it would be refused.

`how` is what to do next: `query_directly` (the item comes back clear, masked, or can
only be verified: `outcome` says which, and `scoped` whether only inside a grant's
scope), `declare_purpose`, `apply_to_provider` or `not_available`. Decisions are
cached per (caller, item, purpose) in the policy, so a search costs no rule scans.
"""

from __future__ import annotations

import datetime
from typing import Any

from catalog import DataItem, Department, Resource, ShareType
from errors import DenialReason
from policies import Caller, Policy, Purpose
from policies.access import Access, ItemAccess, item_access
from policies.decision import Outcome

PURPOSE_ZH = {
    Purpose.ADMINISTRATIVE_BASIS: "行政依据",
    Purpose.WORK_REFERENCE: "工作参考",
    Purpose.DATA_VERIFICATION: "数据校核",
    Purpose.BUSINESS_COLLABORATION: "业务协同",
}


def access(
    policy: Policy,
    caller: Caller,
    purpose: Purpose | None,
    now: datetime.datetime,
    provider: Department,
    resource: Resource,
    item: DataItem,
) -> dict[str, Any]:
    answer = item_access(policy, caller, resource, item, purpose, now)
    allowed = purposes(item)
    terms = {
        "conditions": item.conditions,
        "purposes": allowed,
        "legal_basis": item.legal_basis,
        "purpose": purpose.value if purpose else None,
        "basis": answer.basis,
        "scoped": bool(answer.scopes),
        "outside_scope": answer.outside_scope.value if answer.outside_scope else None,
    }
    where = {
        "list_field": resource.list_field,
        "lookup_field": resource.lookup_field,
        "field": item.name,
    }
    if answer.access is Access.VERIFY_ONLY:
        verify = _verify_only(resource, item, answer)
        return {**terms, **where, **verify, "available": True, "how": "query_directly"}
    if answer.access is not Access.DENIED:
        readable = _readable(provider, resource, item, answer)
        return {**terms, **where, **readable, "available": True, "how": "query_directly"}
    assert answer.denial is not None
    reason = answer.denial.reason
    if reason is DenialReason.PURPOSE_REQUIRED:
        named = " or ".join(allowed) or "one of the four purposes"
        advice = f"Shared on conditions: declare X-Purpose ({named}) and ask again."
        return {**terms, **where, **_denied("declare_purpose", advice), "available": True}
    if reason is DenialReason.APPLICATION_REQUIRED:
        assert purpose is not None  # without one, the policy asks for a purpose first
        advice = _application(provider, resource, item, purpose, allowed)
        return {**terms, **where, **_denied("apply_to_provider", advice), "available": True}
    if item.share_type is ShareType.NOT_SHARED:
        advice = f"Not shared; no rule or application can grant it. Legal basis: {item.legal_basis}"
    else:
        advice = "Shared with government departments on conditions; not open to the public."
    return {**terms, **_denied("not_available", advice), "available": False}


def purposes(item: DataItem) -> list[str]:
    """The catalog states purposes in the conditions text (限行政依据、业务协同用途)."""
    return [purpose.value for purpose, zh in PURPOSE_ZH.items() if zh in (item.conditions or "")]


def _denied(how: str, advice: str) -> dict[str, Any]:
    return {"how": how, "advice": advice, "outcome": Outcome.DENIED.value, "verify_field": None}


def _readable(
    provider: Department, resource: Resource, item: DataItem, answer: ItemAccess
) -> dict[str, Any]:
    query = f"{resource.list_field} {{ edges {{ node {{ {item.name} }} }} }}"
    advice = f"Query it directly: {query}, or {resource.lookup_field}({resource.key_item}: …)."
    if answer.access is Access.MASKED:
        assert answer.mask is not None
        advice += f" It comes back masked ({answer.mask.rule})."
        if item.share_type is ShareType.CONDITIONAL:
            advice += f" To read it clear, apply to {provider.name} ({provider.code})."
    if answer.scopes:
        scopes = " or ".join(scope.text for scope in answer.scopes)
        outside = (answer.outside_scope or Outcome.DENIED).value
        advice += (
            f" Clear only for records inside your grant's scope ({scopes}, compared with "
            f"your API key's attributes); {outside} for the others."
        )
    return {"advice": advice, "outcome": answer.access.value, "verify_field": None}


def _verify_only(resource: Resource, item: DataItem, answer: ItemAccess) -> dict[str, Any]:
    verify_field = resource.names.verify_field
    advice = (
        f"You may verify a value you hold, never read it: {verify_field}"
        f"({resource.key_item}: …, claims: {{{item.name}: …}}) answers true or false."
    )
    if answer.scopes:
        advice += " Only for records inside your grant's scope."
    return {"advice": advice, "outcome": "verify_only", "verify_field": verify_field}


def _application(
    provider: Department, resource: Resource, item: DataItem, purpose: Purpose, allowed: list[str]
) -> str:
    person = provider.responsible_person
    query = f"{resource.list_field} {{ edges {{ node {{ {item.name} }} }} }}"
    advice = (
        f"Apply through the platform to {provider.name} ({provider.code}; responsible: "
        f"{person.name}, {person.title}) for {resource.name_zh} ({resource.code}) with "
        f"purpose {' or '.join(allowed) or purpose.value}; conditions: {item.conditions} "
        f"Once granted, query it: {query}."
    )
    if allowed and purpose.value not in allowed:
        advice += f" Its conditions do not name {purpose.value}, the purpose you declared."
    return advice
