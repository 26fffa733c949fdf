"""Every error the platform can return, with its `extensions.code` and safe message.

    GovShareError
    ├── RequestError                  the whole request is refused (HTTP status)
    │   ├── Unauthenticated           401 UNAUTHENTICATED
    │   ├── BadRequest                400 BAD_REQUEST
    │   ├── PersistedQueryNotSupported
    │   │                             400 PERSISTED_QUERY_NOT_SUPPORTED
    │   ├── BadHeader                 400 BAD_HEADER
    │   ├── BadPurpose                400 BAD_PURPOSE
    │   ├── DocumentError             400, or 200 with application/json
    │   │   ├── ParseFailed           GRAPHQL_PARSE_FAILED
    │   │   ├── ValidationFailed      GRAPHQL_VALIDATION_FAILED
    │   │   ├── UnknownOperation      BAD_REQUEST
    │   │   └── BadUserInput          BAD_USER_INPUT
    │   ├── NotFound                  404 NOT_FOUND
    │   ├── NotAcceptable             406 NOT_ACCEPTABLE
    │   ├── UnsupportedMediaType      415 UNSUPPORTED_MEDIA_TYPE
    │   ├── InternalError             500 INTERNAL_ERROR
    │   └── AuditUnavailable          503 AUDIT_UNAVAILABLE
    └── FieldError                    one field of the response is withheld
        ├── FieldDenied               NOT_SHARED / APPLICATION_REQUIRED
        │                             PURPOSE_REQUIRED / NOT_OPEN
        │                             MASKED_ONLY / NOT_VERIFIABLE
        │                             OUT_OF_SCOPE
        ├── SourceUnavailable         SOURCE_UNAVAILABLE
        ├── PushdownRefused           PUSHDOWN_REFUSED
        ├── LimitExceeded             LIMIT_EXCEEDED
        ├── BadCursor                 BAD_CURSOR
        └── QuotaExceeded             QUOTA_EXCEEDED

Messages never carry data values: they are built here from catalog names only.
Startup errors (bad catalog or rule file) are `ConfigurationError`, not served.
"""

from __future__ import annotations

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


class PersistedQueryNotSupported(RequestError):
    """A hash without the document's text. Apollo Client matches this exact message,
    then stops hashing and sends the text instead."""

    code = "PERSISTED_QUERY_NOT_SUPPORTED"
    outcome = "persisted_query"

    def __init__(self) -> None:
        super().__init__("PersistedQueryNotSupported")


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


class NotAcceptable(RequestError):
    code = "NOT_ACCEPTABLE"
    status_code = 406
    outcome = "not_acceptable"


class UnsupportedMediaType(RequestError):
    code = "UNSUPPORTED_MEDIA_TYPE"
    status_code = 415
    outcome = "bad_media_type"


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


DENIAL_CODES = (
    "NOT_SHARED",
    "APPLICATION_REQUIRED",
    "PURPOSE_REQUIRED",
    "NOT_OPEN",
    "MASKED_ONLY",
    "NOT_VERIFIABLE",
    "OUT_OF_SCOPE",
)
"""The reasons the policy gives for a denied field: the codes of `FieldDenied`."""


class FieldDenied(FieldError):
    """A field the caller may not read; `code` is the reason the policy gave."""

    def __init__(self, code: str, message: str, **extensions: Any) -> None:
        if code not in DENIAL_CODES:
            raise ValueError(f"{code!r} is not a denial reason")
        super().__init__(message, **extensions)
        self.code = code


class SourceUnavailable(FieldError):
    code = "SOURCE_UNAVAILABLE"


class PushdownRefused(FieldError):
    code = "PUSHDOWN_REFUSED"


class LimitExceeded(FieldError):
    code = "LIMIT_EXCEEDED"


class BadCursor(FieldError):
    code = "BAD_CURSOR"


class QuotaExceeded(FieldError):
    code = "QUOTA_EXCEEDED"


def codes() -> frozenset[str]:
    """Every `extensions.code` the platform can return; the README lists each of them."""
    found, pending = set(DENIAL_CODES), [GovShareError]
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


def not_shared(field: str, name_zh: str, legal_basis: str) -> FieldDenied:
    return FieldDenied(
        "NOT_SHARED",
        f"{field} ({name_zh}) is not shared; legal basis: {legal_basis}",
        field=field,
        legalBasis=legal_basis,
    )


def application_required(field: str, name_zh: str, application: dict[str, Any]) -> FieldDenied:
    return FieldDenied(
        "APPLICATION_REQUIRED",
        f"{field} ({name_zh}) is shared on conditions: apply to {application['provider']} for "
        f"{application['resourceName']} ({application['resourceCode']}) "
        f"with purpose {application['purpose']}",
        field=field,
        application=application,
    )


def purpose_required(field: str, name_zh: str) -> FieldDenied:
    return FieldDenied(
        "PURPOSE_REQUIRED",
        f"{field} ({name_zh}) is shared on conditions: declare a purpose in X-Purpose",
        field=field,
    )


def not_open(field: str) -> FieldDenied:
    return FieldDenied(
        "NOT_OPEN",
        f"{field} is not open to the public: present a department system's API key",
        field=field,
    )


def masked_only(field: str, name_zh: str) -> FieldDenied:
    """Filtering, ordering or counting on a masked item would reveal it bit by bit."""
    return FieldDenied(
        "MASKED_ONLY",
        f"{field} ({name_zh}) is shared with you masked: it cannot be filtered, ordered, "
        "counted or paged on",
        field=field,
    )


def not_verifiable(field: str, name_zh: str) -> FieldDenied:
    return FieldDenied(
        "NOT_VERIFIABLE",
        f"{field} ({name_zh}) cannot be verified by you: it needs a grant for data_verification",
        field=field,
    )


def out_of_scope(field: str, name_zh: str) -> FieldDenied:
    return FieldDenied(
        "OUT_OF_SCOPE",
        f"{field} ({name_zh}) is withheld for records outside the scope of your grant",
        field=field,
    )


def rests_on(field: str, denial: FieldDenied) -> FieldDenied:
    """A relationship or root field denied because an item it joins or filters on is."""
    item = denial.extensions["field"]
    extensions = {name: value for name, value in denial.extensions.items() if name != "field"}
    return FieldDenied(
        denial.code,
        f"{field} rests on {item}: {denial.message}",
        field=field,
        restsOn=item,
        **extensions,
    )


def with_application_fields(denial: FieldDenied, fields: dict[str, list[str]]) -> FieldDenied:
    application = denial.extensions.get("application")
    if application is None:
        return denial
    wanted = sorted(set(fields[application["resource"]]))
    extensions = {**denial.extensions, "application": {**application, "fields": wanted}}
    return FieldDenied(denial.code, denial.message, **extensions)
