"""What a request is served by, from its start to its end: the policy and what one
catalog serves (its schemas, the meanings of their coordinates, its sources), read
once from the policy in force (`grants.PolicySource`, or `Pinned` where nothing
reloads)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from graphql import GraphQLSchema

from connectors import Connector
from policies import Policy
from resolvers.coordinates import Meaning
from resolvers.plan import Coordinate


@dataclass(frozen=True)
class Served:
    """What one catalog serves: its two schemas, what their coordinates mean, and the
    source each resource is read from."""

    schema: GraphQLSchema
    public_schema: GraphQLSchema
    meanings: Mapping[Coordinate, Meaning]
    connectors: Mapping[str, Connector]
    """By resource id."""
    catalog_version: str

    def schema_for(self, public: bool) -> GraphQLSchema:
        return self.public_schema if public else self.schema


class InForce(Protocol):
    """What one request is served by, from its start to its end."""

    @property
    def policy(self) -> Policy: ...

    @property
    def served(self) -> Served: ...


class PolicyInForce(Protocol):
    """Where a request finds what it is served by (`grants.PolicySource`)."""

    @property
    def current(self) -> InForce: ...


@dataclass(frozen=True)
class Pinned:
    """One policy and catalog for good, where nothing reloads (tests, benchmarks)."""

    policy: Policy
    served: Served

    @property
    def current(self) -> Pinned:
        return self
