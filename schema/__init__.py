"""The GraphQL schema built from the catalog: types, inputs and root fields over the
resolvers, and the `catalog` browser. The catalog itself is the `catalog` room."""

from schema.build import build_schema

__all__ = ["build_schema"]
