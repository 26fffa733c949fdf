"""Grants: providers' approvals kept in the platform store, and the policy in force.

`policies/` decides from the rules it is given and knows nothing of the store; this
room makes, revokes and lists the store's grants (`python -m policies grant | grants |
revoke`), holds the one policy in force, made from the rule files and those grants
(`PolicySource`), and follows both while the server runs.
"""

from grants.follower import follow_grants
from grants.model import (
    Change,
    Grant,
    GrantChange,
    GrantRefused,
    KeyHolder,
    checked,
    consumer_problem,
    coverage_warnings,
    rules_of,
)
from grants.policy_source import PolicySource
from grants.store import GrantStore

__all__ = [
    "Change",
    "Grant",
    "GrantChange",
    "GrantRefused",
    "GrantStore",
    "KeyHolder",
    "PolicySource",
    "checked",
    "consumer_problem",
    "coverage_warnings",
    "follow_grants",
    "rules_of",
]
