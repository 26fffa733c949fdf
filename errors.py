"""Every error the platform can return, with its `extensions.code` and safe message.

    GovShareError
    ├── RequestError                  the whole request is refused (HTTP status)
    │   ├── Unauthenticated           401 UNAUTHENTICATED
    │   ├── BadRequest                400 BAD_REQUEST
    │   ├── PersistedQueryNotFound    400 PERSISTED_QUERY_NOT_FOUND
    │   ├── PersistedQueryMismatch    400 PERSISTED_QUERY_HASH_MISMATCH
    │   ├── PersistedQueryRequired    400 PERSISTED_QUERY_REQUIRED
    │   ├── DocumentPurposeRefused    400 DOCUMENT_PURPOSE_REFUSED
    │   ├── BadHeader                 400 BAD_HEADER
    │   ├── BadPurpose                400 BAD_PURPOSE
    │   ├── DocumentError             400, or 200 with application/json
    │   │   ├── ParseFailed           GRAPHQL_PARSE_FAILED
    │   │   ├── ValidationFailed      GRAPHQL_VALIDATION_FAILED
    │   │   ├── UnknownOperation      BAD_REQUEST
    │   │   └── BadUserInput          BAD_USER_INPUT
    │   ├── Forbidden                 403 FORBIDDEN
    │   ├── NotFound                  404 NOT_FOUND
    │   ├── MethodNotAllowed          405 METHOD_NOT_ALLOWED
    │   ├── NotAcceptable             406 NOT_ACCEPTABLE
    │   ├── UnsupportedMediaType      415 UNSUPPORTED_MEDIA_TYPE
    │   ├── RateLimited               429 RATE_LIMITED
    │   ├── InternalError             500 INTERNAL_ERROR
    │   └── AuditUnavailable          503 AUDIT_UNAVAILABLE
    └── FieldError                    one field of the response is withheld
        ├── FieldDenied               a DenialReason: NOT_SHARED
        │                             APPLICATION_REQUIRED / PURPOSE_REQUIRED
        │                             NOT_OPEN / MASKED_ONLY
        │                             NOT_VERIFIABLE / OUT_OF_SCOPE
        ├── SourceUnavailable         SOURCE_UNAVAILABLE
        ├── PushdownRefused           PUSHDOWN_REFUSED
        ├── LimitExceeded             LIMIT_EXCEEDED
        ├── BadCursor                 BAD_CURSOR
        ├── QuotaExceeded             QUOTA_EXCEEDED
        ├── ManifestRefused           MANIFEST_REFUSED
        ├── ApplicationInvalid        APPLICATION_INVALID
        ├── ApplicationNotFound       APPLICATION_NOT_FOUND
        ├── ApplicationDuplicate      APPLICATION_DUPLICATE
        └── ApplicationStateConflict  APPLICATION_STATE_CONFLICT

Messages never carry data values: they are built from catalog names only. A denial
is decided as plain data (`policies.decision.Denial`) and worded in one place,
`resolvers.denials`. A platform store that does not answer is `store.StoreUnavailable`,
which the edge answers with AuditUnavailable. Startup errors (bad catalog or rule
file) are `ConfigurationError`, not served.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class GovShareError(Exception):
    code: str = "INTERNAL_ERROR"

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions = extensions

    def as_extensions(self) -> dict[str, Any]:
        return {"code": self.code, **self.extensions}


class RequestError(GovShareError):
    status_code: int = 400
    outcome: str = "refused"
    """The audit record's outcome: a short name (the store's column holds 20 characters);
    the record's error codes carry the code itself."""


class Unauthenticated(RequestError):
    code = "UNAUTHENTICATED"
    status_code = 401
    outcome = "unauthenticated"


class BadRequest(RequestError):
    code = "BAD_REQUEST"
    outcome = "bad_request"


class PersistedQueryNotFound(RequestError):
    """A document id this caller's system has not registered: Apollo Client matches the
    message `PersistedQueryNotFound` (not the code) and sends the text with the hash."""

    code = "PERSISTED_QUERY_NOT_FOUND"
    outcome = "persisted_query"

    def __init__(self, message: str = "PersistedQueryNotFound") -> None:
        super().__init__(message)


class PersistedQueryMismatch(RequestError):
    """A text whose SHA-256 is not the hash sent with it: nothing is stored or run."""

    code = "PERSISTED_QUERY_HASH_MISMATCH"
    outcome = "persisted_mismatch"


class PersistedQueryRequired(RequestError):
    """Free text from a system set persisted-only that matches none of its registered
    (or shared) documents."""

    code = "PERSISTED_QUERY_REQUIRED"
    outcome = "persisted_required"


class DocumentPurposeRefused(RequestError):
    """A registered document called for a purpose it is not bound to."""

    code = "DOCUMENT_PURPOSE_REFUSED"
    outcome = "document_purpose"


class Forbidden(RequestError):
    """An administrative operation by a caller without the role it needs."""

    code = "FORBIDDEN"
    status_code = 403
    outcome = "forbidden"


class BadHeader(RequestError):
    code = "BAD_HEADER"
    outcome = "bad_header"


class BadPurpose(RequestError):
    code = "BAD_PURPOSE"
    outcome = "bad_purpose"


class NotFound(RequestError):
    code = "NOT_FOUND"
    status_code = 404
    outcome = "not_found"


class MethodNotAllowed(RequestError):
    """A mutation sent by GET (GraphQL over HTTP): GET must not change anything."""

    code = "METHOD_NOT_ALLOWED"
    status_code = 405
    outcome = "bad_method"


class NotAcceptable(RequestError):
    code = "NOT_ACCEPTABLE"
    status_code = 406
    outcome = "not_acceptable"


class UnsupportedMediaType(RequestError):
    code = "UNSUPPORTED_MEDIA_TYPE"
    status_code = 415
    outcome = "bad_media_type"


class RateLimited(RequestError):
    """Over a rate (`throttle`): the caller system's, its department's, or its client
    address's failed authentications. `retry_after` is sent as Retry-After too."""

    code = "RATE_LIMITED"
    status_code = 429
    outcome = "rate_limited"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, retryAfterSeconds=retry_after)
        self.retry_after = retry_after


class InternalError(RequestError):
    """Something failed that should not have; its message may quote data, so it is
    neither sent nor logged: the request id leads to the record and the log line."""

    code = "INTERNAL_ERROR"
    status_code = 500
    outcome = "internal_error"

    def __init__(self) -> None:
        super().__init__("the platform failed to answer; quote the request id when reporting it")


class DocumentError(RequestError):
    """The document cannot run as sent. GraphQL over HTTP answers these 400 in its own
    media type and 200 with application/json (`web.exchange`): the request was
    well-formed, the GraphQL in it is not."""

    outcome = "invalid"


class ParseFailed(DocumentError):
    code = "GRAPHQL_PARSE_FAILED"


class ValidationFailed(DocumentError):
    code = "GRAPHQL_VALIDATION_FAILED"


class UnknownOperation(DocumentError):
    """An `operationName` the document does not define."""

    code = "BAD_REQUEST"


class BadUserInput(DocumentError):
    """A variable or argument value that does not fit its type: named, never quoted."""

    code = "BAD_USER_INPUT"


class AuditUnavailable(RequestError):
    code = "AUDIT_UNAVAILABLE"
    status_code = 503
    outcome = "audit_unavailable"


class FieldError(GovShareError):
    pass


class DenialReason(StrEnum):
    """Why the policy denies a field: the codes of `FieldDenied`. `policies` gives the
    reason as plain data; `resolvers.denials` words it for the caller."""

    NOT_SHARED = "NOT_SHARED"
    APPLICATION_REQUIRED = "APPLICATION_REQUIRED"
    PURPOSE_REQUIRED = "PURPOSE_REQUIRED"
    NOT_OPEN = "NOT_OPEN"
    MASKED_ONLY = "MASKED_ONLY"
    NOT_VERIFIABLE = "NOT_VERIFIABLE"
    OUT_OF_SCOPE = "OUT_OF_SCOPE"


class FieldDenied(FieldError):
    """A field the caller may not read; `code` is the reason the policy gave."""

    def __init__(self, reason: DenialReason, message: str, **extensions: Any) -> None:
        super().__init__(message, **extensions)
        self.code = reason.value


class SourceFailure(StrEnum):
    """How a source failed to answer: what its metrics count, and whether reading again
    at once may help (only a TRANSIENT failure is retried)."""

    TIMEOUT = "timeout"
    """The read took its source's time; another attempt would take more."""
    TRANSIENT = "transient"
    """The connection was lost or reset, or a gateway said the source is busy."""
    ERROR = "error"
    """The source answered with an error, or refused the read."""
    CIRCUIT_OPEN = "circuit_open"
    """Not asked: the source failed too often of late (`connectors.circuit`)."""


class SourceUnavailable(FieldError):
    code = "SOURCE_UNAVAILABLE"

    def __init__(
        self, message: str, *, failure: SourceFailure = SourceFailure.ERROR, **extensions: Any
    ) -> None:
        super().__init__(message, **extensions)
        self.failure = failure
        """For the platform, never the caller: it is not among the extensions."""


class PushdownRefused(FieldError):
    code = "PUSHDOWN_REFUSED"


class LimitExceeded(FieldError):
    code = "LIMIT_EXCEEDED"


class BadCursor(FieldError):
    code = "BAD_CURSOR"


class QuotaExceeded(FieldError):
    code = "QUOTA_EXCEEDED"


class ManifestRefused(FieldError):
    """A manifest the admin mutation cannot register (an operation that does not
    validate, a changed document, an unknown system): nothing of it is registered."""

    code = "MANIFEST_REFUSED"


class ApplicationInvalid(FieldError):
    """An application or answer that cannot be taken as sent (an unknown item, an
    unconditional one, no reason for a refusal, an approval wider than asked)."""

    code = "APPLICATION_INVALID"


class ApplicationNotFound(FieldError):
    """No such application, or not one the caller may see or answer: the same words,
    so that nobody learns of another department's applications by their numbers."""

    code = "APPLICATION_NOT_FOUND"


class ApplicationDuplicate(FieldError):
    """An open application of the same consumer already asks for an item of this one:
    `extensions.openApplication` is its number."""

    code = "APPLICATION_DUPLICATE"


class ApplicationStateConflict(FieldError):
    """A step the application's state does not allow (answer twice, approve a refused
    one): `extensions.state` is the state found."""

    code = "APPLICATION_STATE_CONFLICT"


def codes() -> frozenset[str]:
    """Every `extensions.code` the platform can return; the README lists each of them."""
    found, pending = {reason.value for reason in DenialReason}, [GovShareError]
    while pending:
        kind = pending.pop()
        pending.extend(kind.__subclasses__())
        if "code" in vars(kind) and kind is not GovShareError:
            found.add(kind.code)
    return frozenset(found)


class ConfigurationError(Exception):
    """A catalog, rule or settings file the platform refuses to start with."""

    def __init__(self, file: str, where: str, problem: str) -> None:
        super().__init__(f"{file}: {where}: {problem}" if where else f"{file}: {problem}")
        self.file = file
        self.where = where
        self.problem = problem
