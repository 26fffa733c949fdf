"""Grants: providers' approvals kept in the platform store, and the following of them.

`policies/` decides from the rules it is given and knows nothing of the store; this
room makes, revokes and lists the store's grants (`python -m policies grant | grants |
revoke`) and follows them while the server runs.
"""

from grants.model import (
    Grant,
    GrantRefused,
    KeyHolder,
    checked,
    consumer_problem,
    coverage_warnings,
    rules_of,
)
from grants.store import GrantStore

__all__ = [
    "Grant",
    "GrantRefused",
    "GrantStore",
    "KeyHolder",
    "checked",
    "consumer_problem",
    "coverage_warnings",
    "rules_of",
]
