"""Department data sources. A connector knows nothing of GraphQL or policy: it receives
a projection, keys and a page, and returns rows."""

from connectors.base import Capabilities, Connector, Page, Read, Row
from connectors.memory import MemoryConnector
from connectors.sql import SqlConnector

__all__ = ["Capabilities", "Connector", "MemoryConnector", "Page", "Read", "Row", "SqlConnector"]
