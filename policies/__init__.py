"""Field-level sharing decisions: the catalog's share type as ceiling, Casbin rules within it.

Knows nothing of HTTP or GraphQL execution: it answers for a caller, an item, a purpose.
Nor of the platform store: the grants kept there, and the one policy in force made from
the rule files and them (`grants.PolicySource`), live in `grants/`. The policy admin's
tools (`check`, `explain`, `expectations`, `diff`, `replay`) read rules and decisions
as plain data; `python -m policies` hands them what the store holds.
"""

from policies.caller import PUBLIC, Caller, Purpose
from policies.decision import ApplicationRequest, Decision, Denial, Outcome
from policies.engine import Policy, SharingPolicy
from policies.rules import RuleSet, load_rules

__all__ = [
    "PUBLIC",
    "ApplicationRequest",
    "Caller",
    "Decision",
    "Denial",
    "Outcome",
    "Policy",
    "Purpose",
    "RuleSet",
    "SharingPolicy",
    "load_rules",
]
