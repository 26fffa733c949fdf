"""Field-level sharing decisions: the catalog's share type as ceiling, Casbin rules within it.

Knows nothing of HTTP or GraphQL execution: it answers for a caller, an item, a purpose.
Nor of the platform store: the grants kept there, and the one policy in force made from
the rule files and them (`grants.PolicySource`), live in `grants/`.
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
