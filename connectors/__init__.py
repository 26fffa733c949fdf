"""Department data sources. A connector knows nothing of GraphQL or policy: it receives
a projection, keys and a page, and returns rows."""

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
from connectors.memory import MemoryConnector
from connectors.sql import SqlConnector, open_connector
from connectors.sqlite import SqliteConnector

__all__ = [
    "SUPPORTED",
    "And",
    "Capabilities",
    "Comparison",
    "Computed",
    "Computing",
    "Connector",
    "Flag",
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
    "Row",
    "SqlConnector",
    "SqliteConnector",
    "Supported",
    "open_connector",
    "require_capabilities",
]
