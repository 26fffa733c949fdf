"""Search the catalog's data items by Chinese or English name (Art. 9: find who already
holds a piece of data before collecting it again), and rank what is found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from catalog import DataItem, Department, Resource

MATCHES = ("exact", "contains", "overlap")
"""How a search matched, best first: the whole name, all of the text, enough of it."""
OVERLAP_AT_LEAST = 0.5


@dataclass(frozen=True)
class Entry:
    """One searchable data item: the names it is found by, and what a match answers."""

    answer: dict[str, Any]
    provider: Department
    resource: Resource
    item: DataItem
    name_zh: str
    bigrams: frozenset[str]
    english: tuple[str, ...]
    graphql: tuple[str, ...]
    words: frozenset[str]


def searchable(
    answer: dict[str, Any], provider: Department, resource: Resource, item: DataItem
) -> Entry:
    """`item`, found by its names; `answer` is what a match of it shows."""
    name_zh = item.name_zh.casefold()
    english, graphql = _words(item.english_name), _words(item.name)
    return Entry(
        answer,
        provider,
        resource,
        item,
        name_zh,
        _bigrams(name_zh),
        english,
        graphql,
        frozenset(english + graphql),
    )


Score = tuple[int, float]
"""(index in MATCHES, minus the similarity of the names): lower is better."""


def find(entries: list[Entry], text: str) -> list[tuple[Entry, str]]:
    """Best match first; equal matches keep catalog order. Blank text finds nothing."""
    folded, words = text.strip().casefold(), _words(text)
    if not folded:
        return []
    found: list[tuple[Score, int, Entry]] = []
    for index, entry in enumerate(entries):
        scores = [s for s in (_chinese(entry, folded), _english(entry, words)) if s]
        if scores:
            found.append((min(scores), index, entry))
    found.sort(key=lambda match: match[:2])
    return [(entry, MATCHES[score[0]]) for score, _, entry in found]


def _chinese(entry: Entry, text: str) -> Score | None:
    """Substring either way (住所 in 企业住所), else enough shared character pairs:
    身份证号码 and 公民身份号码 share 身份 and 号码."""
    name = entry.name_zh
    return _rank(text == name, text in name or name in text, _bigrams(text), entry.bigrams)


def _english(entry: Entry, words: tuple[str, ...]) -> Score | None:
    """Whole words, any case, of the English or the GraphQL name: `phone` finds phone,
    then contactPhone."""
    if not words:
        return None
    exact = words in (entry.english, entry.graphql)
    return _rank(exact, set(words) <= entry.words, frozenset(words), entry.words)


def _rank(
    exact: bool, contains: bool, wanted: frozenset[str], known: frozenset[str]
) -> Score | None:
    """Within a kind of match, the closer name first (Dice similarity): 持证人身份证号码
    before 法定代表人身份证号码. Overlap needs at least half of what was asked."""
    shared = len(wanted & known)
    similarity = 2 * shared / (len(wanted) + len(known) or 1)
    if exact:
        return 0, -1.0
    if contains:
        return 1, -similarity
    if wanted and shared / len(wanted) >= OVERLAP_AT_LEAST:
        return 2, -similarity
    return None


def _words(text: str) -> tuple[str, ...]:
    """`legalRepIdNumber` and `Legal rep ID number` → (legal, rep, id, number)."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", text)
    return tuple(re.findall(r"[a-z0-9]+", spaced.lower()))


def _bigrams(text: str) -> frozenset[str]:
    return frozenset(text[i : i + 2] for i in range(len(text) - 1))
