"""A grant's row scope: which rows a grant covers, by the caller's own attributes.

A scope is a conjunction of `item=attribute` terms: a row is inside when each item's
value equals the caller's attribute of that name ("only persons registered in the
consumer's township": `township=township`). The parameters come from the caller's API
key, never from the query, so a consumer cannot widen its own scope.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_TERM = re.compile(r"([A-Za-z][A-Za-z0-9]*)=([a-z][a-z0-9_]*)")


@dataclass(frozen=True)
class ScopeTerm:
    item: str
    attribute: str


@dataclass(frozen=True)
class Scope:
    terms: tuple[ScopeTerm, ...]

    @classmethod
    def parse(cls, text: str) -> Scope:
        """`item=attribute[ & item=attribute…]`; raises ValueError naming the bad term."""
        terms = []
        for part in text.split("&"):
            match = _TERM.fullmatch(part.strip())
            if match is None:
                raise ValueError(
                    f"scope term {part.strip()!r} is not 'item=attribute' "
                    "(a data item of the resource, an attribute of the caller)"
                )
            terms.append(ScopeTerm(match[1], match[2]))
        if len({term.item for term in terms}) < len(terms):
            raise ValueError(f"scope {text!r} names an item twice")
        return cls(tuple(sorted(terms, key=lambda term: (term.item, term.attribute))))

    @property
    def text(self) -> str:
        """The canonical form, as rules carry it and requests ask for it."""
        return " & ".join(f"{term.item}={term.attribute}" for term in self.terms)

    def holds(self, values: Mapping[str, Any], attributes: Mapping[str, str]) -> bool:
        """Whether a row (item name → value) is inside, for a caller with `attributes`.
        A missing attribute or a NULL value is outside, as SQL's `=` would have it."""
        for term in self.terms:
            expected = attributes.get(term.attribute)
            value = values.get(term.item)
            if expected is None or value is None or value != expected:
                return False
        return True
