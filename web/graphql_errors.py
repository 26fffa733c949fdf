"""The errors of an operation run against one of the platform's own schemas (the policy
admins', the auditors'): a refusal says why; anything else is an internal error, its
message unsent."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError

from errors import BadUserInput, GovShareError


def formatted(error: GraphQLError) -> dict[str, Any]:
    original = error.original_error
    if isinstance(original, GovShareError):
        return {
            **error.formatted,
            "message": original.message,
            "extensions": original.as_extensions(),
        }
    if original is None:  # a variable that does not coerce: GraphQL's own words
        return {**error.formatted, "extensions": {"code": BadUserInput.code}}
    raise original  # the edge answers INTERNAL_ERROR (or 503 for the store) and logs where
