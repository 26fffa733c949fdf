"""The audit tests' migrated stores, SQLite and PostgreSQL (with its roles)."""

from tests.audit.conftest import postgres_store, store

__all__ = ["postgres_store", "store"]
