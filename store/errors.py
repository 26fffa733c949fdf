"""What a room that reads the platform store raises when the store does not answer."""

from __future__ import annotations


class StoreUnavailable(Exception):
    """The platform store did not answer (the key lookup, the verification quota).

    A plain exception, not a response: the edge decides what the caller is told, and
    tells it 503 AUDIT_UNAVAILABLE, since the same store keeps the audit log and nothing
    can be served without its record. The cause is not kept: a database error's text
    may quote a statement's parameters."""
