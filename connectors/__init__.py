"""Department data sources. A connector knows nothing of GraphQL or policy: it receives
a projection, keys and a page, and returns rows."""

from connectors.base import (
    And,
    Capabilities,
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
    Row,
)
from connectors.memory import MemoryConnector
from connectors.sql import SqlConnector, open_connector
from connectors.sqlite import SqliteConnector

__all__ = [
    "And",
    "Capabilities",
    "Comparison",
    "Computed",
    "Connector",
    "Flag",
    "MemoryConnector",
    "Not",
    "Operator",
    "Or",
    "OrderKey",
    "Page",
    "Predicate",
    "Read",
    "Row",
    "SqlConnector",
    "SqliteConnector",
    "open_connector",
]
