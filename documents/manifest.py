"""The two manifest formats department systems' build tools write, read into the
operations to register.

- Apollo's `apollo-persisted-query-manifest` (`generate-persisted-query-manifest`):
  `{"format": "apollo-persisted-query-manifest", "version": 1, "operations": [{"id",
  "name", "type", "body"}]}`; each id must be the SHA-256 of its body, which is
  recomputed here, as the persisted-documents appendix asks of a server.
- Relay's persisted queries (`relay-compiler --persist-output`): a JSON object of id →
  text, the ids Relay's own (MD5 of the text).

A manifest with any problem is refused whole, naming the operation and the problem:
nothing of it is registered.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from documents.store import CUSTOM_ID_LIMIT, NAME_LIMIT, RegistrationRefused, sha256_of

APOLLO_FORMAT = "apollo-persisted-query-manifest"
OPERATION_TYPES = ("query", "mutation", "subscription")
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class ManifestOperation:
    text: str
    custom_id: str | None
    """Relay's own id; None for Apollo's, whose id is the text's SHA-256."""
    name: str | None = None
    operation_type: str | None = None
    """What an Apollo manifest says the operation is: checked against the text."""

    @property
    def document_id(self) -> str:
        """What a call names it by, as `documents.Registered` says it."""
        return self.custom_id or f"sha256:{sha256_of(self.text)}"

    @property
    def label(self) -> str:
        """How a problem names the operation."""
        return f"{self.name} ({self.document_id})" if self.name else self.document_id


def read_manifest(content: str) -> list[ManifestOperation]:
    try:
        manifest = json.loads(content)
    except ValueError:
        raise RegistrationRefused("the manifest is not valid JSON") from None
    if isinstance(manifest, dict) and "format" in manifest:
        operations = _apollo(manifest)
    elif isinstance(manifest, dict):
        operations = _relay(manifest)
    else:
        raise RegistrationRefused(
            f"the manifest is neither an {APOLLO_FORMAT} object nor Relay's id → text object"
        )
    if not operations:
        raise RegistrationRefused("the manifest holds no operation")
    return operations


def _apollo(manifest: dict[str, Any]) -> list[ManifestOperation]:
    if manifest.get("format") != APOLLO_FORMAT or manifest.get("version") != 1:
        raise RegistrationRefused(f'expected "format": "{APOLLO_FORMAT}" and "version": 1')
    entries = manifest.get("operations")
    if not isinstance(entries, list):
        raise RegistrationRefused('"operations" must be a list')
    operations = []
    for number, entry in enumerate(entries, 1):
        if not isinstance(entry, dict):
            raise RegistrationRefused(f"operation {number} is not an object")
        identifier, name, kind, body = (entry.get(k) for k in ("id", "name", "type", "body"))
        where = f"operation {number} ({name})" if isinstance(name, str) else f"operation {number}"
        if not isinstance(body, str) or not body.strip():
            raise RegistrationRefused(f'{where}: "body" must be the operation\'s text')
        if not isinstance(identifier, str) or not _SHA256_HEX.fullmatch(identifier):
            raise RegistrationRefused(f'{where}: "id" must be 64 lowercase hex digits')
        if identifier != sha256_of(body):
            raise RegistrationRefused(f'{where}: "id" is not the SHA-256 of its "body"')
        if not isinstance(name, str) or not 0 < len(name) <= NAME_LIMIT:
            raise RegistrationRefused(
                f'{where}: "name" must be the operation\'s name, at most {NAME_LIMIT} characters'
            )
        if kind not in OPERATION_TYPES:
            raise RegistrationRefused(
                f'{where}: "type" must be one of {", ".join(OPERATION_TYPES)}'
            )
        operations.append(ManifestOperation(body, None, name, kind))
    return operations


def _relay(manifest: dict[str, Any]) -> list[ManifestOperation]:
    operations = []
    for identifier, text in manifest.items():
        if not 0 < len(identifier) <= CUSTOM_ID_LIMIT:
            raise RegistrationRefused(
                f"id {identifier[:40]!r}: ids are 1 to {CUSTOM_ID_LIMIT} characters"
            )
        if not isinstance(text, str) or not text.strip():
            raise RegistrationRefused(f"id {identifier!r}: the value must be the operation's text")
        operations.append(ManifestOperation(text, identifier))
    return operations
