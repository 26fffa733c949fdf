"""Department data sources. A connector knows nothing of GraphQL or policy: it receives
a projection, keys and a page, and who asks and why, and returns rows. Which connector
reads a source is its kind's (`SOURCE_KINDS`), found by the scheme of its URL: a SQL
database, a department's REST API (`http://`, `https://`), another sharing platform
(`graphql+http://`, `graphql+https://`), or a folder of file drops (`file://`) read
through its staging database."""

from connectors._drop_kinds import DROP_KINDS, DropOptions
from connectors._sql_kinds import SQL_KINDS, SqlOptions
from connectors.base import (
    And,
    Comparison,
    Computed,
    Connector,
    Flag,
    Not,
    Operator,
    Or,
    OrderKey,
    Page,
    Predicate,
    Read,
    ReadContext,
    Row,
)
from connectors.capabilities import (
    SUPPORTED,
    Capabilities,
    Computing,
    Pagination,
    Supported,
    require_capabilities,
)
from connectors.circuit import CircuitOptions, CircuitState
from connectors.guarded import GuardedConnector, SourceStats
from connectors.kinds import SourceKind, SourceKinds, SourceOptions, SourceSetting
from connectors.memory import MemoryConnector
from connectors.remote import REMOTE_KINDS, RemoteConnector, RemoteOptions
from connectors.rest import REST_KINDS, RestConnector, RestOptions
from connectors.retries import RetryOptions
from connectors.sql import SqlConnector
from connectors.sqlite import SqliteConnector
from connectors.updates import Dated, UpdateSign, as_utc

SOURCE_KINDS = SourceKinds({**SQL_KINDS, **REST_KINDS, **REMOTE_KINDS, **DROP_KINDS})
"""The kinds of source the platform reads; a test registers its own in a copy."""

__all__ = [
    "SOURCE_KINDS",
    "SUPPORTED",
    "And",
    "Capabilities",
    "CircuitOptions",
    "CircuitState",
    "Comparison",
    "Computed",
    "Computing",
    "Connector",
    "Dated",
    "DropOptions",
    "Flag",
    "GuardedConnector",
    "MemoryConnector",
    "Not",
    "Operator",
    "Or",
    "OrderKey",
    "Page",
    "Pagination",
    "Predicate",
    "Read",
    "ReadContext",
    "RemoteConnector",
    "RemoteOptions",
    "RestConnector",
    "RestOptions",
    "RetryOptions",
    "Row",
    "SourceKind",
    "SourceKinds",
    "SourceOptions",
    "SourceSetting",
    "SourceStats",
    "SqlConnector",
    "SqlOptions",
    "SqliteConnector",
    "Supported",
    "UpdateSign",
    "as_utc",
    "require_capabilities",
]
