"""Resolvers and per-request DataLoaders: the one path every data field takes.

A request is planned and decided once, before execution (`execution.py`); resolvers
then only look decisions up, and loaders read permitted columns in batches.
"""

from resolvers.execution import (
    ExecutionOutcome,
    Executor,
    GraphQLRequest,
    Limits,
    Pinned,
    PolicyInForce,
)
from resolvers.governance import Policy

__all__ = [
    "ExecutionOutcome",
    "Executor",
    "GraphQLRequest",
    "Limits",
    "Pinned",
    "Policy",
    "PolicyInForce",
]
