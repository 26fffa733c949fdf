"""The platform's own store (API keys, audit records), migrated by Alembic.

SQLite by default; any SQLAlchemy async URL in production. Department data never
lives here.
"""

from store.engine import store_engine, thread_engine
from store.errors import StoreUnavailable
from store.migrate import upgrade
from store.tables import api_keys, audit_records, metadata

__all__ = [
    "StoreUnavailable",
    "api_keys",
    "audit_records",
    "metadata",
    "store_engine",
    "thread_engine",
    "upgrade",
]
