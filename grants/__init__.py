"""Grants: providers' approvals kept in the platform store, and what is in force.

`policies/` decides from the rules it is given and knows nothing of the store; this
room makes, revokes and lists the store's grants (`python -m policies grant | grants |
revoke`) and announces each change to the other instances (Redis), holds the one value
in force — the catalog, what it serves, and the policy made from it, the rule files and
those grants (`PolicySource`) — and follows all of them while the server runs.
"""

from grants.announcements import Announcements
from grants.follower import follow
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
from grants.policy_source import InForce, PolicySource, policy_in_force
from grants.store import GrantStore

__all__ = [
    "Announcements",
    "Change",
    "Grant",
    "GrantChange",
    "GrantRefused",
    "GrantStore",
    "InForce",
    "KeyHolder",
    "PolicySource",
    "checked",
    "consumer_problem",
    "coverage_warnings",
    "follow",
    "policy_in_force",
    "rules_of",
]
