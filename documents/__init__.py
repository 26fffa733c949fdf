"""Persisted and trusted documents: GraphQL documents a department system registered,
called by id or matched as free text, per system and mode."""

from documents.modes import Mode, Modes
from documents.room import TrustedDocuments
from documents.store import DocumentStore, Owner, Registered, normalised, sha256_of

__all__ = [
    "DocumentStore",
    "Mode",
    "Modes",
    "Owner",
    "Registered",
    "TrustedDocuments",
    "normalised",
    "sha256_of",
]
