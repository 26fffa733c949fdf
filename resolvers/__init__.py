"""Resolvers and per-request DataLoaders: the one path every data field takes.

A request is planned and decided once, before execution (`execution.py`); resolvers
then only look decisions up, and loaders read permitted columns in batches. The
executor hands back a finished `ExecutionOutcome`: the response's parts and the field
accounts, records served and versions its audit record needs. Every room but `schema`
(which builds GraphQL over these resolvers) uses only what this module names.
"""

from resolvers.execution import Executor, GraphQLRequest, Limits
from resolvers.outcome import ExecutionOutcome, FieldAccount, RecordsServed
from resolvers.served import InForce, Pinned, PolicyInForce, Served

__all__ = [
    "ExecutionOutcome",
    "Executor",
    "FieldAccount",
    "GraphQLRequest",
    "InForce",
    "Limits",
    "Pinned",
    "PolicyInForce",
    "RecordsServed",
    "Served",
]
