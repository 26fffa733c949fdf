"""Source kinds: which connector reads a department's source, found by its URL's scheme,
and the typed options each kind takes.

A source is set (`GOV_SHARE_SOURCES`) as a URL, or as an object of options whose `url`
picks its kind: `{"url": "postgresql+asyncpg://…", "pool_size": 10}`. Each kind
validates its options with a pydantic model that refuses unknown ones, so a mistyped
option stops the server at start-up with the source and the setting named, never
silently ignored. A URL may hold a password: it is a `SecretStr` from here on, and no
problem this module reports quotes it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError
from pydantic_core import ErrorDetails

from connectors.base import Connector
from connectors.circuit import CircuitOptions
from connectors.guarded import GuardedConnector
from connectors.retries import RetryOptions
from errors import ConfigurationError

SourceSetting = str | Mapping[str, Any]
"""A source as settings give it: its URL, or its options as an object with a `url`."""
SETTING = "GOV_SHARE_SOURCES"
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")


class SourceOptions(BaseModel):
    """What every kind of source takes; a kind's own model adds its options."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: SecretStr
    timeout_seconds: float = Field(gt=0)
    """How long one read may take, connecting and retries included; by default
    GOV_SHARE_STATEMENT_TIMEOUT_SECONDS."""
    circuit: CircuitOptions = CircuitOptions()
    retries: RetryOptions = RetryOptions()


Options = TypeVar("Options", bound=SourceOptions)


@dataclass(frozen=True)
class SourceKind(Generic[Options]):
    options: type[Options]
    open: Callable[[str, Options], Connector]
    """Make the connector of the named source from its validated options."""


class SourceKinds:
    """The kinds of source the platform can read, by URL scheme."""

    def __init__(self, kinds: Mapping[str, SourceKind[Any]]) -> None:
        self._kinds = dict(kinds)

    def register(self, scheme: str, kind: SourceKind[Any]) -> None:
        if scheme in self._kinds:
            raise ValueError(f"a source kind already reads {scheme}:// URLs")
        self._kinds[scheme] = kind

    def copy(self) -> SourceKinds:
        """Another registry with the same kinds, for a test to register its own in."""
        return SourceKinds(self._kinds)

    def options(
        self, source: str, setting: SourceSetting, *, timeout_seconds: float
    ) -> tuple[SourceKind[Any], SourceOptions]:
        """The kind of `source` and its options, validated; a ConfigurationError naming
        the source and the setting if it has no known kind or its options do not hold."""
        values = {"url": setting} if isinstance(setting, str) else dict(setting)
        url = values.get("url")
        if not isinstance(url, str):
            raise _problem(source, "no url: a source is a URL, or an object of options with a url")
        scheme = _SCHEME.match(url)
        if scheme is None:
            raise _problem(
                source, "not a URL: a source's url begins with its scheme, e.g. sqlite://"
            )
        kind = self._kinds.get(scheme[1])
        if kind is None:
            known = ", ".join(f"{known}://" for known in sorted(self._kinds))
            raise _problem(source, f"no kind of source reads {scheme[1]}:// URLs (known: {known})")
        try:
            options = kind.options.model_validate({"timeout_seconds": timeout_seconds, **values})
        except ValidationError as invalid:
            told = [_told(error, kind) for error in invalid.errors(include_input=False)]
            raise _problem(source, "; ".join(told)) from None
        return kind, options

    def open(
        self, source: str, setting: SourceSetting, *, timeout_seconds: float
    ) -> GuardedConnector:
        """The kind's connector for `source`, behind its timeout, retries and circuit."""
        kind, options = self.options(source, setting, timeout_seconds=timeout_seconds)
        connector: Connector = kind.open(source, options)
        return GuardedConnector(
            connector,
            timeout_seconds=options.timeout_seconds,
            circuit=options.circuit,
            retries=options.retries,
        )


def _problem(source: str, problem: str) -> ConfigurationError:
    return ConfigurationError("settings", f"{SETTING} ({source})", problem)


def _told(error: ErrorDetails, kind: SourceKind[Any]) -> str:
    """One validation error in words that never quote the value (it may be a secret)."""
    name = ".".join(str(part) for part in error["loc"])
    if error["type"] == "extra_forbidden":
        model: Any = kind.options
        for part in error["loc"][:-1]:  # an option of an option (`circuit.failures`)
            model = model.model_fields[str(part)].annotation
        takes = ", ".join(model.model_fields)
        return f"unknown option {name!r}: this kind of source takes {takes}"
    return f"{name}: {error['msg']}"
