"""Persisted documents: GraphQL documents a department system registered, called by id."""

from documents.store import DocumentStore, Owner, sha256_of

__all__ = ["DocumentStore", "Owner", "sha256_of"]
