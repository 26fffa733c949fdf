"""The catalog (department declarations) and the GraphQL schema built from it."""

from schema.catalog import Catalog
from schema.loader import load_catalog

__all__ = ["Catalog", "load_catalog"]
