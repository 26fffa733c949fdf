"""Media types, as GraphQL over HTTP and RFC 9110 compare them: case-insensitively, with
Accept's quality values and its most specific matching range deciding.

Responses are always UTF-8: a range naming another charset does not match.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
HTML = "text/html"

_QUALITY = re.compile(r"0(\.\d{0,3})?|1(\.0{0,3})?")


@dataclass(frozen=True)
class MediaRange:
    type: str
    subtype: str
    quality: float
    charset: str | None

    def specificity(self, media_type: str) -> int:
        """How closely this range names `media_type`: 3 exactly, 2 type/*, 1 */*, 0 not."""
        kind, _, sub = media_type.partition("/")
        if self.charset not in (None, "utf-8"):
            return 0
        if (self.type, self.subtype) == (kind, sub):
            return 3
        if (self.type, self.subtype) == (kind, "*"):
            return 2
        return 1 if (self.type, self.subtype) == ("*", "*") else 0


def parse_media_type(value: str) -> tuple[str, dict[str, str]]:
    """'Application/JSON; Charset=UTF-8' -> ('application/json', {'charset': 'utf-8'})."""
    essence, *parameters = value.split(";")
    found = {}
    for parameter in parameters:
        name, _, text = parameter.partition("=")
        found[name.strip().lower()] = text.strip().strip('"').lower()
    return essence.strip().lower(), found


def parse_accept(header: str) -> list[MediaRange]:
    """The ranges of an Accept header; a malformed range is left out."""
    ranges = []
    for part in header.split(","):
        essence, parameters = parse_media_type(part)
        kind, slash, sub = essence.partition("/")
        quality = parameters.get("q", "1")
        if not (kind and slash and sub) or not _QUALITY.fullmatch(quality):
            continue
        ranges.append(MediaRange(kind, sub, float(quality), parameters.get("charset")))
    return ranges


def quality(ranges: Sequence[MediaRange], media_type: str, *, exact: bool = False) -> float:
    """The quality of `media_type` under its most specific matching range (0: none).

    `exact`: only a range naming the type itself counts, not a wildcard."""
    best, found = 0, 0.0
    for media_range in ranges:
        specificity = media_range.specificity(media_type)
        if specificity > best and (specificity == 3 or not exact):
            best, found = specificity, media_range.quality
    return found


@functools.lru_cache(maxsize=64)
def negotiate(accept: str | None) -> str | None:
    """The response's media type, or None if the client accepts neither.

    Remembered per Accept header text (a client sends the same one every time): it
    depends on that text alone, never on who sends it.

    No Accept header means application/graphql-response+json (the specification's rule
    from 2025-01-01); on equal quality that type wins too."""
    if accept is None or not accept.strip():
        return GRAPHQL_RESPONSE
    ranges = parse_accept(accept)
    graphql, json = quality(ranges, GRAPHQL_RESPONSE), quality(ranges, JSON)
    if max(graphql, json) == 0:
        return None
    return GRAPHQL_RESPONSE if graphql >= json else JSON


def prefers_html(accept: str | None) -> bool:
    """A browser asking for a page: text/html named, and liked at least as much as JSON."""
    ranges = parse_accept(accept or "")
    html = quality(ranges, HTML, exact=True)
    return html > 0 and html >= max(quality(ranges, GRAPHQL_RESPONSE), quality(ranges, JSON))
